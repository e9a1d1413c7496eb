"""The built-in blocks, each an ONNX graph built from a few integer parameters (no weights, no downloads).

Every builder is ``(values, context) -> Workload`` (:class:`~stream_blocks.hookspecs.BlockBuilder`).
Operators are the ones an export of the same PyTorch module gives (``Linear`` -> ``MatMul`` + ``Add``,
SiLU -> ``Sigmoid`` + ``Mul``), so a block and an exported model of the same shape have the same nodes,
loops and MACs. Attention keeps the KV cache as graph inputs (data) of ``kv`` cached tokens: ``kv=0``
is prefill of ``t`` tokens, ``t=1 kv=L`` one decode step. Normalisations are single nodes
(``LayerNormalization``, ``RMSNormalization``); batch normalisation is folded into the convolution
biases, as inference exports fold it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from stream_blocks.onnx_graph import OnnxGraph
from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir import Workload

Values = Mapping[str, int]


def _require(condition: bool, block: str, field: str, message: str) -> None:
    if not condition:
        raise InputError(Problem(message, file=f"block:{block}", field=field))


def _spec(block: str, values: Values) -> str:
    return f"block:{block}?" + "&".join(f"{k}={v}" for k, v in values.items())


# -- pieces ------------------------------------------------------------------------------------------
def linear(g: OnnxGraph, x: str, d_in: int, d_out: int, name: str, bias: bool = True) -> str:
    """``x @ W (+ b)`` with ``W`` of shape ``(d_in, d_out)``: a PyTorch ``Linear`` as exported."""
    y = g.op("MatMul", [x, g.param(f"{name}.weight", [d_in, d_out])], name=name)
    return g.op("Add", [y, g.param(f"{name}.bias", [d_out])], name=f"{name}.bias_add") if bias else y


def split_heads(g: OnnxGraph, x: str, b: int, t: int, heads: int, hd: int) -> str:
    """``(b, t, heads*hd) -> (b, heads, t, hd)``."""
    return g.op("Transpose", [g.op("Reshape", [x, g.const([b, t, heads, hd])])], perm=[0, 2, 1, 3])


def merge_heads(g: OnnxGraph, x: str, b: int, t: int, width: int) -> str:
    """``(b, heads, t, hd) -> (b, t, heads*hd)``."""
    return g.op("Reshape", [g.op("Transpose", [x], perm=[0, 2, 1, 3]), g.const([b, t, width])])


def with_cache(g: OnnxGraph, x: str, name: str, shape: list[int]) -> str:
    """``x`` after the cached keys or values (a graph input of ``shape``) along the token axis."""
    return g.op("Concat", [g.input(name, shape), x], axis=-2)


def attention_scores(g: OnnxGraph, q: str, k_t: str, hd: int, t: int, s: int) -> str:
    """``softmax(q @ k_t / sqrt(hd) + causal mask)``; a single new token needs no mask."""
    scores = g.op("Mul", [g.op("MatMul", [q, k_t], name="scores"), g.const(1 / math.sqrt(hd), dtype="float32")])
    if t > 1:
        scores = g.op("Add", [scores, g.param("causal_mask", [t, s])], name="mask")
    return g.op("Softmax", [scores], axis=-1)


def swiglu(g: OnnxGraph, x: str, d: int, ffn: int, name: str) -> str:
    """``down(silu(gate(x)) * up(x))``, bias-free."""
    gate = linear(g, x, d, ffn, f"{name}.gate", bias=False)
    up = linear(g, x, d, ffn, f"{name}.up", bias=False)
    hidden = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])], name="silu"), up])
    return linear(g, hidden, ffn, d, f"{name}.down", bias=False)


def rope(g: OnnxGraph, x: str, t: int, hd: int) -> str:
    """Rotary position embedding ``x*cos + rotate_half(x)*sin`` on ``(..., t, hd)``; tables are constants."""
    half = hd // 2
    first = g.op("Slice", [x, g.const([0]), g.const([half]), g.const([-1])])
    second = g.op("Slice", [x, g.const([half]), g.const([hd]), g.const([-1])])
    rotated = g.op("Concat", [g.op("Neg", [second]), first], axis=-1)
    cos, sin = g.param("rope.cos", [t, hd]), g.param("rope.sin", [t, hd])
    return g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rotated, sin])])


# -- blocks ------------------------------------------------------------------------------------------
def gpt2(values: Values, context: RunContext) -> Workload:
    """GPT-2 decoder layer: pre-LayerNorm, fused QKV with biases, causal multi-head attention, GELU MLP."""
    b, t, kv, d, h = (values[k] for k in ("b", "t", "kv", "d", "h"))
    ffn = values["ffn"] or 4 * d
    _require(d % h == 0, "gpt2", "h", f"d={d} is not a multiple of the head count h={h}")
    hd, s = d // h, kv + t
    g = OnnxGraph("gpt2")
    x = g.input("x", [b, t, d])
    ln1 = g.op("LayerNormalization", [x, g.param("ln1.weight", [d]), g.param("ln1.bias", [d])], axis=-1)
    q, k, v = g.op_n("Split", [linear(g, ln1, d, 3 * d, "attn.qkv"), g.const([d, d, d])], 3, axis=2)
    q, k, v = (split_heads(g, y, b, t, h, hd) for y in (q, k, v))
    if kv:
        k, v = (with_cache(g, y, f"{n}_cache", [b, h, kv, hd]) for y, n in ((k, "k"), (v, "v")))
    probs = attention_scores(g, q, g.op("Transpose", [k], perm=[0, 1, 3, 2]), hd, t, s)
    context_ = merge_heads(g, g.op("MatMul", [probs, v], name="context"), b, t, d)
    x = g.op("Add", [x, linear(g, context_, d, d, "attn.proj")], name="residual1")
    ln2 = g.op("LayerNormalization", [x, g.param("ln2.weight", [d]), g.param("ln2.bias", [d])], axis=-1)
    mlp = linear(g, g.op("Gelu", [linear(g, ln2, d, ffn, "mlp.fc")]), ffn, d, "mlp.proj")
    g.output(g.op("Add", [x, mlp], name="residual2"))
    return g.workload(context, _spec("gpt2", values))


def llama(values: Values, context: RunContext) -> Workload:
    """Llama decoder layer: RMSNorm, RoPE, grouped-query attention, SwiGLU MLP, no biases."""
    b, t, kv, d, h, ffn = (values[k] for k in ("b", "t", "kv", "d", "h", "ffn"))
    kvh = values["kvh"] or h
    _require(d % h == 0, "llama", "h", f"d={d} is not a multiple of the head count h={h}")
    _require(h % kvh == 0, "llama", "kvh", f"the head count h={h} is not a multiple of the KV head count kvh={kvh}")
    _require((d // h) % 2 == 0, "llama", "h", f"RoPE needs an even head size, d/h is {d // h}")
    hd, s, group = d // h, kv + t, h // kvh
    g = OnnxGraph("llama")
    x = g.input("x", [b, t, d])
    n1 = g.op("RMSNormalization", [x, g.param("norm1.weight", [d])], axis=-1)
    q = rope(g, split_heads(g, linear(g, n1, d, h * hd, "attn.q", bias=False), b, t, h, hd), t, hd)
    k = rope(g, split_heads(g, linear(g, n1, d, kvh * hd, "attn.k", bias=False), b, t, kvh, hd), t, hd)
    v = split_heads(g, linear(g, n1, d, kvh * hd, "attn.v", bias=False), b, t, kvh, hd)
    if kv:
        k, v = (with_cache(g, y, f"{n}_cache", [b, kvh, kv, hd]) for y, n in ((k, "k"), (v, "v")))
    # each KV head serves `group` query heads: broadcast over a size-1 group axis, no copy of K or V
    q = g.op("Reshape", [q, g.const([b, kvh, group, t, hd])])
    k_t = g.op("Unsqueeze", [g.op("Transpose", [k], perm=[0, 1, 3, 2]), g.const([2])])
    probs = attention_scores(g, q, k_t, hd, t, s)
    heads = g.op("MatMul", [probs, g.op("Unsqueeze", [v, g.const([2])])], name="context")
    heads = g.op("Reshape", [heads, g.const([b, h, t, hd])])
    x = g.op("Add", [x, linear(g, merge_heads(g, heads, b, t, d), h * hd, d, "attn.o", bias=False)], name="residual1")
    n2 = g.op("RMSNormalization", [x, g.param("norm2.weight", [d])], axis=-1)
    g.output(g.op("Add", [x, swiglu(g, n2, d, ffn, "mlp")], name="residual2"))
    return g.workload(context, _spec("llama", values))


def expert_rows(slots: int, experts: int) -> list[int]:
    """Rows per expert when ``slots`` token slots are spread as evenly as possible (first experts first)."""
    return [slots // experts + (1 if e < slots % experts else 0) for e in range(experts)]


def moe(values: Values, context: RunContext) -> Workload:
    """Mixture-of-experts FFN: a softmax router, top-k routing with balanced load, SwiGLU experts.

    Each of the ``t*k`` token slots goes to one expert, spread evenly (:func:`expert_rows`); which token
    goes where is decided at run time and does not change the work, so the dispatch is a static slice.
    Expert outputs are weighted by their gates and summed per token."""
    t, d, ffn, e, top = (values[k] for k in ("t", "d", "ffn", "e", "k"))
    _require(top <= e, "moe", "k", f"top-k k={top} exceeds the expert count e={e}")
    g = OnnxGraph("moe")
    x = g.input("x", [t, d])
    probs = g.op("Softmax", [linear(g, x, d, e, "router", bias=False)], axis=-1)
    slots = g.op(
        "Reshape", [g.op("Expand", [g.op("Unsqueeze", [x, g.const([1])]), g.const([t, top, d])]), g.const([t * top, d])]
    )
    outputs, start = [], 0
    for expert, rows in enumerate(expert_rows(t * top, e)):
        if rows:
            mine = g.op("Slice", [slots, g.const([start]), g.const([start + rows]), g.const([0])])
            outputs.append(swiglu(g, mine, d, ffn, f"expert{expert}"))
            start += rows
    gates = g.op("Slice", [probs, g.const([0]), g.const([top]), g.const([1])], name="gates")
    weighted = g.op("Mul", [g.op("Concat", outputs, axis=0), g.op("Reshape", [gates, g.const([t * top, 1])])])
    g.output(g.op("ReduceSum", [g.op("Reshape", [weighted, g.const([t, top, d])]), g.const([1])], keepdims=0))
    return g.workload(context, _spec("moe", values))


def conv(g: OnnxGraph, x: str, c_in: int, c_out: int, kernel: int, stride: int, name: str, groups: int = 1) -> str:
    """A biased ``kernel x kernel`` convolution with 'same' padding (batch normalisation folded in)."""
    weight = g.param(f"{name}.weight", [c_out, c_in // groups, kernel, kernel])
    pad = kernel // 2
    return g.op(
        "Conv",
        [x, weight, g.param(f"{name}.bias", [c_out])],
        name=name,
        kernel_shape=[kernel, kernel],
        strides=[stride, stride],
        pads=[pad] * 4,
        group=groups,
    )


def resnet(values: Values, context: RunContext) -> Workload:
    """ResNet stage of basic blocks: two 3x3 convolutions and a shortcut (a strided 1x1 projection when
    the shape changes), ReLU after each block; the first block takes the stride."""
    b, hw, c_in, c, n, stride = (values[k] for k in ("b", "hw", "c_in", "c", "n", "stride"))
    g = OnnxGraph("resnet")
    x = g.input("x", [b, c_in, hw, hw])
    for i in range(n):
        cin, s = (c_in, stride) if i == 0 else (c, 1)
        y = conv(g, g.op("Relu", [conv(g, x, cin, c, 3, s, f"block{i}.conv1")]), c, c, 3, 1, f"block{i}.conv2")
        shortcut = x if s == 1 and cin == c else conv(g, x, cin, c, 1, s, f"block{i}.downsample")
        x = g.op("Relu", [g.op("Add", [y, shortcut])])
    g.output(x)
    return g.workload(context, _spec("resnet", values))


def mobilenet(values: Values, context: RunContext) -> Workload:
    """MobileNetV2 stage of inverted residuals: 1x1 expansion, 3x3 depthwise, 1x1 projection, ReLU6
    after the first two, a residual when the shape is kept; the first block takes the stride."""
    b, hw, c_in, c, n, stride, expand = (values[k] for k in ("b", "hw", "c_in", "c", "n", "stride", "expand"))
    g = OnnxGraph("mobilenet")
    x = g.input("x", [b, c_in, hw, hw])
    low, high = g.const(0.0, dtype="float32"), g.const(6.0, dtype="float32")
    for i in range(n):
        cin, s = (c_in, stride) if i == 0 else (c, 1)
        hidden, y = cin * expand, x
        if expand != 1:
            y = g.op("Clip", [conv(g, y, cin, hidden, 1, 1, f"block{i}.expand"), low, high])
        y = g.op("Clip", [conv(g, y, hidden, hidden, 3, s, f"block{i}.depthwise", groups=hidden), low, high])
        y = conv(g, y, hidden, c, 1, 1, f"block{i}.project")
        x = g.op("Add", [x, y]) if s == 1 and cin == c else y
    g.output(x)
    return g.workload(context, _spec("mobilenet", values))
