"""Whole models mixing many ops: an attention block parses to hand-computed MACs, roles and edges."""

from __future__ import annotations

import numpy as np
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
    w = parse(model(nodes, {"x": (F32, [1, tokens, width])}, {"y": (F32, [1, tokens, width])}, initializers=inits))
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
        "merge",
    }
    # every reshape here splits or merges the last axis: exact affine accesses
    assert all(op.access is not None for n in w.nodes for op in n.operands)
    assert w.node("softmax").protected_loops == ("OX",)
    assert w.constants == frozenset({"w_qkv", "w_o", "scale"})
