"""Data-movement ops: exact affine access where it exists, opaque where not; folding of forwards."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from stream_core.context import RunContext, RunOptions
from stream_core.errors import InputError
from stream_core.ir import NodeKind, OperandRole

F32 = TensorProto.FLOAT
I64 = TensorProto.INT64


def accesses(node):
    return {op.tensor: None if op.access is None else [str(e) for e in op.access] for op in node.operands}


def points(node):
    for values in itertools.product(*(range(loop.size) for loop in node.loops)):
        yield dict(zip(node.loop_names, values, strict=True))


def linear(operand, point, shape):
    return int(np.ravel_multi_index([e.evaluate(point) for e in operand.access], shape)) if shape else 0


def assert_same_element_everywhere(node, in_shape, out_shape):
    """Independent check: for every loop point, input and output address the same row-major element."""
    src, dst = node.operands[0], node.output
    seen = {linear(dst, p, out_shape) for p in points(node) if linear(src, p, in_shape) == linear(dst, p, out_shape)}
    assert len(seen) == int(np.prod(out_shape)) == node.iteration_points


@pytest.mark.parametrize(
    ("in_shape", "out_shape", "loops"),
    [
        ([2, 3, 4], [6, 4], [2, 3, 4]),
        ([6, 4], [2, 3, 2, 2], [2, 3, 2, 2]),
        ([2, 6], [4, 3], [2, 2, 3]),  # 2*6 -> 4*3 via pieces 2, 2, 3
        ([1, 12, 1], [3, 1, 4], [3, 4]),  # size-1 axes read index 0
    ],
)
def test_affine_reshape_is_exact(model, parse, in_shape, out_shape, loops):
    node = helper.make_node("Reshape", ["x", "shape"], ["y"], name="r")
    shape = np.array(out_shape, np.int64)
    w = parse(model([node], {"x": (F32, in_shape)}, {"y": (F32, out_shape)}, initializers={"shape": shape}))
    r = w.node("r")
    assert r.kind is NodeKind.DATA_MOVEMENT and r.macs == 0
    assert [loop.size for loop in r.loops] == loops
    assert_same_element_everywhere(r, in_shape, out_shape)
    assert "shape" not in w.tensors and "shape" not in w.constants


def test_a_reshape_that_keeps_the_shape_folds_away(model, parse):
    """Reshape [1, 3, 4, 4] -> [1, 3, 4, 4] between two relus (Stream's resnet_dual_residual block
    boundary): no node, so no fusion cut; the second relu reads the first one's output. As a graph
    output it stays a copy node."""
    shape = np.array([1, 3, 4, 4], np.int64)
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu_a"),
        helper.make_node("Reshape", ["a", "shape"], ["r"], name="boundary"),
        helper.make_node("Relu", ["r"], ["y"], name="relu_b"),
    ]
    w = parse(model(nodes, {"x": (F32, [1, 3, 4, 4])}, {"y": (F32, [1, 3, 4, 4])}, initializers={"shape": shape}))
    assert [n.name for n in w.nodes] == ["relu_a", "relu_b"]
    assert [op.tensor for op in w.node("relu_b").reads] == ["a"]
    last = helper.make_node("Reshape", ["x", "shape"], ["y"], name="out")
    kept = parse(model([last], {"x": (F32, [1, 3, 4, 4])}, {"y": (F32, [1, 3, 4, 4])}, initializers={"shape": shape}))
    assert [n.name for n in kept.nodes] == ["out"] and kept.node("out").kind is NodeKind.DATA_MOVEMENT


def test_reshape_without_common_refinement_is_opaque(model, parse):
    node = helper.make_node("Reshape", ["x", "shape"], ["y"], name="r")
    shape = np.array([6, 4], np.int64)
    w = parse(model([node], {"x": (F32, [4, 6])}, {"y": (F32, [6, 4])}, initializers={"shape": shape}))
    r = w.node("r")
    assert accesses(r) == {"x": None, "y": ["D", "K"]}
    assert r.footprint_elements(r.operands[0], w.tensor("x")) == 24  # the whole tensor


def test_flatten_squeeze_unsqueeze(model, parse):
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="flat", axis=1),
        helper.make_node("Unsqueeze", ["f", "ax"], ["u"], name="unsq"),
        helper.make_node("Squeeze", ["u", "ax"], ["y"], name="sq"),
    ]
    ax = np.array([1], np.int64)
    w = parse(model(nodes, {"x": (F32, [2, 3, 1, 4])}, {"y": (F32, [2, 12])}, initializers={"ax": ax}))
    assert accesses(w.node("flat")) == {"x": ["B", "D", "0", "K"], "f": ["B", "4*D + K"]}
    assert accesses(w.node("unsq")) == {"f": ["D", "K"], "u": ["D", "0", "K"]}
    assert accesses(w.node("sq")) == {"u": ["D", "0", "K"], "y": ["D", "K"]}
    assert_same_element_everywhere(w.node("flat"), [2, 3, 1, 4], [2, 12])


def test_transpose_permutes_access(model, parse):
    node = helper.make_node("Transpose", ["x"], ["y"], name="t", perm=[0, 2, 3, 1])
    w = parse(model([node], {"x": (F32, [2, 3, 4, 5])}, {"y": (F32, [2, 4, 5, 3])}))
    t = w.node("t")
    assert [(loop.name, loop.size) for loop in t.loops] == [("B", 2), ("C", 4), ("OY", 5), ("OX", 3)]
    assert accesses(t) == {"x": ["B", "OX", "C", "OY"], "y": ["B", "C", "OY", "OX"]}
    values = np.arange(120).reshape(2, 3, 4, 5)
    expected = values.transpose(0, 2, 3, 1)
    for p in points(t):
        assert (
            values[tuple(e.evaluate(p) for e in t.operands[0].access)]
            == expected[tuple(e.evaluate(p) for e in t.output.access)]
        )


def test_transpose_default_reverses(model, parse):
    node = helper.make_node("Transpose", ["x"], ["y"], name="t")
    w = parse(model([node], {"x": (F32, [2, 3])}, {"y": (F32, [3, 2])}))
    assert accesses(w.node("t"))["x"] == ["K", "D"]


def test_transpose_folds_into_its_reader(model, parse):
    """onnx.fold_transpose (the default): the MatMul reads k (5, 2, 4) through kt = k.transpose(1, 2, 0):
    kt[b, c, n] = k[n, b, c], so its (B, C, K) access on kt becomes (K, B, C) on k; same MACs, no Transpose
    node."""
    nodes = [
        helper.make_node("Transpose", ["k"], ["kt"], name="t", perm=[1, 2, 0]),
        helper.make_node("MatMul", ["q", "kt"], ["y"], name="mm"),
    ]
    onnx_model = model(nodes, {"q": (F32, [2, 6, 4]), "k": (F32, [5, 2, 4])}, {"y": (F32, [2, 6, 5])})
    kept = parse(onnx_model, data_inputs=["q", "k"], fold_transpose="false")
    assert [n.name for n in kept.nodes] == ["t", "mm"]
    folded = parse(onnx_model, data_inputs=["q", "k"])
    assert [n.name for n in folded.nodes] == ["mm"]
    mm = folded.node("mm")
    assert mm.macs == kept.node("mm").macs == 2 * 6 * 5 * 4
    assert accesses(mm) == {"q": ["B", "D", "C"], "k": ["K", "B", "C"], "y": ["B", "D", "K"]}
    assert {op.tensor: op.role for op in mm.reads} == {"q": OperandRole.INPUT, "k": OperandRole.INPUT}
    assert "kt" not in folded.tensors
    values = np.arange(40).reshape(5, 2, 4)
    transposed = values.transpose(1, 2, 0)
    for p in points(mm):
        assert values[tuple(e.evaluate(p) for e in mm.operands[1].access)] == transposed[p["B"], p["C"], p["K"]]


def test_folded_transposes_are_noted_and_graph_outputs_kept(model, parse, context):
    nodes = [
        helper.make_node("Transpose", ["x"], ["xt"], name="inner", perm=[1, 0]),
        helper.make_node("Relu", ["xt"], ["r"], name="relu"),
        helper.make_node("Transpose", ["r"], ["y"], name="outer", perm=[1, 0]),
    ]
    ctx = RunContext(plugins=context.plugins, options=RunOptions(settings={"onnx.fold_transpose": "on"}))
    w = parse(model(nodes, {"x": (F32, [2, 3])}, {"y": (F32, [2, 3])}), ctx)
    assert [n.name for n in w.nodes] == ["relu", "outer"]  # a graph output cannot be folded
    assert accesses(w.node("relu")) == {"x": ["K", "D"], "r": ["D", "K"]}
    assert any("inner (Transpose perm=[1, 0])" in warning and "outer" not in warning for warning in ctx.warnings)


def test_fold_transpose_setting_must_be_a_flag(model, parse):
    node = helper.make_node("Transpose", ["x"], ["y"], name="t")
    with pytest.raises(InputError, match=r"onnx\.fold_transpose.*expected true or false"):
        parse(model([node], {"x": (F32, [2, 3])}, {"y": (F32, [3, 2])}), fold_transpose="maybe")


def test_concat_offsets_and_tile_footprints(model, parse):
    node = helper.make_node("Concat", ["a", "b", "c"], ["y"], name="cat", axis=1)
    inputs = {"a": (F32, [2, 3]), "b": (F32, [2, 5]), "c": (F32, [2, 1])}
    w = parse(model([node], inputs, {"y": (F32, [2, 9])}))
    cat = w.node("cat")
    assert accesses(cat) == {"a": ["D", "K"], "b": ["D", "K - 3"], "c": ["D", "K - 8"], "y": ["D", "K"]}
    # output columns 0..3 touch a[:, 0:3] and b[:, 0:1] but nothing of c
    tile = cat.with_sizes({"K": 4})
    assert [tile.footprint_elements(op, w.tensor(op.tensor)) for op in tile.reads] == [6, 2, 0]


def test_split_makes_one_node_per_output(model, parse):
    node = helper.make_node("Split", ["x", "split"], ["p", "q"], name="sp", axis=-1)
    m = model(
        [node],
        {"x": (F32, [4, 10])},
        {"p": (F32, [4, 3]), "q": (F32, [4, 7])},
        initializers={"split": np.array([3, 7], np.int64)},
    )
    w = parse(m)
    assert [n.name for n in w.nodes] == ["sp_0", "sp_1"]
    assert accesses(w.node("sp_0")) == {"x": ["D", "K"], "p": ["D", "K"]}
    assert accesses(w.node("sp_1")) == {"x": ["D", "K + 3"], "q": ["D", "K"]}
    assert w.node("sp_1").attribute("offset") == 3
    assert w.outputs == ("p", "q")  # every graph output is kept


@pytest.mark.parametrize(
    ("starts", "ends", "axes", "steps", "out_shape", "expected"),
    [
        ([1, 0], [4, 10], [0, 1], [1, 3], [3, 4], ["D + 1", "3*K"]),
        ([-1], [-100], [1], [-2], [5, 5], ["D", "-2*K + 9"]),  # reversed, every second column
        ([2], [100], [-2], [1], [3, 10], ["D + 2", "K"]),  # end past the axis, negative axis
    ],
)
def test_slice_steps_and_clamping(model, parse, starts, ends, axes, steps, out_shape, expected):
    node = helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"], name="sl")
    params = {"s": starts, "e": ends, "a": axes, "st": steps}
    m = model(
        [node],
        {"x": (F32, [5, 10])},
        {"y": (F32, out_shape)},
        initializers={k: np.array(v, np.int64) for k, v in params.items()},
    )
    sl = parse(m).node("sl")
    assert accesses(sl)["x"] == expected
    values = np.arange(50).reshape(5, 10)
    sliced = values[tuple(slice(None) for _ in range(2))]
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        index = [slice(None)] * 2
        index[axis] = slice(start, end, step)
        sliced = sliced[tuple(index)]
    for p in points(sl):
        assert (
            values[tuple(e.evaluate(p) for e in sl.operands[0].access)]
            == sliced[tuple(e.evaluate(p) for e in sl.output.access)]
        )


def test_slice_opset9_attributes(model, parse):
    node = helper.make_node("Slice", ["x"], ["y"], name="sl", starts=[2], ends=[6], axes=[1])
    sl = parse(model([node], {"x": (F32, [5, 10])}, {"y": (F32, [5, 4])}, opset=9)).node("sl")
    assert accesses(sl)["x"] == ["D", "K + 2"]


def test_gather_constant_indices(model, parse):
    nodes = [
        helper.make_node("Gather", ["x", "i0"], ["a"], name="scalar", axis=1),
        helper.make_node("Gather", ["x", "i1"], ["b"], name="prog", axis=1),
        helper.make_node("Gather", ["x", "i2"], ["c"], name="perm", axis=1),
    ]
    inits = {"i0": np.array(-1, np.int64), "i1": np.array([1, 4, 7], np.int64), "i2": np.array([3, 0, 2], np.int64)}
    outputs = {"a": (F32, [4]), "b": (F32, [4, 3]), "c": (F32, [4, 3])}
    w = parse(model(nodes, {"x": (F32, [4, 9])}, outputs, initializers=inits))
    assert accesses(w.node("scalar")) == {"x": ["K", "8"], "a": ["K"]}
    assert accesses(w.node("prog")) == {"x": ["D", "3*K + 1"], "b": ["D", "K"]}
    assert accesses(w.node("perm")) == {"x": None, "i2": ["K"], "c": ["D", "K"]}
    assert {op.tensor: op.role for op in w.node("perm").reads} == {"x": OperandRole.INPUT, "i2": OperandRole.WEIGHT}


def test_gather_embedding_lookup_with_runtime_indices(model, parse):
    node = helper.make_node("Gather", ["table", "ids"], ["y"], name="embed")
    inputs = {"ids": (I64, [1, 16])}
    m = model([node], inputs, {"y": (F32, [1, 16, 32])}, initializers={"table": np.zeros((100, 32), np.float32)})
    embed = parse(m).node("embed")
    assert embed.loop_names == ("B", "D", "K")
    assert accesses(embed) == {"table": None, "ids": ["B", "D"], "y": ["B", "D", "K"]}
    assert {op.tensor: op.role for op in embed.reads} == {"table": OperandRole.WEIGHT, "ids": OperandRole.INPUT}
    assert embed.operands[1].precision == 64


def test_identity_and_dropout_fold_away(model, parse):
    nodes = [
        helper.make_node("Identity", ["x"], ["i"], name="id"),
        helper.make_node("Dropout", ["i"], ["d"], name="drop"),
        helper.make_node("Relu", ["d"], ["y"], name="relu"),
        helper.make_node("Identity", ["y"], ["z"], name="out_copy"),
    ]
    w = parse(model(nodes, {"x": (F32, [2, 3])}, {"z": (F32, [2, 3])}))
    assert [n.name for n in w.nodes] == ["relu", "out_copy"]
    assert accesses(w.node("relu")) == {"x": ["D", "K"], "y": ["D", "K"]}
    assert w.node("out_copy").kind is NodeKind.DATA_MOVEMENT  # a graph output cannot be folded
    assert set(w.tensors) == {"x", "y", "z"}


def test_dropout_in_training_mode_is_rejected(model, parse):
    node = helper.make_node("Dropout", ["x", "", "t"], ["y"], name="drop")
    m = model([node], {"x": (F32, [2, 3])}, {"y": (F32, [2, 3])}, initializers={"t": np.array(True)})
    with pytest.raises(InputError, match="training mode"):
        parse(m)


def test_constant_nodes_fold_into_values(model, parse):
    shape = numpy_helper.from_array(np.array([3, 8], np.int64))
    nodes = [
        helper.make_node("Constant", [], ["shape"], name="const", value=shape),
        helper.make_node("Constant", [], ["bias"], name="bias_const", value_floats=[1.0] * 8),
        helper.make_node("Reshape", ["x", "shape"], ["r"], name="reshape"),
        helper.make_node("Add", ["r", "bias"], ["y"], name="add"),
    ]
    w = parse(model(nodes, {"x": (F32, [2, 12])}, {"y": (F32, [3, 8])}))
    assert [n.name for n in w.nodes] == ["reshape", "add"]
    assert w.constants == frozenset({"bias"})
    add = w.node("add")
    assert {op.tensor: op.role for op in add.reads} == {"r": OperandRole.INPUT, "bias": OperandRole.WEIGHT}
    assert w.tensor("bias").shape == (8,) and w.tensor("bias").dtype == "float32"


def test_expand_broadcasts_size_one_and_missing_axes(model, parse):
    node = helper.make_node("Expand", ["x", "shape"], ["y"], name="expand")
    inits = {"shape": np.array([2, 3, 4], np.int64)}
    w = parse(model([node], {"x": (F32, [3, 1])}, {"y": (F32, [2, 3, 4])}, initializers=inits))
    expand = w.node("expand")
    assert expand.kind is NodeKind.DATA_MOVEMENT and expand.sizes == {"B": 2, "D": 3, "K": 4}
    assert accesses(expand) == {"x": ["D", "0"], "y": ["B", "D", "K"]}
    assert expand.footprint_elements(expand.operands[0], w.tensor("x")) == 3
