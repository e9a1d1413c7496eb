"""Small ONNX models (built with ``onnx.helper``, real weights as initializers) for tests and benchmarks.

* :func:`mlp`: Gemm + bias + Relu, then MatMul + Add + Relu (two layers);
* :func:`conv_block`: 3x3 Conv (pad 1) + bias, Relu, 2x2 MaxPool (stride 2);
* :func:`attention`: a GPT-2-style causal self-attention block: Q/K/V projections with biases, head split,
  scaled QK^T, causal mask, softmax, @V, head merge, output projection;
* :func:`decoder_block`: a GPT-2 decoder block (LayerNorm, attention, residual, LayerNorm, Gelu MLP, residual);
* :func:`transpose_skip`: reconvergent paths: ``y = r + T(T(r))`` with ``r = Relu(x)``. Each transpose needs
  the whole tensor before its first token, so the direct FIFO ``relu -> join`` must hold ``rows - 1`` row
  tokens (the join holds one): the §7.2 reference pattern inside a generated design.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IR_VERSION = 9  # readable by the onnxruntime in the venv (max IR 13)


class _Graph:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def weight(self, name: str, shape: tuple[int, ...], scale: float | None = None) -> str:
        fan_in = shape[0] if len(shape) > 1 else 1
        std = scale if scale is not None else 1.0 / math.sqrt(fan_in)
        value = (self.rng.standard_normal(shape) * std).astype(np.float32)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, name: str, **attributes: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attributes))
        return output

    def save(
        self, path: Path, name: str, inputs: dict[str, list[int]], outputs: dict[str, list[int]], opset: int = 17
    ) -> Path:
        graph = helper.make_graph(
            self.nodes,
            name,
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs.items()],
            self.initializers,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="stream-fpga-u55c"
        )
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model)
        path = Path(path)
        onnx.save(model, path)
        return path


def mlp(path: Path, batch: int = 8, features: int = 64, hidden: int = 128, out: int = 32, seed: int = 1) -> Path:
    g = _Graph(seed)
    h = g.node("Gemm", ["x", g.weight("w1", (features, hidden)), g.weight("b1", (hidden,), 0.1)], "h1", "fc1")
    r = g.node("Relu", [h], "r1", "relu1")
    m = g.node("MatMul", [r, g.weight("w2", (hidden, out))], "m2", "fc2")
    a = g.node("Add", [m, g.weight("b2", (out,), 0.1)], "a2", "bias2")
    g.node("Relu", [a], "y", "relu2")
    return g.save(path, "mlp", {"x": [batch, features]}, {"y": [batch, out]})


def conv_block(path: Path, channels: int = 4, filters: int = 8, size: int = 16, seed: int = 2) -> Path:
    g = _Graph(seed)
    w = g.weight("conv_w", (filters, channels, 3, 3), 1.0 / math.sqrt(9 * channels))
    c = g.node(
        "Conv", ["x", w, g.weight("conv_b", (filters,), 0.1)], "c", "conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]
    )
    r = g.node("Relu", [c], "r", "relu")
    g.node("MaxPool", [r], "y", "pool", kernel_shape=[2, 2], strides=[2, 2])
    half = size // 2
    return g.save(path, "conv_block", {"x": [1, channels, size, size]}, {"y": [1, filters, half, half]})


def _attention(g: _Graph, x: str, seq: int, hidden: int, heads: int, prefix: str = "") -> str:
    head = hidden // heads

    def proj(name: str, src: str) -> str:
        m = g.node(
            "MatMul",
            [src, g.weight(f"{prefix}w_{name}", (hidden, hidden))],
            f"{prefix}{name}_mm",
            f"{prefix}{name}_proj",
        )
        return g.node(
            "Add", [m, g.weight(f"{prefix}b_{name}", (hidden,), 0.1)], f"{prefix}{name}", f"{prefix}{name}_bias"
        )

    split = g.constant(f"{prefix}split_shape", np.array([seq, heads, head], dtype=np.int64))
    merge = g.constant(f"{prefix}merge_shape", np.array([seq, hidden], dtype=np.int64))
    heads_of = {}
    for name, perm in (("q", [1, 0, 2]), ("k", [1, 2, 0]), ("v", [1, 0, 2])):
        r = g.node("Reshape", [proj(name, x), split], f"{prefix}{name}_split", f"{prefix}{name}_reshape")
        heads_of[name] = g.node("Transpose", [r], f"{prefix}{name}_heads", f"{prefix}{name}_transpose", perm=perm)
    s = g.node("MatMul", [heads_of["q"], heads_of["k"]], f"{prefix}scores", f"{prefix}qk")
    scale = g.constant(f"{prefix}scale", np.array(1.0 / math.sqrt(head), dtype=np.float32))
    s = g.node("Mul", [s, scale], f"{prefix}scaled", f"{prefix}scale_mul")
    mask = np.triu(np.full((seq, seq), -1e4, dtype=np.float32), k=1)
    s = g.node("Add", [s, g.constant(f"{prefix}causal_mask", mask)], f"{prefix}masked", f"{prefix}mask_add")
    p = g.node("Softmax", [s], f"{prefix}probs", f"{prefix}softmax", axis=-1)
    o = g.node("MatMul", [p, heads_of["v"]], f"{prefix}context", f"{prefix}pv")
    o = g.node("Transpose", [o], f"{prefix}context_t", f"{prefix}merge_transpose", perm=[1, 0, 2])
    o = g.node("Reshape", [o, merge], f"{prefix}context_m", f"{prefix}merge_reshape")
    return proj("o", o)


def attention(path: Path, seq: int = 16, hidden: int = 64, heads: int = 2, seed: int = 3) -> Path:
    g = _Graph(seed)
    out = _attention(g, "x", seq, hidden, heads)
    g.nodes.append(helper.make_node("Identity", [out], ["y"], name="output"))
    return g.save(path, "attention", {"x": [seq, hidden]}, {"y": [seq, hidden]})


def decoder_block(path: Path, seq: int = 32, hidden: int = 768, heads: int = 12, seed: int = 4) -> Path:
    g = _Graph(seed)

    def layer_norm(src: str, name: str) -> str:
        scale = g.constant(f"{name}_g", np.ones(hidden, dtype=np.float32))
        bias = g.constant(f"{name}_b", np.zeros(hidden, dtype=np.float32))
        return g.node("LayerNormalization", [src, scale, bias], f"{name}_out", name, axis=-1, epsilon=1e-5)

    a = _attention(g, layer_norm("x", "ln1"), seq, hidden, heads, prefix="attn_")
    h = g.node("Add", ["x", a], "residual1", "residual1")
    m = layer_norm(h, "ln2")
    m = g.node("MatMul", [m, g.weight("w_fc", (hidden, 4 * hidden))], "fc_mm", "fc")
    m = g.node("Add", [m, g.weight("b_fc", (4 * hidden,), 0.1)], "fc_out", "fc_bias")
    m = g.node("Gelu", [m], "gelu_out", "gelu")
    m = g.node("MatMul", [m, g.weight("w_proj", (4 * hidden, hidden))], "proj_mm", "proj")
    m = g.node("Add", [m, g.weight("b_proj", (hidden,), 0.1)], "proj_out", "proj_bias")
    g.node("Add", [h, m], "y", "residual2")
    return g.save(path, "decoder_block", {"x": [seq, hidden]}, {"y": [seq, hidden]}, opset=20)


def transpose_skip(path: Path, rows: int = 16, cols: int = 32, seed: int = 5) -> Path:
    g = _Graph(seed)
    r = g.node("Relu", ["x"], "r", "relu")
    t = g.node("Transpose", [r], "t", "transpose1", perm=[1, 0])
    t = g.node("Transpose", [t], "t2", "transpose2", perm=[1, 0])
    g.node("Add", [r, t], "y", "join")
    return g.save(path, "transpose_skip", {"x": [rows, cols]}, {"y": [rows, cols]})
