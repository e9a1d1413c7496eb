"""Fold affine reshapes (Reshape, Flatten, Squeeze, Unsqueeze) into the nodes that read their output.

A reshape moves no data: its reader can index the reshape's input directly, as Stream 2.1.1 does
when it parses an ONNX file. :func:`~stream_onnx.access.reshape_access` gives the reshape as loops
over the *pieces* both shapes are cut into, each axis a weighted sum of its pieces. A reader's
index of an output axis that is one piece is that piece's index; an output axis merging several
pieces (Flatten's ``C*H*W``) must be walked by one whole loop of the reader, which is split into
one loop per piece (the outer piece keeps the loop's name and position, the others are appended,
as Stream appends them), every use of the loop becoming their row-major combination. The reader
then reads the input through the composed access.

A reshape stays a node when its output is a graph output, when a reader is a data-movement node,
or when some reader does not walk it that way (a merged axis indexed by a window, a protected loop
or several loops; an input axis split into pieces that the reader indexes other than by plain loops).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import attrs

from stream_core.ir import AffineExpr, LoopDim, Node, NodeKind, Operand

#: Op types whose affine data-movement nodes are reshapes (their loops are the pieces of both shapes).
RESHAPE_OPS = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze"})


def fold_reshapes(nodes: Sequence[Node], graph_outputs: Iterable[str]) -> tuple[list[Node], list[Node]]:
    """The nodes with every foldable reshape folded into its readers, and the reshapes folded."""
    kept = list(nodes)
    outputs = frozenset(graph_outputs)
    folded: list[Node] = []
    for reshape in [n for n in nodes if _is_affine_reshape(n) and n.output.tensor not in outputs]:
        readers = [i for i, n in enumerate(kept) if any(op.tensor == reshape.output.tensor for op in n.reads)]
        rewritten = [_fold_into(kept[i], reshape) for i in readers]
        if not readers or any(r is None for r in rewritten):
            continue
        for index, node in zip(readers, rewritten, strict=True):
            assert node is not None
            kept[index] = node
        kept.remove(reshape)
        folded.append(reshape)
    return kept, folded


def _is_affine_reshape(node: Node) -> bool:
    return (
        node.kind is NodeKind.DATA_MOVEMENT
        and node.op_type in RESHAPE_OPS
        and len(node.reads) == 1
        and node.reads[0].access is not None
        and node.output.access is not None
    )


def _fold_into(reader: Node, reshape: Node) -> Node | None:
    """``reader`` reading ``reshape``'s input instead of its output, or ``None`` when it cannot."""
    if reader.kind is not NodeKind.COMPUTE:
        return None
    node: Node | None = reader
    while node is not None:
        index = next((i for i, op in enumerate(node.operands) if op.tensor == reshape.output.tensor), None)
        if index is None:
            return node
        node = _fold_operand(node, index, reshape)
    return None


def _fold_operand(node: Node, index: int, reshape: Node) -> Node | None:
    """``node`` with operand ``index`` (the reshape's output) read from the reshape's input."""
    access = node.operands[index].access
    if access is None:
        return None
    source, result = reshape.reads[0], reshape.output
    assert source.access is not None and result.access is not None
    piece_size = reshape.sizes
    pieces: dict[str, AffineExpr] = {}  # reshape loop (piece) -> its index in the reader's loops
    for position, (walked, axis) in enumerate(zip(access, result.access, strict=True)):
        terms = [(p, c) for p, c in axis.terms if c]
        if len(terms) == 1:
            pieces[terms[0][0]] = walked
            continue
        if not terms:
            continue
        if any(set(walked.dims) & set(other.dims) for i, other in enumerate(access) if i != position):
            return None
        split = _split_loop(node, walked, [(p, c, piece_size[p]) for p, c in terms])
        if split is None:
            return None
        node, names = split
        pieces.update((p, AffineExpr.of(name)) for (p, _), name in zip(terms, names, strict=True))
    source_access = tuple(_compose(axis, pieces) for axis in source.access)
    if any(
        not _translatable(axis, composed, pieces) for axis, composed in zip(source.access, source_access, strict=True)
    ):
        return None
    operands = list(node.operands)
    operands[index] = attrs.evolve(source, role=operands[index].role, access=source_access)
    return attrs.evolve(node, operands=tuple(operands))


def _split_loop(node: Node, walked: AffineExpr, pieces: list[tuple[str, int, int]]) -> tuple[Node, list[str]] | None:
    """``node`` with the loop walking a merged axis split into one loop per piece (given as
    ``(piece, coefficient, size)``), and the new loops' names in the order of ``pieces``."""
    terms = [(d, c) for d, c in walked.terms if c]
    if len(terms) != 1 or terms[0][1] != 1 or walked.offset:
        return None
    loop = terms[0][0]
    size = node.sizes[loop]
    if loop in node.protected_loops or size != math.prod(s for _, _, s in pieces):
        return None
    order = sorted(range(len(pieces)), key=lambda i: -pieces[i][1])  # outermost piece first
    taken = set(node.loop_names)
    names: dict[int, str] = {order[0]: loop}
    for i in order[1:]:
        names[i] = _fresh(loop, taken)
        taken.add(names[i])
    combined = AffineExpr(tuple((names[i], pieces[i][1]) for i in order), 0)
    loops = [LoopDim(loop, pieces[order[0]][2]) if d.name == loop else d for d in node.loops]
    loops += [LoopDim(names[i], pieces[i][2]) for i in order[1:]]
    operands = tuple(_substitute(op, loop, combined) for op in node.operands)
    return attrs.evolve(node, loops=tuple(loops), operands=operands), [names[i] for i in range(len(pieces))]


def _fresh(loop: str, taken: set[str]) -> str:
    count = 1
    while f"{loop}_{count}" in taken:
        count += 1
    return f"{loop}_{count}"


def _substitute(operand: Operand, loop: str, combined: AffineExpr) -> Operand:
    if operand.access is None or loop not in operand.dims:
        return operand
    return attrs.evolve(operand, access=tuple(_replace(expr, loop, combined) for expr in operand.access))


def _replace(expr: AffineExpr, loop: str, combined: AffineExpr) -> AffineExpr:
    scale = sum(c for d, c in expr.terms if d == loop)
    if not scale:
        return expr
    rest = [(d, c) for d, c in expr.terms if d != loop]
    return _merged([*rest, *((d, scale * c) for d, c in combined.terms)], expr.offset)


def _compose(axis: AffineExpr, pieces: dict[str, AffineExpr]) -> AffineExpr:
    """A source axis (a weighted sum of pieces) in the reader's loops."""
    terms: list[tuple[str, int]] = []
    offset = axis.offset
    for piece, coeff in axis.terms:
        walked = pieces.get(piece, AffineExpr.constant(0))
        terms += [(d, coeff * c) for d, c in walked.terms]
        offset += coeff * walked.offset
    return _merged(terms, offset)


def _merged(terms: Iterable[tuple[str, int]], offset: int) -> AffineExpr:
    total: dict[str, int] = {}
    for d, c in terms:
        total[d] = total.get(d, 0) + c
    return AffineExpr(tuple((d, c) for d, c in total.items() if c), offset)


def _translatable(axis: AffineExpr, composed: AffineExpr, pieces: dict[str, AffineExpr]) -> bool:
    """A source axis made of one piece takes the reader's index as it is; one made of several pieces
    (a split axis) only plain loops, so that it stays a row-major combination of loops."""
    used = [p for p, c in axis.terms if c]
    if len(used) <= 1:
        return True
    walked = [pieces.get(p, AffineExpr.constant(0)) for p in used]
    loops = {expr.terms[0][0] for expr in walked if _plain(expr)}
    return len(loops) == len(used) and not composed.offset


def _plain(expr: AffineExpr) -> bool:
    return len(expr.terms) == 1 and expr.terms[0][1] == 1 and expr.offset == 0
