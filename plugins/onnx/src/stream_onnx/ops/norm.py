"""Normalisations and reductions, each one compute node (no MACs).

* BatchNormalization (inference): loops ``B, C, OY, OX`` over the input; scale, bias, mean and
  variance are per-channel weights indexed by ``C``.
* Softmax, LogSoftmax, LayerNormalization, RMSNormalization (and onnxruntime's
  SimplifiedLayerNormalization, the same RMS normalisation): one loop per input axis, so the
  iteration points are the element count; the loops of the normalised axes are the node's
  ``protected_loops``: every output element needs the whole extent of those loops, so a mapper
  must keep them whole.
* LRN: loops ``B, C, OY, OX`` and ``FC`` over the ``size`` channels of the window, a reduction loop.
* ReduceMean/ReduceSum/ReduceMax/ReduceMin: one loop per input axis; the reduced loops do not index
  the output (with ``keepdims`` its size-1 axes are indexed at 0), so they are true reduction loops.
"""

from __future__ import annotations

from typing import Any

import onnx

from stream_core.ir import AffineExpr, Node, OperandRole
from stream_onnx.access import (
    activation_names,
    axis_names,
    broadcast_access,
    identity_access,
    make_loops,
    normalise_axis,
)
from stream_onnx.graph import GraphView


def _axis(node: onnx.NodeProto, graph: GraphView, value: int, rank: int, attribute: str = "axis") -> int:
    try:
        return normalise_axis(value, rank)
    except ValueError as exc:
        raise graph.error(node, str(exc), attribute=attribute) from exc


def parse_batch_norm(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """``Y = scale * (X - mean) / sqrt(var + eps) + B`` with the running statistics (inference only)."""
    attributes = graph.attributes(node)
    if int(attributes.get("training_mode", 0)):
        raise graph.error(node, "training_mode=1 is not supported (inference only)", attribute="training_mode")
    x, y = node.input[0], node.output[0]
    shape = graph.shape(x)
    if len(shape) < 2:
        raise graph.error(node, f"expected an input with a channel axis, got shape {list(shape)}")
    names = activation_names(len(shape))
    operands = [graph.operand(x, OperandRole.INPUT, identity_access(names))]
    operands += [graph.operand(t, OperandRole.WEIGHT, (AffineExpr.of("C"),)) for t in node.input[1:5] if t]
    operands.append(graph.operand(y, OperandRole.OUTPUT, identity_access(names)))
    extra = {"epsilon": float(attributes.get("epsilon", 1e-5))}
    return [graph.make_node(node, make_loops(names, shape), operands, attributes=extra)]


def parse_normalization(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Softmax/LogSoftmax over ``axis`` (from opset 13; before that, over every axis from ``axis`` on, default
    1); Layer/RMS normalisation over the axes from ``axis`` (default -1) on, scale and bias broadcast
    onto them as weights."""
    x, y = node.input[0], node.output[0]
    shape = graph.shape(x)
    rank = len(shape)
    attributes = graph.attributes(node)
    names = axis_names(rank)
    softmax = node.op_type in ("Softmax", "LogSoftmax")
    legacy = softmax and graph.opset(node.domain) < 13
    axis = _axis(node, graph, int(attributes.get("axis", 1 if legacy else -1)), rank)
    axes = [axis] if softmax and not legacy else list(range(axis, rank))
    operands = [graph.operand(x, OperandRole.INPUT, identity_access(names))]
    for tensor in node.input[1:]:
        if tensor:
            try:
                operands.append(
                    graph.operand(tensor, OperandRole.WEIGHT, broadcast_access(graph.shape(tensor), shape, names))
                )
            except ValueError as exc:
                raise graph.error(node, f"input {tensor!r}: {exc}") from exc
    operands.append(graph.operand(y, OperandRole.OUTPUT, identity_access(names)))
    extra: dict[str, Any] = {"axis": axis}
    if "epsilon" in attributes:
        extra["epsilon"] = float(attributes["epsilon"])
    protected = tuple(names[a] for a in axes)
    return [graph.make_node(node, make_loops(names, shape), operands, attributes=extra, protected_loops=protected)]


def parse_reduce(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Axes from the ``axes`` attribute or (newer opsets) the constant second input; none given reduces
    every axis unless ``noop_with_empty_axes`` makes the op a copy."""
    x, y = node.input[0], node.output[0]
    shape = graph.shape(x)
    rank = len(shape)
    attributes = graph.attributes(node)
    given = graph.ints(node, "axes", 1)
    keepdims = int(attributes.get("keepdims", 1))
    if given:
        axes = sorted({_axis(node, graph, a, rank, "axes") for a in given})
    elif int(attributes.get("noop_with_empty_axes", 0)):
        axes = []
    else:
        axes = list(range(rank))
    names = axis_names(rank)
    out_access = []
    for axis, name in enumerate(names):
        if axis not in axes:
            out_access.append(AffineExpr.of(name))
        elif keepdims:
            out_access.append(AffineExpr.constant(0))
    operands = [
        graph.operand(x, OperandRole.INPUT, identity_access(names)),
        graph.operand(y, OperandRole.OUTPUT, out_access),
    ]
    extra = {"axes": tuple(axes), "keepdims": keepdims}
    return [graph.make_node(node, make_loops(names, shape), operands, attributes=extra)]


def parse_lrn(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Local response normalisation: output ``(B, C, OY, OX)`` sums the squares of input channels
    ``C + FC - (size-1)//2`` for ``FC < size`` (clipped to the channels, as ONNX's window is)."""
    x, y = node.input[0], node.output[0]
    shape = graph.shape(x)
    attributes = graph.attributes(node)
    size = int(attributes.get("size", 0))
    if size < 1:
        raise graph.error(node, f"size must be a positive integer, got {size}", attribute="size")
    if len(shape) < 2:
        raise graph.error(node, f"expected an input with a channel axis, got shape {list(shape)}")
    names = activation_names(len(shape))
    in_access = list(identity_access(names))
    in_access[1] = AffineExpr(((names[1], 1), ("FC", 1)), -((size - 1) // 2))
    operands = [
        graph.operand(x, OperandRole.INPUT, in_access),
        graph.operand(y, OperandRole.OUTPUT, identity_access(names)),
    ]
    extra = {
        "size": size,
        "alpha": float(attributes.get("alpha", 1e-4)),
        "beta": float(attributes.get("beta", 0.75)),
        "bias": float(attributes.get("bias", 1.0)),
    }
    loops = make_loops((*names, "FC"), (*shape, size))
    return [graph.make_node(node, loops, operands, attributes=extra)]
