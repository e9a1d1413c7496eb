"""Constant folding before parsing: shape chains, derived scalars, and what is left as workload nodes."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from stream_core.ir import AffineExpr, NodeKind, OperandRole

F32, I64 = TensorProto.FLOAT, TensorProto.INT64


def test_shape_gather_concat_reshape_chain_folds(model, parse):
    """x [2, 3, 4] -> Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])) = [2, 12], as torch exports it."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="batch", axis=0),
        helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], name="unsq"),
        helper.make_node("Concat", ["n1", "minus_one"], ["target"], name="cat", axis=0),
        helper.make_node("Reshape", ["x", "target"], ["r"], name="reshape"),
        helper.make_node("Relu", ["r"], ["y"], name="relu"),
    ]
    inits = {"zero": np.array(0, np.int64), "axes": np.array([0], np.int64), "minus_one": np.array([-1], np.int64)}
    m = model(nodes, {"x": (F32, [2, 3, 4])}, {"y": (F32, None)}, initializers=inits)
    folded = parse(m).node("relu")  # by default the Reshape folds into relu, whose loop K splits into 3 x 4
    assert folded.sizes == {"D": 2, "K": 3, "K_1": 4}
    assert [str(e) for e in folded.reads[0].access] == ["D", "K", "K_1"]
    assert [str(e) for e in folded.output.access] == ["D", "4*K + K_1"]
    w = parse(m, fold_reshape="false")
    assert [n.name for n in w.nodes] == ["reshape", "relu"]
    assert w.tensor("r").shape == (2, 12) and w.node("relu").sizes == {"D": 2, "K": 12}
    # [2, 3, 4] -> [2, 12]: loops 2, 3, 4; output axis 1 = 4*D + K
    assert [str(e) for e in w.node("reshape").output.access] == ["B", "4*D + K"]
    assert w.constants == frozenset() and "target" not in w.tensors


def test_a_scale_derived_from_a_shape_folds_into_a_weight(model, parse):
    """q / Sqrt(Cast(Shape(q)[-1])): the divisor is a folded scalar constant, read as a weight."""
    nodes = [
        helper.make_node("Shape", ["q"], ["s"], name="shape", start=-1),
        helper.make_node("Cast", ["s"], ["sf"], name="cast", to=F32),
        helper.make_node("Sqrt", ["sf"], ["root"], name="sqrt"),
        helper.make_node("Div", ["q", "root"], ["y"], name="scale"),
    ]
    w = parse(model(nodes, {"q": (F32, [8, 16])}, {"y": (F32, [8, 16])}))
    assert [n.name for n in w.nodes] == ["scale"]
    root = {op.tensor: op for op in w.node("scale").reads}["root"]
    assert (root.role, root.access, w.tensor("root").shape) == (OperandRole.WEIGHT, (AffineExpr.constant(0),), (1,))
    assert w.constants == frozenset({"root"})


def test_arithmetic_on_float_weights_is_not_folded(model, parse):
    nodes = [
        helper.make_node("Add", ["w1", "w2"], ["w"], name="merge"),
        helper.make_node("MatMul", ["x", "w"], ["y"], name="mm"),
    ]
    inits = {"w1": np.ones((4, 3), np.float32), "w2": np.ones((4, 3), np.float32)}
    w = parse(model(nodes, {"x": (F32, [2, 4])}, {"y": (F32, [2, 3])}, initializers=inits))
    assert [n.name for n in w.nodes] == ["merge", "mm"] and w.macs == 2 * 4 * 3


def test_small_generators_fold_and_large_ones_are_nodes(model, parse):
    """ConstantOfShape [2, 3] and Range(0, 10) fold; a [64, 128] fill and a 5000-long range do not."""
    nodes = [
        helper.make_node("ConstantOfShape", ["small_shape"], ["zeros"], name="small_fill"),
        helper.make_node("Add", ["x", "zeros"], ["a"], name="add"),
        helper.make_node("ConstantOfShape", ["big_shape"], ["mask"], name="big_fill"),
        helper.make_node("Range", ["start", "limit", "delta"], ["positions"], name="positions"),
        helper.make_node("Range", ["start", "ten", "delta"], ["ten_positions"], name="few_positions"),
    ]
    value = helper.make_tensor("v", F32, [1], [-1e4])
    nodes[2].attribute.append(helper.make_attribute("value", value))
    inits = {
        "small_shape": np.array([2, 3], np.int64),
        "big_shape": np.array([64, 128], np.int64),
        "start": np.array(0, np.int64),
        "limit": np.array(5000, np.int64),
        "ten": np.array(10, np.int64),
        "delta": np.array(1, np.int64),
    }
    outputs = {"a": (F32, [2, 3]), "mask": (F32, [64, 128]), "positions": (I64, [5000]), "ten_positions": (I64, [10])}
    m = model(nodes, {"x": (F32, [2, 3])}, outputs, initializers=inits)
    # graph outputs are never folded: make few_positions an intermediate feeding a Cast
    m.graph.output.pop()
    m.graph.node.append(helper.make_node("Cast", ["ten_positions"], ["tf"], name="cast", to=F32))
    m.graph.output.append(helper.make_tensor_value_info("tf", F32, [10]))
    w = parse(m)
    assert [n.name for n in w.nodes] == ["add", "big_fill", "positions", "cast"]
    fill = w.node("big_fill")
    assert (fill.kind, fill.sizes, fill.reads) == (NodeKind.DATA_MOVEMENT, {"D": 64, "K": 128}, ())
    assert fill.attribute("value") == np.float32(-1e4)
    positions = w.node("positions")
    assert positions.sizes == {"K": 5000} and [op.access for op in positions.reads] == [(), (), ()]
    assert {op.tensor for op in w.node("cast").reads} == {"ten_positions"} and "ten_positions" in w.constants
