"""What Stream 2.1.1 accepts: absent weight files, unknown attributes, custom-domain ops by op type."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from stream_onnx.parser import ONNXWorkloadParser, reshape_note

from stream_core.context import RunContext
from stream_core.errors import InputError
from stream_core.ir import Node, Operand
from stream_core.testing import make_plugins

F32 = TensorProto.FLOAT
FLATTEN_FOLDED = reshape_note([Node("flat", "Flatten", (), [Operand("output", "f", 32, ())])])


@pytest.fixture
def ctx() -> RunContext:
    """A context of its own, so a test sees only its own warnings."""
    return RunContext(plugins=make_plugins())


def conv_gemm(model):
    """Conv(8->4, 3x3) -> Flatten -> Gemm(64 -> 10), every weight an initializer with values."""
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("Flatten", ["c"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fc"], ["y"], name="fc"),
    ]
    inits = {
        "w": np.ones((4, 8, 3, 3), np.float32),
        "b": np.ones(4, np.float32),
        "fc": np.ones((64, 10), np.float32),
    }
    return model(nodes, {"x": (F32, [1, 8, 6, 6])}, {"y": (F32, [1, 10])}, initializers=inits)


def save_external(m, tmp_path):
    path = tmp_path / "ext.onnx"
    onnx.save(m, str(path), save_as_external_data=True, location="ext.bin", size_threshold=0)
    return path, tmp_path / "ext.bin"


def test_absent_external_data_is_one_warning_and_shapes_are_right(tmp_path, model, ctx):
    path, data = save_external(conv_gemm(model), tmp_path)
    data.unlink()
    w = ONNXWorkloadParser().parse(path, ctx)
    assert ctx.warnings == [
        f"{path}: external data {str(data)!r} not found: weight values were not read (parsing needs only their shapes)",
        FLATTEN_FOLDED,
    ]
    assert w.tensor("w").shape == (4, 8, 3, 3) and w.tensor("fc").shape == (64, 10)
    assert w.node("conv").macs == 4 * 4 * 3 * 3 * 8 * 4  # OY*OX*FY*FX*C*K
    assert w.node("fc").macs == 64 * 10
    assert w.constants == frozenset({"w", "b", "fc"})


def test_weight_values_are_never_read(tmp_path, model, ctx):
    path, data = save_external(conv_gemm(model), tmp_path)
    data.write_bytes(b"")  # present but empty: reading any weight would fail
    w = ONNXWorkloadParser().parse(path, ctx)
    assert w.macs == 4 * 4 * 3 * 3 * 8 * 4 + 64 * 10 and ctx.warnings == [FLATTEN_FOLDED]


def test_a_shape_value_in_an_absent_file_is_a_clear_error(tmp_path, model, ctx):
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")]
    m = model(nodes, {"x": (F32, [2, 12])}, {"y": (F32, [None, None])}, initializers={"shape": np.array([4, 6])})
    path, data = save_external(m, tmp_path)
    data.unlink()
    with pytest.raises(InputError) as info:
        ONNXWorkloadParser().parse(path, ctx)
    (problem,) = info.value.problems
    assert problem.field == "graph.initializer.shape"
    assert problem.message == (
        "cannot read the external data of 'shape': the output shape of node 'reshape' (Reshape) depends on its "
        f"value, stored in {str(data)!r}, which is absent"
    )


def test_unknown_attribute_is_a_warning(model, parse, ctx):
    node = helper.make_node("Gemm", ["a", "b"], ["y"], name="gemm", act_size=16, weight_size=16)
    m = model([node], {"a": (F32, [4, 8])}, {"y": (F32, [4, 2])}, initializers={"b": np.zeros((8, 2), np.float32)})
    w = parse(m, ctx)
    assert w.node("gemm").macs == 4 * 8 * 2
    (warning,) = ctx.warnings
    assert warning.endswith(
        ": 1 Gemm node ('gemm') carries attributes that ONNX Gemm (opset 18) does not define: act_size, "
        "weight_size; they are ignored"
    )


def test_custom_domain_silu_without_a_function_gets_broadcast_shapes(model, parse, ctx):
    """No function body, no value_info: the Silu's output shape comes from our own propagation."""
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="proj"),
        helper.make_node("Silu", ["h"], ["s"], name="silu", domain="com.example"),
        helper.make_node("Relu", ["s"], ["y"], name="relu"),
    ]
    m = model(
        nodes,
        {"x": (F32, [4, 8])},
        {"y": (F32, None)},
        initializers={"w": np.zeros((8, 16), np.float32)},
        extra_opsets=[helper.make_opsetid("com.example", 1)],
    )
    w = parse(m, ctx)
    assert (w.node("silu").domain, w.node("silu").sizes) == ("com.example", {"D": 4, "K": 16})
    assert w.tensor("s").dtype == "float32" and w.node("relu").sizes == {"D": 4, "K": 16}
    assert len(ctx.warnings) == 1 and "com.example:Silu (1 node): parsed by op type" in ctx.warnings[0]


def test_an_op_newer_than_the_opset_is_parsed_by_op_type(model, parse, ctx):
    """Gelu is an ai.onnx op from opset 20: in an opset-17 model onnx cannot check it."""
    node = helper.make_node("Gelu", ["x"], ["y"], name="gelu")
    w = parse(model([node], {"x": (F32, [2, 5])}, {"y": (F32, None)}, opset=17), ctx)
    assert w.node("gelu").sizes == {"D": 2, "K": 5}
    (warning,) = ctx.warnings
    assert warning.endswith(": 1 Gelu node ('gelu'): ONNX defines no Gelu at opset 17; not checked by onnx")


def test_an_explicit_shape_error_still_names_the_node(model, parse):
    nodes = [
        helper.make_node("Silu", ["a"], ["s"], name="silu"),
        helper.make_node("Add", ["s", "b"], ["y"], name="add"),
    ]
    m = model(nodes, {"a": (F32, [2, 3]), "b": (F32, [4])}, {"y": (F32, None)}, opset=17)
    with pytest.raises(InputError) as info:
        parse(m)
    (problem,) = info.value.problems
    assert problem.field == "graph.node.add" and problem.message.startswith("shape inference failed:")


def test_a_needed_parameter_in_an_absent_file_is_a_clear_error(tmp_path, model, ctx):
    """Gather's constant indices decide its access relation: their value is needed."""
    node = helper.make_node("Gather", ["x", "idx"], ["y"], name="pick", axis=0)
    m = model([node], {"x": (F32, [6, 4])}, {"y": (F32, [3, 4])}, initializers={"idx": np.array([0, 2, 4])})
    path, data = save_external(m, tmp_path)
    assert ONNXWorkloadParser().parse(path, ctx).node("pick").operands[0].access is not None
    data.unlink()
    with pytest.raises(InputError) as info:
        ONNXWorkloadParser().parse(path, ctx)
    (problem,) = info.value.problems
    assert (problem.field, problem.message) == (
        "graph.initializer.idx",
        f"the value of 'idx' (needed by node 'pick') is in the external data file {str(data)!r}, which is absent",
    )
