"""Whole models mixing many ops: an attention block parses to hand-computed MACs, roles and edges."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from stream_core.ir import NodeKind, OperandRole

F32 = TensorProto.FLOAT


def test_attention_block(model, parse):
    heads, tokens, width = 4, 16, 64
    dh = width // heads
    nodes = [
        helper.make_node("MatMul", ["x", "w_qkv"], ["qkv"], name="qkv"),
        helper.make_node("Split", ["qkv"], ["q", "k", "v"], name="split", axis=-1, num_outputs=3),
        helper.make_node("Constant", [], ["heads_shape"], name="c", value_ints=[1, tokens, heads, dh]),
        helper.make_node("Reshape", ["q", "heads_shape"], ["q4"], name="q_heads"),
        helper.make_node("Reshape", ["k", "heads_shape"], ["k4"], name="k_heads"),
        helper.make_node("Reshape", ["v", "heads_shape"], ["v4"], name="v_heads"),
        helper.make_node("Transpose", ["q4"], ["qt"], name="q_t", perm=[0, 2, 1, 3]),
        helper.make_node("Transpose", ["k4"], ["kt"], name="k_t", perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["v4"], ["vt"], name="v_t", perm=[0, 2, 1, 3]),
        helper.make_node("MatMul", ["qt", "kt"], ["scores"], name="scores"),
        helper.make_node("Div", ["scores", "scale"], ["scaled"], name="scale_div"),
        helper.make_node("Softmax", ["scaled"], ["probs"], name="softmax", axis=-1),
        helper.make_node("MatMul", ["probs", "vt"], ["ctx"], name="context"),
        helper.make_node("Transpose", ["ctx"], ["ctx_t"], name="ctx_t", perm=[0, 2, 1, 3]),
        helper.make_node("Reshape", ["ctx_t", "out_shape"], ["merged"], name="merge"),
        helper.make_node("MatMul", ["merged", "w_o"], ["y"], name="out_proj"),
    ]
    inits = {
        "w_qkv": np.zeros((width, 3 * width), np.float32),
        "w_o": np.zeros((width, width), np.float32),
        "scale": np.float32(dh**0.5),
        "out_shape": np.array([1, tokens, width], np.int64),
    }
    m = model(nodes, {"x": (F32, [1, tokens, width])}, {"y": (F32, [1, tokens, width])}, initializers=inits)
    w = parse(m, fold_transpose="false")  # the layout nodes as nodes; folded by default, below
    assert w.macs == tokens * width * 3 * width + 2 * heads * tokens * tokens * dh + tokens * width * width
    scores = w.node("scores")
    assert scores.sizes == {"B": 1, "H": heads, "D": tokens, "K": tokens, "C": dh}
    assert {op.tensor: op.role for op in scores.reads} == {"qt": OperandRole.INPUT, "kt": OperandRole.INPUT}
    assert {op.tensor: op.role for op in w.node("qkv").reads} == {"x": OperandRole.INPUT, "w_qkv": OperandRole.WEIGHT}
    assert [n.name for n in w.predecessors("scores")] == ["q_t", "k_t"]
    assert [n.name for n in w.successors("split_1")] == ["k_heads"]
    moves = {n.name for n in w.nodes if n.kind is NodeKind.DATA_MOVEMENT}
    assert moves == {
        "split_0",
        "split_1",
        "split_2",
        "q_heads",
        "k_heads",
        "v_heads",
        "q_t",
        "k_t",
        "v_t",
        "ctx_t",
    }  # the ctx_t -> merge Reshape is folded into out_proj: its loop over the merged heads axis split in two
    out_proj = w.node("out_proj")
    assert out_proj.sizes == {"B": 1, "D": tokens, "K": width, "C": heads, "C_1": dh}
    assert [str(e) for e in out_proj.reads[0].access] == ["0", "D", "C", "C_1"]  # ctx_t [1, tokens, heads, dh]
    assert [str(e) for e in out_proj.reads[1].access] == [f"{dh}*C + C_1", "K"]  # w_o row h*dh + j
    # every reshape here splits or merges the last axis: exact affine accesses
    assert all(op.access is not None for n in w.nodes for op in n.operands)
    assert w.node("softmax").protected_loops == ("OX",)
    assert w.constants == frozenset({"w_qkv", "w_o", "scale"})
    # by default every Transpose and head Reshape folds into the matrix products, as Stream 2.1.1 folds them
    folded = parse(m)
    assert [n.name for n in folded.nodes] == [
        *("qkv", "split_0", "split_1", "split_2"),
        *("scores", "scale_div", "softmax", "context", "out_proj"),
    ]
    assert folded.macs == w.macs
    scores = folded.node("scores")  # q [1, tokens, width] at row D, column h*dh + c
    assert [str(e) for e in scores.reads[0].access] == ["0", "D", f"{dh}*H + C"]
    assert [str(e) for e in scores.reads[1].access] == ["0", "K", f"{dh}*H + C"]  # k at row K: K^T


def test_grouped_query_attention(model, parse):
    """4 query heads share 2 K/V heads: K is repeated with Unsqueeze/Expand/Reshape (the export of
    repeat_kv), while the scores of V broadcast the KV-head batch axis in a 5-D MatMul."""
    b, hq, hkv, s, d = 1, 4, 2, 8, 16
    g = hq // hkv
    nodes = [
        helper.make_node("Unsqueeze", ["k", "axis2"], ["k5"], name="k_unsq"),
        helper.make_node("Expand", ["k5", "k5_shape"], ["k_rep"], name="k_expand"),
        helper.make_node("Reshape", ["k_rep", "heads_shape"], ["k_heads"], name="k_merge"),
        helper.make_node("Transpose", ["k_heads"], ["kt"], name="k_t", perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["scores"], name="scores"),
        helper.make_node("Softmax", ["scores"], ["probs"], name="softmax", axis=-1),
        helper.make_node("Reshape", ["probs", "grouped_shape"], ["probs5"], name="group"),
        helper.make_node("Unsqueeze", ["v", "axis2"], ["v5"], name="v_unsq"),
        helper.make_node("MatMul", ["probs5", "v5"], ["ctx"], name="context"),
    ]
    inits = {
        "axis2": np.array([2], np.int64),
        "k5_shape": np.array([b, hkv, g, s, d], np.int64),
        "heads_shape": np.array([b, hq, s, d], np.int64),
        "grouped_shape": np.array([b, hkv, g, s, s], np.int64),
    }
    inputs = {"q": (F32, [b, hq, s, d]), "k": (F32, [b, hkv, s, d]), "v": (F32, [b, hkv, s, d])}
    w = parse(model(nodes, inputs, {"ctx": (F32, [b, hkv, g, s, d])}, initializers=inits), data_inputs=list(inputs))
    expand = w.node("k_expand")
    assert expand.sizes == {"A0": b, "A1": hkv, "A2": g, "A3": s, "A4": d}
    assert [str(e) for e in expand.operands[0].access] == ["A0", "A1", "0", "A3", "A4"]
    assert w.node("scores").macs == b * hq * s * s * d
    context = w.node("context")
    assert context.sizes == {"B0": b, "B1": hkv, "B2": g, "D": s, "K": d, "C": s}
    # the group Reshape and V's Unsqueeze are folded: probs' head axis is g*B1 + B2, V is shared by the group
    # (its batch axis, of size b = 1, is indexed at 0)
    assert [str(e) for e in context.operands[0].access] == ["0", f"{g}*B1 + B2", "D", "C"]
    assert [str(e) for e in context.operands[1].access] == ["0", "B1", "C", "K"]
    assert context.macs == b * hq * s * d * s
    assert w.macs == 2 * b * hq * s * s * d


@pytest.mark.parametrize("opset", [20, 17])
def test_gelu_and_its_erf_decomposition_are_elementwise(model, parse, opset):
    """Gelu(x) (an op from opset 20) and x * 0.5 * (1 + Erf(x / sqrt 2)): one elementwise node per op."""
    nodes = [
        helper.make_node("Gelu", ["x"], ["g"], name="gelu", approximate="tanh"),
        helper.make_node("Div", ["g", "sqrt2"], ["a"], name="div"),
        helper.make_node("Erf", ["a"], ["e"], name="erf"),
        helper.make_node("Add", ["e", "one"], ["p"], name="add"),
        helper.make_node("Mul", ["g", "p"], ["m"], name="mul"),
        helper.make_node("Mul", ["m", "half"], ["y"], name="half_mul"),
    ]
    inits = {"sqrt2": np.float32(2**0.5), "one": np.float32(1), "half": np.float32(0.5)}
    w = parse(model(nodes, {"x": (F32, [4, 32])}, {"y": (F32, [4, 32])}, initializers=inits, opset=opset))
    assert [n.op_type for n in w.nodes] == ["Gelu", "Div", "Erf", "Add", "Mul", "Mul"]
    assert all(n.sizes == {"D": 4, "K": 32} and n.kind is NodeKind.COMPUTE and n.macs == 0 for n in w.nodes)
    assert w.node("gelu").attribute("approximate") == "tanh"
