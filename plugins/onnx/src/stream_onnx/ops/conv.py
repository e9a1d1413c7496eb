"""Conv and ConvTranspose (1-D and 2-D, grouped and depthwise): MAC loop nests with exact windows.

2-D Conv loops in Stream's positional order: ``B, OX, OY, FX, FY, C, K`` and, for ``group > 1``,
``G`` last (D7); ``C`` and ``K`` then count channels *per group* (depthwise: ``C = 1``). 1-D Conv
drops the Y loops: ``B, OX, FX, C, K (, G)``. ConvTranspose iterates over input pixels instead:
``B, IX, IY, FX, FY, C, K (, G)``, writing output ``stride*i + dilation*f - pad_begin``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import onnx

from stream_core.ir import AffineExpr, LoopDim, Node, Operand, OperandRole
from stream_onnx.access import make_loops, window_expr
from stream_onnx.graph import GraphView
from stream_onnx.ops.window import Window, read_window

_OUT = {1: ("OX",), 2: ("OY", "OX")}
_IN = {1: ("IX",), 2: ("IY", "IX")}
_FILTER = {1: ("FX",), 2: ("FY", "FX")}


def _channel(group: int, per_group: int, loop: str) -> AffineExpr:
    """Channel index ``G*per_group + loop`` (just ``loop`` without groups)."""
    return AffineExpr((("G", per_group), (loop, 1))) if group > 1 else AffineExpr.of(loop)


def _group(node: onnx.NodeProto, graph: GraphView, consistent: Callable[[int], bool], shapes: str) -> int:
    """The ``group`` attribute, checked against the channel counts by ``consistent``."""
    group = int(graph.attributes(node).get("group", 1))
    if group < 1 or not consistent(group):
        raise graph.error(node, f"group={group} does not fit the channels ({shapes})", attribute="group")
    return group


def _prelude(node: onnx.NodeProto, graph: GraphView, *, same_allowed: bool) -> tuple[int, Window]:
    """Spatial rank and window of a (transposed) convolution, checked against its weight shape."""
    xs, ws = graph.shape(node.input[0]), graph.shape(node.input[1])
    spatial = len(xs) - 2
    if spatial not in _FILTER:
        raise graph.error(node, f"{spatial}-D {node.op_type} is not supported (1-D and 2-D are)")
    window = read_window(node, graph, xs[2:], graph.shape(node.output[0])[2:], kernel=ws[2:], same_allowed=same_allowed)
    if window.kernel != tuple(ws[2:]):
        raise graph.error(node, f"kernel_shape {list(window.kernel)} differs from the weight shape {list(ws)}")
    return spatial, window


def _nest(
    node: onnx.NodeProto,
    graph: GraphView,
    pixels: tuple[str, ...],
    pixel_sizes: Sequence[int],
    window: Window,
    channels: tuple[int, int, int],
) -> tuple[tuple[LoopDim, ...], list[AffineExpr], tuple[AffineExpr, AffineExpr]]:
    """Loops ``B, <pixels X, Y>, FX, FY, C, K (, G)``, the window expressions (ONNX axis order) and the
    input/output channel expressions, for ``channels = (per-group in, per-group out, group)``."""
    filters = _FILTER[len(pixels)]
    per_group_in, per_group_out, group = channels
    names = ["B", *pixels[::-1], *filters[::-1], "C", "K"]
    sizes = [graph.shape(node.input[0])[0], *pixel_sizes[::-1], *window.kernel[::-1], per_group_in, per_group_out]
    if group > 1:
        names.append("G")
        sizes.append(group)
    exprs = [
        window_expr(o, f, s, d, p)
        for o, f, s, d, p in zip(pixels, filters, window.strides, window.dilations, window.pads_begin, strict=True)
    ]
    return make_loops(names, sizes), exprs, (_channel(group, per_group_in, "C"), _channel(group, per_group_out, "K"))


def _finish(
    node: onnx.NodeProto,
    graph: GraphView,
    loops: Sequence[LoopDim],
    operands: list[Operand],
    window: Window,
    group: int,
) -> list[Node]:
    """Append the optional bias (indexed by the output channel) and build the MAC node."""
    bias = graph.input(node, 2)
    if bias is not None:
        output_access = operands[-1].access
        assert output_access is not None  # the output of a convolution is indexed affinely
        operands.insert(2, graph.operand(bias, OperandRole.WEIGHT, output_access[1:2]))
    attributes = {**window.attributes, "group": group}
    return [graph.make_node(node, loops, operands, mac_op=True, attributes=attributes)]


def parse_conv(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Input ``(B, G*C_g+C, sy*OY+dy*FY-pad_top, sx*OX+dx*FX-pad_left)``, weight ``(G*K_g+K, C, FY, FX)``,
    output ``(B, G*K_g+K, OY, OX)``, optional bias ``(G*K_g+K)`` as a second weight."""
    x, w, y = node.input[0], node.input[1], node.output[0]
    xs, ws, ys = graph.shape(x), graph.shape(w), graph.shape(y)
    spatial, window = _prelude(node, graph, same_allowed=True)
    group = _group(node, graph, lambda g: xs[1] == ws[1] * g and ws[0] % g == 0, f"input {list(xs)}, weight {list(ws)}")
    outs = _OUT[spatial]
    loops, exprs, (in_channel, out_channel) = _nest(node, graph, outs, ys[2:], window, (ws[1], ws[0] // group, group))
    b = AffineExpr.of("B")
    operands = [
        graph.operand(x, OperandRole.INPUT, (b, in_channel, *exprs)),
        graph.operand(w, OperandRole.WEIGHT, (out_channel, AffineExpr.of("C"), *map(AffineExpr.of, _FILTER[spatial]))),
        graph.operand(y, OperandRole.OUTPUT, (b, out_channel, *map(AffineExpr.of, outs))),
    ]
    return _finish(node, graph, loops, operands, window, group)


def parse_conv_transpose(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Input ``(B, G*C_g+C, IY, IX)``, weight ``(G*C_g+C, K, FY, FX)``, output
    ``(B, G*K_g+K, sy*IY+dy*FY-pad_top, sx*IX+dx*FX-pad_left)`` (clipped to the output); explicit pads only."""
    x, w, y = node.input[0], node.input[1], node.output[0]
    xs, ws = graph.shape(x), graph.shape(w)
    if "output_shape" in graph.attributes(node):
        raise graph.error(node, "output_shape is not supported; give explicit pads", attribute="output_shape")
    spatial, window = _prelude(node, graph, same_allowed=False)
    group = _group(node, graph, lambda g: xs[1] == ws[0] and xs[1] % g == 0, f"input {list(xs)}, weight {list(ws)}")
    ins = _IN[spatial]
    loops, exprs, (in_channel, out_channel) = _nest(node, graph, ins, xs[2:], window, (xs[1] // group, ws[1], group))
    b = AffineExpr.of("B")
    operands = [
        graph.operand(x, OperandRole.INPUT, (b, in_channel, *map(AffineExpr.of, ins))),
        graph.operand(w, OperandRole.WEIGHT, (in_channel, AffineExpr.of("K"), *map(AffineExpr.of, _FILTER[spatial]))),
        graph.operand(y, OperandRole.OUTPUT, (b, out_channel, *exprs)),
    ]
    return _finish(node, graph, loops, operands, window, group)
