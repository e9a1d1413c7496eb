"""Gemm and MatMul: MAC loop nests with ZigZag's names (rows ``D``, reduction ``C``, columns ``K``).

Positional order follows Stream: Gemm ``D0 D(m), D1 C(k), D2 K(n)``; MatMul puts the broadcast batch
loops first (``B``; ``B, H``; or ``B0, B1, ...`` for three or more) then ``D(m), K(n), C(k)``.
"""

from __future__ import annotations

import onnx

from stream_core.ir import AffineExpr, Node, OperandRole
from stream_onnx.access import broadcast_access, generic_names, make_loops
from stream_onnx.graph import GraphView

_BATCH_NAMES = {0: (), 1: ("B",), 2: ("B", "H")}


def batch_names(count: int) -> tuple[str, ...]:
    return _BATCH_NAMES.get(count, generic_names(count, "B"))


def parse_gemm(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """``Y = alpha * A' B' + beta * C``: A ``(D, C)`` (``(C, D)`` if transA), B ``(C, K)`` (``(K, C)`` if
    transB) as the weight, Y ``(D, K)``; the optional C broadcasts onto ``(D, K)`` as a second weight."""
    a, b, c, y = node.input[0], node.input[1], graph.input(node, 2), node.output[0]
    attributes = graph.attributes(node)
    trans_a, trans_b = int(attributes.get("transA", 0)), int(attributes.get("transB", 0))
    a_shape, b_shape, y_shape = graph.shape(a), graph.shape(b), graph.shape(y)
    m, k = a_shape[::-1] if trans_a else a_shape
    n = b_shape[0] if trans_b else b_shape[1]
    row, red, col = AffineExpr.of("D"), AffineExpr.of("C"), AffineExpr.of("K")
    operands = [
        graph.operand(a, OperandRole.INPUT, (red, row) if trans_a else (row, red)),
        graph.operand(b, OperandRole.WEIGHT, (col, red) if trans_b else (red, col)),
    ]
    if c is not None:
        try:
            operands.append(graph.operand(c, OperandRole.WEIGHT, broadcast_access(graph.shape(c), y_shape, ("D", "K"))))
        except ValueError as exc:
            raise graph.error(node, f"bias {c!r}: {exc}") from exc
    operands.append(graph.operand(y, OperandRole.OUTPUT, (row, col)))
    attributes = {
        "alpha": float(attributes.get("alpha", 1.0)),
        "beta": float(attributes.get("beta", 1.0)),
        "transA": trans_a,
        "transB": trans_b,
    }
    loops = make_loops(("D", "C", "K"), (m, k, n))
    return [graph.make_node(node, loops, operands, mac_op=True, attributes=attributes)]


def parse_matmul(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """NumPy ``matmul``: A ``(batch..., D, C)``, B ``(batch..., C, K)``, Y ``(batch..., D, K)``; batch axes
    broadcast (size 1 under a larger axis: index 0). A 1-D A (or B) is promoted to a row (column)
    whose size-1 ``D`` (``K``) loop stays in place. Each operand is a weight when it holds parameters."""
    a, b, y = node.input[0], node.input[1], node.output[0]
    a_shape, b_shape, y_shape = graph.shape(a), graph.shape(b), graph.shape(y)
    m = 1 if len(a_shape) == 1 else a_shape[-2]
    n = 1 if len(b_shape) == 1 else b_shape[-1]
    k = a_shape[-1]
    batch_shape = y_shape[: len(y_shape) - (len(a_shape) > 1) - (len(b_shape) > 1)]
    batch = batch_names(len(batch_shape))
    try:
        a_batch = broadcast_access(a_shape[:-2], batch_shape, batch)
        b_batch = broadcast_access(b_shape[:-2], batch_shape, batch)
    except ValueError as exc:
        raise graph.error(node, f"batch axes do not broadcast: {exc}") from exc
    row, red, col = AffineExpr.of("D"), AffineExpr.of("C"), AffineExpr.of("K")
    a_access = (*a_batch, row, red) if len(a_shape) > 1 else (red,)
    b_access = (*b_batch, red, col) if len(b_shape) > 1 else (red,)
    y_access = (
        *(AffineExpr.of(n_) for n_ in batch),
        *((row,) if len(a_shape) > 1 else ()),
        *((col,) if len(b_shape) > 1 else ()),
    )
    operands = [
        graph.operand(a, graph.role(a), a_access),
        graph.operand(b, graph.role(b), b_access),
        graph.operand(y, OperandRole.OUTPUT, y_access),
    ]
    loops = make_loops((*batch, "D", "K", "C"), (*batch_shape, m, n, k))
    return [graph.make_node(node, loops, operands, mac_op=True)]
