"""Elementwise ops: identity loops over the output, NumPy broadcasting at constant 0, roles."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from stream_onnx.plugin import ELEMENTWISE_OPS

from stream_core.ir import NodeKind, OperandRole

F32 = TensorProto.FLOAT

BINARY = ["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "PRelu", "BiasGelu"]
LOGICAL = ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Not", "Where"]
UNARY = [op for op in ELEMENTWISE_OPS if op not in (*BINARY, *LOGICAL)]
OPSET = {"Gelu": 20, "HardSwish": 22, "Swish": 24}


def accesses(node):
    return {op.tensor: [str(e) for e in op.access] for op in node.operands}


@pytest.mark.parametrize("op", UNARY)
def test_unary_ops_are_identity_loop_nests(model, parse, op):
    node = helper.make_node(op, ["x"], ["y"], name="f")
    w = parse(model([node], {"x": (F32, [2, 3, 4, 5])}, {"y": (F32, [2, 3, 4, 5])}, opset=OPSET.get(op, 18)))
    f = w.node("f")
    assert f.op_type == op and f.kind is NodeKind.COMPUTE and not f.mac_op
    assert [(loop.name, loop.size) for loop in f.loops] == [("B", 2), ("C", 3), ("OY", 4), ("OX", 5)]
    assert f.iteration_points == 120 and f.macs == 0
    assert accesses(f) == {"x": ["B", "C", "OY", "OX"], "y": ["B", "C", "OY", "OX"]}


@pytest.mark.parametrize("op", BINARY)
def test_binary_ops_broadcast_size_one_and_missing_axes(model, parse, op):
    # [1, C, 1, 1] (per-channel) op [N, C, H, W]: the size-1 axes read index 0
    node = helper.make_node(op, ["x", "s"], ["y"], name="f")
    w = parse(model([node], {"x": (F32, [2, 3, 4, 5]), "s": (F32, [1, 3, 1, 1])}, {"y": (F32, [2, 3, 4, 5])}))
    f = w.node("f")
    assert accesses(f) == {"x": ["B", "C", "OY", "OX"], "s": ["0", "C", "0", "0"], "y": ["B", "C", "OY", "OX"]}
    assert f.footprint_elements(f.operands[1], w.tensor("s")) == 3


def test_missing_leading_axes_and_both_sides_broadcasting(model, parse):
    # [4, 1] + [3] -> [4, 3]: both operands broadcast, on different axes
    node = helper.make_node("Add", ["a", "b"], ["y"], name="f")
    w = parse(model([node], {"a": (F32, [4, 1]), "b": (F32, [3])}, {"y": (F32, [4, 3])}))
    f = w.node("f")
    assert [(loop.name, loop.size) for loop in f.loops] == [("D", 4), ("K", 3)]
    assert accesses(f) == {"a": ["D", "0"], "b": ["K"], "y": ["D", "K"]}


def test_rank_names(model, parse):
    shapes = {1: [7], 3: [2, 3, 4], 5: [1, 2, 3, 4, 5]}
    names = {1: ("K",), 3: ("B", "D", "K"), 5: ("A0", "A1", "A2", "A3", "A4")}
    for rank, shape in shapes.items():
        node = helper.make_node("Relu", ["x"], ["y"], name="f")
        w = parse(model([node], {"x": (F32, shape)}, {"y": (F32, shape)}))
        assert w.node("f").loop_names == names[rank]


def test_constant_operand_is_a_weight_and_scalars_have_no_axes(model, parse):
    node = helper.make_node("Mul", ["x", "scale"], ["y"], name="f")
    m = model([node], {"x": (F32, [2, 8])}, {"y": (F32, [2, 8])}, initializers={"scale": np.float32(2.0)})
    f = parse(m).node("f")
    assert {op.tensor: op.role for op in f.operands} == {
        "x": OperandRole.INPUT, "scale": OperandRole.WEIGHT, "y": OperandRole.OUTPUT
    }  # fmt: skip
    assert accesses(f)["scale"] == []


def test_clip_bounds_are_scalar_operands_and_attributes_are_kept(model, parse):
    nodes = [
        helper.make_node("Clip", ["x", "lo", "hi"], ["c"], name="clip"),
        helper.make_node("LeakyRelu", ["c"], ["y"], name="leaky", alpha=0.25),
    ]
    lo, hi = np.float32(0), np.float32(6)
    w = parse(model(nodes, {"x": (F32, [3, 4])}, {"y": (F32, [3, 4])}, initializers={"lo": lo, "hi": hi}))
    assert accesses(w.node("clip")) == {"x": ["D", "K"], "lo": [], "hi": [], "c": ["D", "K"]}
    assert w.node("leaky").attribute("alpha") == 0.25


def test_cast_operands_keep_their_own_dtypes_and_castlike_reads_one_input(model, parse):
    nodes = [
        helper.make_node("Cast", ["x"], ["h"], name="cast", to=TensorProto.FLOAT16),
        helper.make_node("CastLike", ["h", "like"], ["y"], name="back"),
    ]
    m = model(nodes, {"x": (F32, [2, 3])}, {"y": (F32, [2, 3])}, initializers={"like": np.zeros(1, np.float32)})
    w = parse(m)
    assert [(op.tensor, op.precision) for op in w.node("cast").operands] == [("x", 32), ("h", 16)]
    assert [op.tensor for op in w.node("back").operands] == ["h", "y"] and w.node("back").sizes == {"D": 2, "K": 3}


def test_comparison_and_where_build_a_mask(model, parse):
    nodes = [
        helper.make_node("Less", ["pos", "limit"], ["keep"], name="less"),
        helper.make_node("Not", ["keep"], ["drop"], name="not"),
        helper.make_node("Where", ["drop", "fill", "scores"], ["y"], name="where"),
    ]
    inputs = {"pos": (F32, [1, 4]), "limit": (F32, [4, 1]), "scores": (F32, [2, 4, 4])}
    w = parse(model(nodes, inputs, {"y": (F32, [2, 4, 4])}, initializers={"fill": np.float32(-1e4)}))
    assert accesses(w.node("less")) == {"pos": ["0", "K"], "limit": ["D", "0"], "keep": ["D", "K"]}
    assert w.tensor("keep").dtype == "bool" and w.node("not").operands[0].precision == 8
    where = accesses(w.node("where"))
    assert where == {"drop": ["D", "K"], "fill": [], "scores": ["B", "D", "K"], "y": ["B", "D", "K"]}
    assert w.node("where").iteration_points == 32
