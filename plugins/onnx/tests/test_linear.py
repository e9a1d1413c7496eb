"""Gemm and MatMul: Stream's positional orders, ZigZag names, transposes, broadcasting, roles."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from stream_core.ir import OperandRole

F32 = TensorProto.FLOAT


def accesses(node):
    return {op.tensor: [str(e) for e in op.access] for op in node.operands}


def roles(node):
    return {op.tensor: op.role for op in node.operands}


@pytest.mark.parametrize(
    ("trans_a", "trans_b", "a_shape", "b_shape", "a_access", "b_access"),
    [
        (0, 0, [6, 4], [4, 5], ["D", "C"], ["C", "K"]),
        (1, 0, [4, 6], [4, 5], ["C", "D"], ["C", "K"]),
        (0, 1, [6, 4], [5, 4], ["D", "C"], ["K", "C"]),
        (1, 1, [4, 6], [5, 4], ["C", "D"], ["K", "C"]),
    ],
)
def test_gemm_transposes(model, parse, trans_a, trans_b, a_shape, b_shape, a_access, b_access):
    node = helper.make_node("Gemm", ["a", "b"], ["y"], name="fc", transA=trans_a, transB=trans_b, alpha=0.5)
    w = parse(model([node], {"a": (F32, a_shape), "b": (F32, b_shape)}, {"y": (F32, [6, 5])}))
    fc = w.node("fc")
    assert [(loop.name, loop.size) for loop in fc.loops] == [("D", 6), ("C", 4), ("K", 5)]  # m, k, n
    assert fc.mac_op and fc.macs == 6 * 4 * 5
    assert accesses(fc) == {"a": a_access, "b": b_access, "y": ["D", "K"]}
    assert roles(fc) == {"a": OperandRole.INPUT, "b": OperandRole.WEIGHT, "y": OperandRole.OUTPUT}
    assert fc.attribute("alpha") == 0.5 and fc.attribute("beta") == 1.0
    assert (fc.attribute("transA"), fc.attribute("transB")) == (trans_a, trans_b)


@pytest.mark.parametrize(
    ("c_shape", "c_access"),
    [([5], ["K"]), ([1, 5], ["0", "K"]), ([6, 1], ["D", "0"]), ([], []), ([6, 5], ["D", "K"])],
)
def test_gemm_bias_broadcasts_as_a_weight(model, parse, c_shape, c_access):
    node = helper.make_node("Gemm", ["a", "b", "c"], ["y"], name="fc")
    inputs = {"a": (F32, [6, 4]), "b": (F32, [4, 5])}
    w = parse(model([node], inputs, {"y": (F32, [6, 5])}, initializers={"c": np.zeros(c_shape, np.float32)}))
    fc = w.node("fc")
    assert accesses(fc)["c"] == c_access
    assert roles(fc)["c"] is OperandRole.WEIGHT
    assert "c" in w.constants


def test_batched_matmul_broadcasts_batch_axes(model, parse):
    # [2, 1, 4, 8] x [3, 8, 5] -> [2, 3, 4, 5]
    node = helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")
    w = parse(model([node], {"a": (F32, [2, 1, 4, 8]), "b": (F32, [3, 8, 5])}, {"y": (F32, [2, 3, 4, 5])}))
    mm = w.node("mm")
    assert [(loop.name, loop.size) for loop in mm.loops] == [("B", 2), ("H", 3), ("D", 4), ("K", 5), ("C", 8)]
    assert mm.macs == 2 * 3 * 4 * 5 * 8
    assert accesses(mm) == {"a": ["B", "0", "D", "C"], "b": ["H", "C", "K"], "y": ["B", "H", "D", "K"]}
    assert mm.reduction_dims == ("C",)


def test_matmul_with_three_batch_axes_names_them_b0_b1_b2(model, parse):
    node = helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")
    w = parse(model([node], {"a": (F32, [2, 3, 4, 6, 7]), "b": (F32, [7, 5])}, {"y": (F32, [2, 3, 4, 6, 5])}))
    assert w.node("mm").loop_names == ("B0", "B1", "B2", "D", "K", "C")
    assert accesses(w.node("mm"))["b"] == ["C", "K"]


@pytest.mark.parametrize(
    ("a_shape", "b_shape", "y_shape", "sizes", "access"),
    [
        ([8], [8, 5], [5], {"D": 1, "K": 5, "C": 8}, {"a": ["C"], "b": ["C", "K"], "y": ["K"]}),
        ([4, 8], [8], [4], {"D": 4, "K": 1, "C": 8}, {"a": ["D", "C"], "b": ["C"], "y": ["D"]}),
        ([3, 4, 8], [8], [3, 4], {"B": 3, "D": 4, "K": 1, "C": 8}, {"a": ["B", "D", "C"], "b": ["C"], "y": ["B", "D"]}),
        ([8], [8], [], {"D": 1, "K": 1, "C": 8}, {"a": ["C"], "b": ["C"], "y": []}),
    ],
)
def test_matmul_promotes_1d_operands(model, parse, a_shape, b_shape, y_shape, sizes, access):
    node = helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")
    w = parse(model([node], {"a": (F32, a_shape), "b": (F32, b_shape)}, {"y": (F32, y_shape)}))
    mm = w.node("mm")
    assert mm.sizes == sizes and list(mm.sizes) == list(sizes)
    assert accesses(mm) == access
    assert mm.macs == np.prod(list(sizes.values()))


def test_matmul_roles_follow_the_parameter_rule(model, parse):
    # x @ w (w: second graph input) -> weight; h @ h2 where both are computed -> inputs
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="proj"),
        helper.make_node("Relu", ["h"], ["h2"], name="act"),
        helper.make_node("MatMul", ["h", "h2"], ["y"], name="gram"),
        helper.make_node("MatMul", ["y", "k"], ["z"], name="const"),
    ]
    inputs = {"x": (F32, [4, 4]), "w": (F32, [4, 4])}
    m = model(nodes, inputs, {"z": (F32, [4, 4])}, initializers={"k": np.eye(4, dtype=np.float32)})
    w = parse(m)
    assert roles(w.node("proj")) == {"x": OperandRole.INPUT, "w": OperandRole.WEIGHT, "h": OperandRole.OUTPUT}
    assert roles(w.node("gram"))["h"] is OperandRole.INPUT and roles(w.node("gram"))["h2"] is OperandRole.INPUT
    assert roles(w.node("const"))["k"] is OperandRole.WEIGHT
    # declaring both graph inputs as data makes w an input operand
    w2 = parse(m, data_inputs=["x", "w"])
    assert roles(w2.node("proj"))["w"] is OperandRole.INPUT
