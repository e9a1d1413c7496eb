"""Example workloads built directly in stream-core IR, with streaming tilings (tests and benchmarks).

* :func:`diamond`: ``a -> b -> d`` and ``a -> c -> d`` over a ``[rows, cols]`` tensor (element-wise).
* :func:`resnet_basic_block`: ``relu0 -> conv1 -> relu1 -> conv2 -> add(relu0, conv2) -> relu2``
  (3x3 convolutions, padding 1, batch norm folded), streamed by output rows.
* :func:`gpt2_block`: a GPT-2 decoder block: LayerNorm, Q/K/V projections, per-head scores, softmax,
  context, output projection, residual add, LayerNorm, MLP (GELU), residual add; streamed by blocks
  of sequence rows, heads/columns in blocks of the head size.
* :func:`attention_block`: the attention part of :func:`gpt2_block` alone.

Each builder returns the workload and the per-node :class:`~stream_itensor.tiling.KernelTiling`.
:func:`reconvergent_cases` gives the dataflow graphs of a diamond with unequal branch latencies, a
residual block and an attention block with hand-given kernel profiles (the tests' and benchmark's
evidence cases).
"""

from __future__ import annotations

from collections.abc import Sequence

from stream_core.ir import AffineExpr, LoopDim, Node, Operand, TensorSpec, Workload
from stream_itensor.dataflow import DataflowGraph, build_dataflow
from stream_itensor.fusion import fuse
from stream_itensor.graph import build_stream_graph
from stream_itensor.profiles import KernelProfile
from stream_itensor.tiling import KernelTiling

DTYPE = "float32"
BITS = 32


def _ax(*dims: str) -> tuple[AffineExpr, ...]:
    return tuple(AffineExpr.of(d) for d in dims)


def _op(role: str, tensor: str, access: Sequence[AffineExpr]) -> Operand:
    return Operand(role, tensor, BITS, tuple(access))


def _eltwise(
    name: str,
    op_type: str,
    inputs: Sequence[str],
    out: str,
    dims: Sequence[tuple[str, int]],
    weights: Sequence[tuple[str, int]] = (),
) -> Node:
    names = [d for d, _ in dims]
    operands = [_op("input", t, _ax(*names)) for t in inputs]
    operands += [_op("weight", t, _ax(names[axis])) for t, axis in weights]
    operands.append(_op("output", out, _ax(*names)))
    return Node(name, op_type, [LoopDim(d, n) for d, n in dims], operands)


def _matmul(name: str, a: str, w: str, out: str, m: int, n: int, k: int, *, weight: bool = True) -> Node:
    return Node(
        name,
        "MatMul",
        [LoopDim("m", m), LoopDim("n", n), LoopDim("k", k)],
        [
            _op("input", a, _ax("m", "k")),
            _op("weight" if weight else "input", w, _ax("k", "n")),
            _op("output", out, _ax("m", "n")),
        ],
        mac_op=True,
    )


def diamond(rows: int = 64, cols: int = 16) -> tuple[Workload, dict[str, KernelTiling]]:
    """``a`` feeds ``b`` and ``c``; ``d`` adds their outputs. Streamed one row per token."""
    dims = [("r", rows), ("c", cols)]
    tensors = {t: TensorSpec(t, (rows, cols), DTYPE) for t in ("x", "ya", "yb", "yc", "yd")}
    nodes = [
        _eltwise("a", "Relu", ["x"], "ya", dims),
        _eltwise("b", "Tanh", ["ya"], "yb", dims),
        _eltwise("c", "Relu", ["ya"], "yc", dims),
        _eltwise("d", "Add", ["yb", "yc"], "yd", dims),
    ]
    workload = Workload("diamond", nodes, tensors, inputs=["x"], outputs=["yd"])
    return workload, {n.name: KernelTiling({"r": 1}) for n in nodes}


def _conv(name: str, x: str, w: str, out: str, c: int, k: int, h: int, wd: int) -> Node:
    loops = [
        LoopDim("b", 1),
        LoopDim("ox", wd),
        LoopDim("oy", h),
        LoopDim("fx", 3),
        LoopDim("fy", 3),
        LoopDim("c", c),
        LoopDim("k", k),
    ]
    window_y = AffineExpr((("oy", 1), ("fy", 1)), -1)
    window_x = AffineExpr((("ox", 1), ("fx", 1)), -1)
    return Node(
        name,
        "Conv",
        loops,
        [
            _op("input", x, (AffineExpr.of("b"), AffineExpr.of("c"), window_y, window_x)),
            _op("weight", w, _ax("k", "c", "fy", "fx")),
            _op("output", out, _ax("b", "k", "oy", "ox")),
        ],
        mac_op=True,
        attributes={"pads": (1, 1, 1, 1), "strides": (1, 1)},
    )


def resnet_basic_block(
    channels: int = 64, height: int = 56, width: int = 56, rows: int = 1
) -> tuple[Workload, dict[str, KernelTiling]]:
    """ResNet basic block (``channels`` in and out, stride 1) streamed ``rows`` output rows per token."""
    shape = (1, channels, height, width)
    act = ["x", "y0", "c1", "r1", "c2", "s", "out"]
    tensors = {t: TensorSpec(t, shape, DTYPE) for t in act}
    tensors.update({w: TensorSpec(w, (channels, channels, 3, 3), DTYPE) for w in ("w1", "w2")})
    dims = [("b", 1), ("c", channels), ("h", height), ("w", width)]
    nodes = [
        _eltwise("relu0", "Relu", ["x"], "y0", dims),
        _conv("conv1", "y0", "w1", "c1", channels, channels, height, width),
        _eltwise("relu1", "Relu", ["c1"], "r1", dims),
        _conv("conv2", "r1", "w2", "c2", channels, channels, height, width),
        _eltwise("add", "Add", ["y0", "c2"], "s", dims),
        _eltwise("relu2", "Relu", ["s"], "out", dims),
    ]
    workload = Workload("resnet_basic_block", nodes, tensors, inputs=["x"], outputs=["out"], constants=["w1", "w2"])
    tilings = {n.name: KernelTiling({"oy" if n.op_type == "Conv" else "h": rows}) for n in nodes}
    return workload, tilings


def _attention_nodes(seq: int, hidden: int, heads: int, src: str) -> tuple[list[Node], dict[str, TensorSpec]]:
    dh = hidden // heads
    t = {n: TensorSpec(n, (seq, hidden), DTYPE) for n in ("a", "q", "k", "v", "ctx")}
    t.update({n: TensorSpec(n, (heads, seq, seq), DTYPE) for n in ("scores", "probs")})
    t.update({n: TensorSpec(n, (hidden, hidden), DTYPE) for n in ("wq", "wk", "wv")})
    t.update({n: TensorSpec(n, (hidden,), DTYPE) for n in ("g1", "b1")})
    head_col = AffineExpr((("h", dh), ("d", 1)))
    nodes = [
        _eltwise("ln1", "LayerNormalization", [src], "a", [("s", seq), ("e", hidden)], weights=[("g1", 1), ("b1", 1)]),
        _matmul("q_proj", "a", "wq", "q", seq, hidden, hidden),
        _matmul("k_proj", "a", "wk", "k", seq, hidden, hidden),
        _matmul("v_proj", "a", "wv", "v", seq, hidden, hidden),
        Node(
            "scores",
            "MatMul",
            [LoopDim("h", heads), LoopDim("s", seq), LoopDim("t", seq), LoopDim("d", dh)],
            [
                _op("input", "q", (AffineExpr.of("s"), head_col)),
                _op("input", "k", (AffineExpr.of("t"), head_col)),
                _op("output", "scores", _ax("h", "s", "t")),
            ],
            mac_op=True,
        ),
        _eltwise("softmax", "Softmax", ["scores"], "probs", [("h", heads), ("s", seq), ("t", seq)]),
        Node(
            "context",
            "MatMul",
            [LoopDim("h", heads), LoopDim("s", seq), LoopDim("d", dh), LoopDim("t", seq)],
            [
                _op("input", "probs", _ax("h", "s", "t")),
                _op("input", "v", (AffineExpr.of("t"), head_col)),
                _op("output", "ctx", (AffineExpr.of("s"), head_col)),
            ],
            mac_op=True,
        ),
    ]
    return nodes, t


def _attention_tilings(rows: int, dh: int) -> dict[str, KernelTiling]:
    return {
        "ln1": KernelTiling({"s": rows}),
        "q_proj": KernelTiling({"m": rows, "n": dh}),
        "k_proj": KernelTiling({"m": rows, "n": dh}),
        "v_proj": KernelTiling({"m": rows, "n": dh}),
        "scores": KernelTiling({"s": rows, "h": 1}, order=("s", "h")),
        "softmax": KernelTiling({"s": rows, "h": 1}, order=("s", "h")),
        "context": KernelTiling({"s": rows, "h": 1}, order=("s", "h")),
    }


def attention_block(
    seq: int = 64, hidden: int = 128, heads: int = 2, rows: int = 8
) -> tuple[Workload, dict[str, KernelTiling]]:
    """LayerNorm, Q/K/V projections and per-head attention (three branches reconverging)."""
    nodes, tensors = _attention_nodes(seq, hidden, heads, "x")
    tensors["x"] = TensorSpec("x", (seq, hidden), DTYPE)
    workload = Workload(
        "attention_block", nodes, tensors, inputs=["x"], outputs=["ctx"], constants=["wq", "wk", "wv", "g1", "b1"]
    )
    return workload, _attention_tilings(rows, hidden // heads)


def gpt2_block(
    seq: int = 128, hidden: int = 768, heads: int = 12, rows: int = 16, mlp: int | None = None
) -> tuple[Workload, dict[str, KernelTiling]]:
    """A GPT-2 decoder block (pre-LayerNorm attention and MLP with residual adds)."""
    mlp = mlp or 4 * hidden
    dh = hidden // heads
    nodes, tensors = _attention_nodes(seq, hidden, heads, "x")
    for name in ("x", "proj", "r1", "m", "f2", "y"):
        tensors[name] = TensorSpec(name, (seq, hidden), DTYPE)
    tensors.update({n: TensorSpec(n, (seq, mlp), DTYPE) for n in ("f1", "gl")})
    tensors["wo"] = TensorSpec("wo", (hidden, hidden), DTYPE)
    tensors["w1"] = TensorSpec("w1", (hidden, mlp), DTYPE)
    tensors["w2"] = TensorSpec("w2", (mlp, hidden), DTYPE)
    tensors.update({n: TensorSpec(n, (hidden,), DTYPE) for n in ("g2", "b2")})
    row = [("s", seq), ("e", hidden)]
    nodes += [
        _matmul("o_proj", "ctx", "wo", "proj", seq, hidden, hidden),
        _eltwise("add1", "Add", ["x", "proj"], "r1", row),
        _eltwise("ln2", "LayerNormalization", ["r1"], "m", row, weights=[("g2", 1), ("b2", 1)]),
        _matmul("fc1", "m", "w1", "f1", seq, mlp, hidden),
        _eltwise("gelu", "Gelu", ["f1"], "gl", [("s", seq), ("e", mlp)]),
        _matmul("fc2", "gl", "w2", "f2", seq, hidden, mlp),
        _eltwise("add2", "Add", ["r1", "f2"], "y", row),
    ]
    constants = ["wq", "wk", "wv", "wo", "w1", "w2", "g1", "b1", "g2", "b2"]
    workload = Workload("gpt2_block", nodes, tensors, inputs=["x"], outputs=["y"], constants=constants)
    tilings = _attention_tilings(rows, dh)
    tilings.update(
        {
            "o_proj": KernelTiling({"m": rows, "n": dh}),
            "add1": KernelTiling({"s": rows, "e": dh}),
            "ln2": KernelTiling({"s": rows}),
            "fc1": KernelTiling({"m": rows, "n": dh}),
            "gelu": KernelTiling({"s": rows, "e": dh}),
            "fc2": KernelTiling({"m": rows, "n": dh}),
            "add2": KernelTiling({"s": rows, "e": dh}),
        }
    )
    return workload, tilings


def reconvergent_cases() -> dict[str, DataflowGraph]:
    """Small graphs with reconvergent paths, one fusion group each, with profiles (interval, delay):

    * ``diamond``: 32 rows; ``b`` has a 40-cycle latency, ``c`` 2 cycles, ``d`` runs every 4 cycles;
    * ``residual``: :func:`resnet_basic_block` (8 channels, 16x16); convolutions 30 cycles per row,
      element-wise kernels 5;
    * ``attention``: :func:`attention_block` defaults; every kernel 20 cycles per tile, 25 latency.
    """
    wl, t = diamond(rows=32, cols=8)
    unequal = {"a": KernelProfile(1, 1), "b": KernelProfile(1, 40), "c": KernelProfile(1, 2), "d": KernelProfile(4, 4)}
    (dia,) = build_dataflow(fuse(build_stream_graph(wl, t)), unequal)
    wl, t = resnet_basic_block(channels=8, height=16, width=16)
    rows = {n.name: KernelProfile(30, 30) if n.op_type == "Conv" else KernelProfile(5, 5) for n in wl.nodes}
    (res,) = build_dataflow(fuse(build_stream_graph(wl, t)), rows)
    wl, t = attention_block()
    (att,) = build_dataflow(fuse(build_stream_graph(wl, t)), {n.name: KernelProfile(20, 25) for n in wl.nodes})
    return {"diamond": dia, "residual": res, "attention": att}
