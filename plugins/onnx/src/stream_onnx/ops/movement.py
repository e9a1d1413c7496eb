"""Data-movement ops (``NodeKind.DATA_MOVEMENT``): no arithmetic, exact access where it is affine.

Loops run over the output axes (names from :func:`~stream_onnx.access.axis_names`) except for an
affine reshape, whose loops are the common refinement of both shapes. Shape-like inputs (Reshape's
``shape``, Slice's ``starts``...) are parameters folded into the access relation, not operands.
Identity and inference-mode Dropout are folded away (their output becomes another name of their
input) unless their output is a graph output, which then gets an identity copy node; so is a
Transpose of a non-constant tensor (its readers read the input through the permuted access, as
Stream 2.1.1 does) when ``onnx.fold_transpose`` is true.
"""

from __future__ import annotations

import itertools

import onnx

from stream_core.ir import AffineExpr, Node, NodeKind, OperandRole
from stream_onnx.access import (
    axis_names,
    broadcast_access,
    identity_access,
    make_loops,
    normalise_axis,
    reshape_access,
)
from stream_onnx.graph import GraphView

_MOVE = NodeKind.DATA_MOVEMENT


def _axis(node: onnx.NodeProto, graph: GraphView, rank: int, default: int = 0) -> int:
    try:
        return normalise_axis(int(graph.attributes(node).get("axis", default)), rank)
    except ValueError as exc:
        raise graph.error(node, str(exc), attribute="axis") from exc


def parse_reshape(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Reshape, Flatten, Squeeze, Unsqueeze: affine when the two shapes have a common refinement
    (:func:`~stream_onnx.access.reshape_access`), else the input access is opaque (``None``). One that
    keeps the shape is folded away like Identity (its readers read the input; a copy node when the
    output is a graph output), as Stream 2.1.1 folds layout nodes: no node, no fusion cut."""
    x, y = node.input[0], node.output[0]
    in_shape, out_shape = graph.shape(x), graph.shape(y)
    if tuple(in_shape) == tuple(out_shape) and not graph.is_graph_output(y):
        graph.fold(y, into=x)
        return []
    affine = reshape_access(in_shape, out_shape)
    if affine is None:
        names = axis_names(len(out_shape))
        loops, in_access, out_access = make_loops(names, out_shape), None, identity_access(names)
    else:
        loops, in_access, out_access = affine
    operands = [graph.operand(x, graph.role(x), in_access), graph.operand(y, OperandRole.OUTPUT, out_access)]
    return [graph.make_node(node, loops, operands, kind=_MOVE)]


def parse_expand(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Loops over the output axes; the input is broadcast onto them NumPy-style (size-1 or missing axes
    indexed at 0), e.g. K/V heads repeated for grouped-query attention. The shape input is a parameter."""
    x, y = node.input[0], node.output[0]
    out_shape = graph.shape(y)
    names = axis_names(len(out_shape))
    try:
        access = broadcast_access(graph.shape(x), out_shape, names)
    except ValueError as exc:
        raise graph.error(node, str(exc)) from exc
    operands = [graph.operand(x, graph.role(x), access), graph.operand(y, OperandRole.OUTPUT, identity_access(names))]
    return [graph.make_node(node, make_loops(names, out_shape), operands, kind=_MOVE)]


def parse_transpose(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Output axis ``i`` is input axis ``perm[i]`` (default: reversed). Folded into its readers
    (:meth:`GraphView.fold` with ``perm``) when ``onnx.fold_transpose`` is true, unless its output is a
    graph output or its input a constant."""
    x, y = node.input[0], node.output[0]
    out_shape = graph.shape(y)
    rank = len(out_shape)
    perm = [int(p) for p in graph.attributes(node).get("perm", range(rank - 1, -1, -1))]
    if sorted(perm) != list(range(rank)):
        raise graph.error(node, f"perm {perm} is not a permutation of 0..{rank - 1}", attribute="perm")
    if graph.fold_transpose and not graph.is_graph_output(y) and not graph.is_constant(x):
        graph.fold(y, into=x, access=perm)
        return []
    names = axis_names(rank)
    in_access = [AffineExpr.constant(0)] * rank
    for out_axis, in_axis in enumerate(perm):
        in_access[in_axis] = AffineExpr.of(names[out_axis])
    operands = [
        graph.operand(x, graph.role(x), in_access),
        graph.operand(y, OperandRole.OUTPUT, identity_access(names)),
    ]
    return [graph.make_node(node, make_loops(names, out_shape), operands, kind=_MOVE, attributes={"perm": tuple(perm)})]


def parse_concat(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Input ``i`` is read at ``axis_loop - offset_i`` (offset: the sizes of the inputs before it); the
    indices outside an input fall outside its bounds and are clipped."""
    y = node.output[0]
    out_shape = graph.shape(y)
    axis = _axis(node, graph, len(out_shape))
    names = axis_names(len(out_shape))
    operands, offset = [], 0
    for tensor in node.input:
        access = list(identity_access(names))
        access[axis] = AffineExpr.of(names[axis], 1, -offset)
        operands.append(graph.operand(tensor, graph.role(tensor), access))
        offset += graph.shape(tensor)[axis]
    operands.append(graph.operand(y, OperandRole.OUTPUT, identity_access(names)))
    return [graph.make_node(node, make_loops(names, out_shape), operands, kind=_MOVE, attributes={"axis": axis})]


def parse_split(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """One node per output (named ``<node>_<i>`` when there are several): output ``i`` reads the input at
    ``axis_loop + offset_i``; the piece sizes are the inferred output shapes."""
    x = node.input[0]
    axis = _axis(node, graph, len(graph.shape(x)))
    outputs = [t for t in node.output if t]
    nodes, offset = [], 0
    for index, y in enumerate(node.output):
        if not y:
            continue
        out_shape = graph.shape(y)
        names = axis_names(len(out_shape))
        access = list(identity_access(names))
        access[axis] = AffineExpr.of(names[axis], 1, offset)
        operands = [
            graph.operand(x, graph.role(x), access),
            graph.operand(y, OperandRole.OUTPUT, identity_access(names)),
        ]
        name = f"{node.name}_{index}" if len(outputs) > 1 else node.name
        attributes = {"axis": axis, "offset": offset}
        nodes.append(
            graph.make_node(node, make_loops(names, out_shape), operands, name=name, kind=_MOVE, attributes=attributes)
        )
        offset += out_shape[axis]
    return nodes


def parse_slice(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Sliced axis ``a`` reads ``start_a + step_a * loop`` (start clamped as ONNX specifies, negative
    steps included); starts/ends/axes/steps are attributes before opset 10, constant inputs after."""
    x, y = node.input[0], node.output[0]
    in_shape, out_shape = graph.shape(x), graph.shape(y)
    rank = len(in_shape)
    starts = graph.ints(node, "starts", 1) or []
    axes = graph.ints(node, "axes", 3) or list(range(len(starts)))
    steps = graph.ints(node, "steps", 4) or [1] * len(starts)
    if not len(starts) == len(axes) == len(steps) or 0 in steps:
        raise graph.error(
            node, f"starts {starts}, axes {axes} and steps {steps} must have equal lengths and no zero step"
        )
    names = axis_names(rank)
    access = list(identity_access(names))
    for start, axis, step in zip(starts, axes, steps, strict=True):
        try:
            axis = normalise_axis(axis, rank)
        except ValueError as exc:
            raise graph.error(node, str(exc), attribute="axes") from exc
        size = in_shape[axis]
        start = start + size if start < 0 else start
        start = min(max(start, 0), size if step > 0 else size - 1)
        access[axis] = AffineExpr(((names[axis], step),), start)
    operands = [graph.operand(x, graph.role(x), access), graph.operand(y, OperandRole.OUTPUT, identity_access(names))]
    return [graph.make_node(node, make_loops(names, out_shape), operands, kind=_MOVE)]


def parse_gather(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Output ``(pre..., idx..., post...)``. Constant indices that are a scalar or an arithmetic
    progression make the data access affine (``first + step*loop``) and are folded away; otherwise
    the data access is opaque and the indices are an operand."""
    data, indices, y = node.input[0], node.input[1], node.output[0]
    data_shape, index_shape, out_shape = graph.shape(data), graph.shape(indices), graph.shape(y)
    axis = _axis(node, graph, len(data_shape))
    names = axis_names(len(out_shape))
    index_names = names[axis : axis + len(index_shape)]
    step = _progression(graph, node, indices, data_shape[axis]) if graph.is_constant(indices) else None
    operands = []
    if step is None:
        operands.append(graph.operand(data, graph.role(data), None))
        operands.append(graph.operand(indices, graph.role(indices), identity_access(index_names)))
    else:
        first, stride = step
        picked = AffineExpr(((index_names[0], stride),), first) if index_names else AffineExpr.constant(first)
        access = [*identity_access(names[:axis]), picked, *identity_access(names[axis + len(index_shape) :])]
        operands.append(graph.operand(data, graph.role(data), access))
    operands.append(graph.operand(y, OperandRole.OUTPUT, identity_access(names)))
    return [graph.make_node(node, make_loops(names, out_shape), operands, kind=_MOVE, attributes={"axis": axis})]


def _progression(graph: GraphView, node: onnx.NodeProto, indices: str, size: int) -> tuple[int, int] | None:
    """``(first, step)`` when the constant indices (negative ones wrapped) are a scalar or a 1-D
    arithmetic progression, else ``None``."""
    values = graph.value(indices, node)
    if values.ndim > 1:
        return None
    flat = [int(v) + size if v < 0 else int(v) for v in values.reshape(-1)]
    if any(not 0 <= v < size for v in flat):
        raise graph.error(node, f"indices {flat} are out of range for an axis of size {size}")
    steps = {b - a for a, b in itertools.pairwise(flat)}
    if len(steps) > 1:
        return None
    return flat[0], steps.pop() if steps else 1


def parse_identity(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Identity and Dropout: folded away; a copy node when the output is a graph output. Dropout in
    training mode (a constant true ``training_mode`` input) is rejected."""
    x, y = node.input[0], node.output[0]
    mode = graph.input(node, 2) if node.op_type == "Dropout" else None
    if mode is not None and (not graph.is_constant(mode) or bool(graph.value(mode, node).reshape(-1)[0])):
        raise graph.error(node, "Dropout in training mode is not supported (training_mode must be a constant false)")
    if not graph.is_graph_output(y):
        graph.fold(y, into=x)
        return []
    names = axis_names(len(graph.shape(y)))
    operands = [
        graph.operand(x, graph.role(x), identity_access(names)),
        graph.operand(y, OperandRole.OUTPUT, identity_access(names)),
    ]
    return [graph.make_node(node, make_loops(names, graph.shape(y)), operands, kind=_MOVE)]
