"""Elementwise ops (unary and NumPy-broadcasting n-ary, Cast): one loop per output axis."""

from __future__ import annotations

from collections.abc import Sequence

import onnx

from stream_core.ir import Node, OperandRole
from stream_onnx.access import axis_names, broadcast_access, identity_access, make_loops
from stream_onnx.graph import GraphView


def parse_elementwise(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Loops over the output axes (names from :func:`~stream_onnx.access.axis_names`); every input is
    broadcast NumPy-style (size-1 or missing axes at index 0). All ONNX attributes are kept."""
    return _elementwise(node, graph, [t for t in node.input if t])


def parse_cast(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Cast and CastLike: elementwise over the output; each operand carries its own dtype. CastLike's
    second input only gives the target type: it is not read."""
    return _elementwise(node, graph, node.input[:1])


def _elementwise(node: onnx.NodeProto, graph: GraphView, inputs: Sequence[str]) -> list[Node]:
    out = node.output[0]
    out_shape = graph.shape(out)
    names = axis_names(len(out_shape))
    operands = []
    for tensor in inputs:
        try:
            access = broadcast_access(graph.shape(tensor), out_shape, names)
        except ValueError as exc:
            raise graph.error(node, f"input {tensor!r}: {exc}") from exc
        operands.append(graph.operand(tensor, graph.role(tensor), access))
    operands.append(graph.operand(out, OperandRole.OUTPUT, identity_access(names)))
    return [graph.make_node(node, make_loops(names, out_shape), operands, attributes=graph.attributes(node))]
