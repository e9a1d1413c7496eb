"""The workload parser: file errors, checker and inference errors, unsupported ops, settings, assembly."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from stream_onnx.parser import ONNXWorkloadParser

from stream_core.context import RunContext, RunOptions
from stream_core.errors import InputError
from stream_core.pipeline import parse_workload
from stream_core.testing import make_plugins

F32 = TensorProto.FLOAT


def relu_model(model, shape=(2, 3)):
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")], {"x": (F32, shape)}, {"y": (F32, shape)})


def problems(excinfo):
    return list(excinfo.value.problems)


def test_missing_file(tmp_path, context):
    path = tmp_path / "absent.onnx"
    with pytest.raises(InputError) as info:
        ONNXWorkloadParser().parse(path, context)
    assert [(p.file, p.message) for p in problems(info)] == [(str(path), "file not found")]


@pytest.mark.parametrize(
    ("content", "text"), [(b"layers:\n  - name: x\n", "cannot decode the protobuf"), (b"", "empty graph")]
)
def test_not_an_onnx_file(tmp_path, context, content, text):
    path = tmp_path / "fake.onnx"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        ONNXWorkloadParser().parse(path, context)
    (problem,) = problems(info)
    assert problem.file == str(path) and problem.message.startswith("not an ONNX model") and text in problem.message


def test_checker_failure_is_an_input_error(model, parse):
    bad = model([helper.make_node("Relu", ["nowhere"], ["y"], name="relu")], {"x": (F32, [2])}, {"y": (F32, [2])})
    with pytest.raises(InputError) as info:
        parse(bad)
    (problem,) = problems(info)
    assert problem.message.startswith("invalid ONNX model:") and "nowhere" in problem.message
    assert problem.file.endswith(".onnx")


def test_shape_inference_failure_names_the_node(model, parse):
    node = helper.make_node("Add", ["a", "b"], ["y"], name="bad_add")
    bad = model([node], {"a": (F32, [2, 3]), "b": (F32, [4])}, {"y": (F32, [2, 3])})
    with pytest.raises(InputError) as info:
        parse(bad)
    (problem,) = problems(info)
    assert problem.field == "graph.node.bad_add" and "shape inference failed" in problem.message


def test_unsupported_ops_are_listed_together_with_the_remedy(model, parse):
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="ok"),
        helper.make_node("Celu", ["r"], ["c"], name="celu1"),
        helper.make_node("Celu", ["c"], ["c2"], name="celu2"),
        helper.make_node("Softplus", ["c2"], ["y"], name="soft"),
    ]
    with pytest.raises(InputError) as info:
        parse(model(nodes, {"x": (F32, [4])}, {"y": (F32, [4])}))
    found = problems(info)
    assert found[0].message == (
        "no op parser is registered for op 'Celu' of the default ONNX domain (ai.onnx), used by 2 nodes: "
        "'celu1', 'celu2'"
    )
    assert found[0].field == "graph.node.celu1"
    assert "'Softplus'" in found[1].message and "used by 1 node: 'soft'" in found[1].message
    remedy = found[2].message
    assert remedy.startswith("ops with a parser: ai.onnx: Abs, Add,") and "Conv" in remedy and "MatMul" in remedy
    assert "stream_register_op_parsers" in remedy and "OpParserRecord(domain=..., op_type=..." in remedy
    assert "docs/plugins.md" in remedy and len(found) == 3


def silu_function_model(model):
    """Stream's SwiGLU style: ``com.example:Silu`` as a model-local function (Sigmoid * x)."""
    silu = helper.make_function(
        "com.example",
        "Silu",
        ["X"],
        ["Y"],
        [helper.make_node("Sigmoid", ["X"], ["S"]), helper.make_node("Mul", ["X", "S"], ["Y"])],
        [helper.make_opsetid("", 18)],
    )
    node = helper.make_node("Silu", ["x"], ["y"], name="act", domain="com.example")
    return model(
        [node],
        {"x": (F32, [4, 8])},
        {"y": (F32, [4, 8])},
        extra_opsets=[helper.make_opsetid("com.example", 1)],
        functions=[silu],
    )


def test_custom_domain_op_without_parser_is_parsed_by_op_type(model, parse):
    ctx = RunContext(plugins=make_plugins())
    act = parse(silu_function_model(model), ctx).node("act")
    assert (act.domain, act.op_type, act.macs) == ("com.example", "Silu", 0)
    assert [(loop.name, loop.size) for loop in act.loops] == [("D", 4), ("K", 8)]
    assert ctx.warnings == [
        "no op parser is registered for com.example:Silu (1 node): parsed by op type with the parser of Silu "
        "(elementwise with NumPy broadcasting), as Stream does"
    ]


def test_unknown_custom_domain_op_is_an_error(model, parse):
    node = helper.make_node("Frobnicate", ["x"], ["y"], name="frob", domain="com.example")
    m = model([node], {"x": (F32, [4])}, {"y": (F32, [4])}, extra_opsets=[helper.make_opsetid("com.example", 1)])
    with pytest.raises(InputError) as info:
        parse(m)
    assert problems(info)[0].message == (
        "no op parser is registered for op 'Frobnicate' of the custom domain 'com.example', used by 1 node: 'frob'"
    )


def test_symbolic_dimension_needs_a_size(model, parse):
    m = relu_model(model, shape=("N", 3))
    with pytest.raises(InputError) as info:
        parse(m)
    messages = [p.message for p in problems(info)]
    assert messages[0] == "tensor 'x' has no static size at axis 0 ('N'); set it with --set 'onnx.dims={N: <size>}'"
    assert len(messages) == 2  # input and output both reported
    w = parse(m, dims={"N": 5})
    assert w.tensor("x").shape == (5, 3) and w.node("relu").sizes == {"D": 5, "K": 3}


@pytest.mark.parametrize(("settings", "field"), [({"dims": {"N": 0}}, "onnx.dims.N"), ({"dims": [1]}, "onnx.dims")])
def test_bad_dims_setting(model, parse, settings, field):
    with pytest.raises(InputError) as info:
        parse(relu_model(model, shape=("N", 3)), **settings)
    assert [p.field for p in problems(info)] == [field]


def test_unknown_data_input(model, parse):
    with pytest.raises(InputError) as info:
        parse(relu_model(model), data_inputs=["nope"])
    (problem,) = problems(info)
    assert problem.field == "onnx.data_inputs" and "'nope' are not graph inputs" in problem.message


def test_weights_without_values_are_accepted(model, parse):
    """Stream's example files keep only the type and shape of their weights."""
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv")
    m = model([node], {"x": (F32, [1, 2, 5, 5])}, {"y": (F32, [1, 4, 3, 3])})
    w_tensor = m.graph.initializer.add()
    w_tensor.name, w_tensor.data_type = "w", F32
    w_tensor.dims.extend([4, 2, 3, 3])
    w = parse(m)
    assert w.constants == frozenset({"w"}) and w.inputs == ("x",)
    assert w.tensor("w").shape == (4, 2, 3, 3) and w.node("conv").macs == 9 * 4 * 2 * 9


def test_external_data_is_read_only_when_needed(tmp_path, model, context):
    node = helper.make_node("Reshape", ["x", "shape"], ["r"], name="reshape")
    mm = helper.make_node("MatMul", ["r", "w"], ["y"], name="mm")
    inits = {"shape": np.array([4, 6], np.int64), "w": np.ones((6, 2), np.float32)}
    m = model([node, mm], {"x": (F32, [2, 12])}, {"y": (F32, [4, 2])}, initializers=inits)
    path = tmp_path / "ext.onnx"
    onnx.save(
        m, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location="ext.bin", size_threshold=0
    )
    assert (tmp_path / "ext.bin").exists()
    w = ONNXWorkloadParser().parse(path, context)
    assert w.constants == frozenset({"w"})
    # the Reshape [2, 12] -> [4, 6] folds into mm: row D (4) splits into D (2) x D_1 (2), x's column is 6*D_1 + C
    assert [str(e) for e in w.node("mm").reads[0].access] == ["D", "6*D_1 + C"] and "r" not in w.tensors
    (tmp_path / "ext.bin").unlink()  # the shape tensor's value is needed for shape inference: a clear error
    with pytest.raises(InputError) as info:
        ONNXWorkloadParser().parse(path, context)
    (problem,) = problems(info)
    assert problem.field == "graph.initializer.shape" and "cannot read the external data of 'shape'" in problem.message


def test_unnamed_and_duplicate_nodes_get_unique_names(model, parse):
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Relu", ["a"], ["b"], name="act"),
        helper.make_node("Relu", ["b"], ["y"], name="act"),
    ]
    w = parse(model(nodes, {"x": (F32, [3])}, {"y": (F32, [3])}))
    assert [n.name for n in w.nodes] == ["Relu_0", "act", "act_2"]


def test_a_consumed_output_the_parser_does_not_model_is_an_error(model, parse):
    nodes = [
        helper.make_node("LayerNormalization", ["x", "g"], ["y", "mean"], name="ln"),
        helper.make_node("Relu", ["mean"], ["m2"], name="use_mean"),
    ]
    m = model(
        nodes,
        {"x": (F32, [2, 4])},
        {"y": (F32, [2, 4]), "m2": (F32, [2, 1])},
        initializers={"g": np.ones(4, np.float32)},
    )
    with pytest.raises(InputError) as info:
        parse(m)
    assert [p.message for p in problems(info)] == [
        "node 'use_mean' reads tensor 'mean', which is output of node 'ln' (LayerNormalization) "
        "that its op parser does not model"
    ]


def test_problems_of_all_nodes_are_collected(model, parse):
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w"], ["u"], name="up", auto_pad="SAME_UPPER", strides=[2]),
        helper.make_node("Dropout", ["u", "", "train"], ["y"], name="drop"),
    ]
    inputs = {"x": (F32, [1, 2, 4]), "w": (F32, [2, 2, 3])}
    m = model(nodes, inputs, {"y": (F32, [1, 2, 8])}, initializers={"train": np.array(True)})
    with pytest.raises(InputError) as info:
        parse(m)
    assert [p.field for p in problems(info)] == ["graph.node.up.attribute.auto_pad", "graph.node.drop"]
    assert (
        "auto_pad 'SAME_UPPER' is not supported; expected NOTSET (explicit pads) or VALID" in problems(info)[0].message
    )


def test_unsupported_element_types_are_reported_per_tensor(model, parse):
    node = helper.make_node("Relu", ["c"], ["y"], name="r")
    complex_model = model([node], {"c": (TensorProto.COMPLEX64, [2])}, {"y": (TensorProto.COMPLEX64, [2])})
    with pytest.raises(InputError) as info:
        parse(complex_model)
    assert [p.field for p in problems(info)] == ["graph.input.c", "graph.output.y"]
    assert "element type COMPLEX64, which is not supported" in problems(info)[0].message


def test_graph_output_that_is_an_input_is_an_error(model, parse):
    m = model([helper.make_node("Relu", ["x"], ["y"], name="r")], {"x": (F32, [2])}, {"y": (F32, [2]), "x": (F32, [2])})
    with pytest.raises(InputError, match="graph output 'x' is not produced by any node"):
        parse(m)


def test_all_graph_outputs_and_initializer_constants(model, parse):
    nodes = [
        helper.make_node("Add", ["x", "b"], ["h"], name="add"),
        helper.make_node("Relu", ["h"], ["y"], name="relu"),
    ]
    inits = {"b": np.zeros(3, np.float32), "unused": np.zeros(2, np.float32)}
    w = parse(model(nodes, {"x": (F32, [3])}, {"h": (F32, [3]), "y": (F32, [3])}, initializers=inits))
    assert w.outputs == ("h", "y") and w.inputs == ("x",) and w.constants == frozenset({"b"})
    assert w.name.startswith("model") and w.source.endswith(".onnx")
    assert w.tensor("b").bits_per_element == 32


def test_pipeline_picks_the_onnx_parser_by_suffix(tmp_path, model):
    path = tmp_path / "m.onnx"
    onnx.save(relu_model(model), str(path))
    workload, origin = parse_workload(path, RunContext(plugins=make_plugins(), options=RunOptions()))
    assert origin.startswith("onnx (stream-onnx") and [n.name for n in workload] == ["relu"]
