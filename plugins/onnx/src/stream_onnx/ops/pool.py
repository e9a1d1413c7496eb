"""Pooling: windowed MaxPool/AveragePool and the global pools (no weights, no MACs).

MaxPool/AveragePool loops follow Stream: ``B, K, OY, OX, FY, FX`` (1-D: ``B, K, OX, FX``); the global
pools ``B, C, OY, OX, IY, IX`` (output axes of size 1, then the reduced input axes).
"""

from __future__ import annotations

from typing import Any

import onnx

from stream_core.ir import AffineExpr, Node, OperandRole
from stream_onnx.access import SPATIAL_NAMES, make_loops, window_expr
from stream_onnx.graph import GraphView
from stream_onnx.ops.window import read_window

_FILTER = {1: ("FX",), 2: ("FY", "FX")}


def parse_pool(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Input ``(B, K, sy*OY+dy*FY-pad_top, sx*OX+dx*FX-pad_left)``, output ``(B, K, OY, OX)``; windows that
    reach past the input (padding, ``ceil_mode``) are clipped to it."""
    x, y = node.input[0], node.output[0]
    xs, ys = graph.shape(x), graph.shape(y)
    spatial = len(xs) - 2
    if spatial not in _FILTER:
        raise graph.error(node, f"{spatial}-D {node.op_type} is not supported (1-D and 2-D are)")
    if "kernel_shape" not in graph.attributes(node):
        raise graph.error(node, "the kernel_shape attribute is required", attribute="kernel_shape")
    window = read_window(node, graph, xs[2:], ys[2:])
    outs, filters = SPATIAL_NAMES[spatial], _FILTER[spatial]
    exprs = [
        window_expr(o, f, s, d, p)
        for o, f, s, d, p in zip(outs, filters, window.strides, window.dilations, window.pads_begin, strict=True)
    ]
    b, k = AffineExpr.of("B"), AffineExpr.of("K")
    operands = [
        graph.operand(x, OperandRole.INPUT, (b, k, *exprs)),
        graph.operand(y, OperandRole.OUTPUT, (b, k, *(AffineExpr.of(o) for o in outs))),
    ]
    attributes = graph.attributes(node)
    extra: dict[str, Any] = {key: attributes[key] for key in ("ceil_mode", "count_include_pad") if key in attributes}
    loops = make_loops(("B", "K", *outs, *filters), (xs[0], xs[1], *ys[2:], *window.kernel))
    return [graph.make_node(node, loops, operands, attributes={**window.attributes, **extra})]


def parse_global_pool(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Input ``(B, C, IY, IX)``, output ``(B, C, OY, OX)`` with ``OY = OX = 1``."""
    x, y = node.input[0], node.output[0]
    xs, ys = graph.shape(x), graph.shape(y)
    spatial = len(xs) - 2
    if spatial not in SPATIAL_NAMES or spatial < 1:
        raise graph.error(node, f"{spatial}-D {node.op_type} is not supported (1-D to 3-D are)")
    outs = SPATIAL_NAMES[spatial]
    ins = tuple("I" + name[1:] for name in outs)
    b, c = AffineExpr.of("B"), AffineExpr.of("C")
    operands = [
        graph.operand(x, OperandRole.INPUT, (b, c, *(AffineExpr.of(i) for i in ins))),
        graph.operand(y, OperandRole.OUTPUT, (b, c, *(AffineExpr.of(o) for o in outs))),
    ]
    loops = make_loops(("B", "C", *outs, *ins), (*xs[:2], *ys[2:], *xs[2:]))
    return [graph.make_node(node, loops, operands)]
