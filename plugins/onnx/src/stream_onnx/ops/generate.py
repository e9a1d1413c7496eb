"""Ops that generate a tensor from parameters: ConstantOfShape and Range.

Small results are folded into constants before parsing (:mod:`stream_onnx.fold`); a larger one (a
causal mask's fill, a long position range) is a node that writes its output. Shape-like inputs are
parameters folded into the node.
"""

from __future__ import annotations

import onnx
from onnx import numpy_helper

from stream_core.ir import Node, NodeKind, OperandRole
from stream_onnx.access import axis_names, identity_access, make_loops
from stream_onnx.graph import GraphView


def parse_constant_of_shape(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """A fill (data movement): loops over the output axes, no input read; ``value`` kept (default 0)."""
    y = node.output[0]
    shape = graph.shape(y)
    names = axis_names(len(shape))
    value = graph.attributes(node).get("value")
    fill = numpy_helper.to_array(value).reshape(-1)[0].item() if value is not None else 0.0
    operands = [graph.operand(y, OperandRole.OUTPUT, identity_access(names))]
    return [
        graph.make_node(
            node, make_loops(names, shape), operands, kind=NodeKind.DATA_MOVEMENT, attributes={"value": fill}
        )
    ]


def parse_range(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """``start + K * delta`` for ``K`` over the output: one loop ``K``; the scalar inputs ``start``,
    ``limit`` and ``delta`` are read whole."""
    y = node.output[0]
    (size,) = graph.shape(y)
    operands = [graph.operand(t, graph.role(t), ()) for t in node.input[:3]]
    operands.append(graph.operand(y, OperandRole.OUTPUT, identity_access(("K",))))
    return [graph.make_node(node, make_loops(("K",), (size,)), operands)]
