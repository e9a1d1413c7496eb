"""Translation of a stream-core :class:`Node` tile into a ZigZag layer description (:class:`LayerSpec`).

Rules (the same shape as Stream's translation, ``cost_models.md`` §3.3; stream-dse 2.1.1's estimator):

* equation ``O[..] = W[..] * I[..]`` for two inputs, ``O[..] = I[..]`` for one; the node's first input is
  ZigZag's ``I`` (memory operand ``I1``), its weight (else its second input) is ``W`` (``I2``), the output is
  ``O`` (``O``); every input is a constant operand. A MAC node's bias (a third read, indexed by no reduction
  loop) is left out, as stream-dse 2.1.1 does: ZigZag prices the two multiplied operands; the bias adds one
  element read per output, small next to the MACs;
* an op taking several cycles per point (:func:`stream_core.roofline.cycles_per_point`, non-MAC nodes) is
  evaluated by ZigZag with that many ``cycles_per_op`` (:attr:`LayerSpec.cycles_per_op`);
* loop dimensions are named by position, ``D<i>`` for the node's i-th loop, and partially-relevant ones
  ``D<n>``, ``D<n+1>``, ... after them, as stream-dse 2.1.1 names them. The names are not cosmetic: ZigZag
  3.9.1 breaks ties between spatial mappings of equal rank by the order it enumerates them, which follows
  the names' hashes (a 3x3 conv on a 256x256 array: 177 cycles under these names, 321 under ``K``/``OX``);
* per operand axis: a constant index is dropped (broadcast), ``c*X + k`` is the plain dimension ``X``,
  ``s*X + d*Y - p`` becomes a partially-relevant dimension ``s*X + d*Y`` with symmetric padding
  ``(p, p)`` (Stream's convention; ZigZag then counts ``s*(X-1) + d*(Y-1) + 1 - 2p`` rows);
* precisions: chosen by :func:`stream_zigzag.precision.choose` (workload widths, the core's accumulator
  or hardware widths, a fallback when the core cannot hold them).

Nodes ZigZag cannot cost raise :class:`Unsupported` with the reason (the model then uses the roofline):
data movement, no input or more than two besides a MAC node's bias, non-affine accesses, windows of more
than two loops, cores without a memory for a linked operand (``I1``, ``O``, and ``I2`` for two inputs).
"""

from __future__ import annotations

import math

import attrs

from stream_core.ir import AffineExpr, Node, NodeKind, Operand, OperandRole
from stream_core.roofline import cycles_per_point
from stream_zigzag.description import ZigZagCore
from stream_zigzag.precision import Precision, choose

Unrolling = tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
LAYER_TO_MEMORY = (("I", "I1"), ("W", "I2"), ("O", "O"))


class Unsupported(Exception):
    """ZigZag cannot cost this node on this core; the message says why."""


@attrs.frozen
class LayerSpec:
    """One tile in ZigZag's terms, as plain picklable data (dimension names are ZigZag's)."""

    op_type: str
    equation: str
    sizes: tuple[tuple[str, int], ...]
    relations: tuple[tuple[str, str, int, str, int], ...]  # (pr dim, dim a, coef a, dim b, coef b)
    padding: tuple[tuple[str, int, int], ...]
    precision: tuple[tuple[str, int], ...]  # I, (W,) O, O_final -> bits
    links: tuple[tuple[str, str], ...]  # layer operand -> memory operand
    cycles_per_op: int = 1
    spatial_mapping: Unrolling = ()
    spatial_hint: tuple[tuple[str, tuple[str, ...]], ...] = ()


@attrs.frozen
class Translation:
    """A :class:`LayerSpec` plus what the model needs around it: loop-name map and operand footprints."""

    spec: LayerSpec
    names: dict[str, str]  # node loop name -> ZigZag dimension name
    footprint_bits: dict[str, int]  # memory operand (I1, [I2,] O) -> bits of the whole tile at its top level
    tensors: dict[str, str]  # memory operand -> tensor name
    precision: Precision
    bias: str | None = None  # tensor of a MAC node's bias, left out of ZigZag's layer


def translate(node: Node, core: ZigZagCore, policy: str = "workload") -> Translation:
    """Translate ``node`` (one tile) for ``core`` under precision ``policy``; raises :class:`Unsupported`."""
    if node.kind is NodeKind.DATA_MOVEMENT:
        raise Unsupported("data-movement node")
    bias = _bias(node)
    reads = [op for op in (*node.inputs, *node.weights) if op is not bias]
    if not 1 <= len(reads) <= 2:
        raise Unsupported(f"{len(reads)} input operands; ZigZag costs operators with one or two inputs")
    operands = dict(zip(("I", "W")[: len(reads)], reads, strict=True)) | {"O": node.output}
    links = tuple((layer, memory) for layer, memory in LAYER_TO_MEMORY if layer in operands)
    missing = [memory for _, memory in links if memory not in core.memory_operands]
    if missing:
        raise Unsupported(f"core {core.name!r} has no memory for operand(s) {', '.join(missing)}")
    for operand in operands.values():
        if operand.access is None:
            raise Unsupported(f"operand {operand.tensor!r} has a non-affine access relation")
    names = _dimension_names(node)
    relations: dict[tuple[str, int, str, int], str] = {}
    padding: dict[str, tuple[int, int]] = {}
    indices: dict[str, list[str]] = {}
    elements: dict[str, int] = {}
    for layer_op, operand in operands.items():
        indices[layer_op], elements[layer_op] = _operand_indices(node, operand, names, relations, padding)
    inputs = " * ".join(_term(layer, indices[layer]) for layer in ("W", "I") if layer in operands)
    chosen = choose(core, operands, node.mac_op, policy)
    precision = chosen.bits
    spec = LayerSpec(
        op_type=node.op_type,
        equation=f"{_term('O', indices['O'])} = {inputs}",
        sizes=tuple((names[loop.name], loop.size) for loop in node.loops),
        relations=tuple((pr, a, ca, b, cb) for (a, ca, b, cb), pr in relations.items()),
        padding=tuple((pr, lo, hi) for pr, (lo, hi) in padding.items()),
        precision=tuple(sorted(precision.items())),
        links=links,
        cycles_per_op=1 if node.mac_op else cycles_per_point(node.op_type),
    )
    top_precision = precision | {"O": precision["O_final"]}
    footprints = {memory: elements[layer] * top_precision[layer] for layer, memory in links}
    tensors = {memory: operands[layer].tensor for layer, memory in links}
    return Translation(
        spec=spec,
        names=names,
        footprint_bits=footprints,
        tensors=tensors,
        precision=chosen,
        bias=None if bias is None else bias.tensor,
    )


def _bias(node: Node) -> Operand | None:
    """A MAC node's bias: its last of three reads (ONNX Conv/Gemm input 2) when no reduction loop indexes it."""
    reads = [op for op in node.operands if op.role is not OperandRole.OUTPUT]
    if not node.mac_op or len(reads) != 3 or reads[-1].access is None:
        return None
    return reads[-1] if not set(reads[-1].dims) & set(node.reduction_dims) else None


def _dimension_names(node: Node) -> dict[str, str]:
    """Node loop name -> ZigZag dimension name: ``D<i>`` by position, as stream-dse 2.1.1 names them."""
    return {loop.name: f"D{i}" for i, loop in enumerate(node.loops)}


def _operand_indices(
    node: Node,
    operand: Operand,
    names: dict[str, str],
    relations: dict[tuple[str, int, str, int], str],
    padding: dict[str, tuple[int, int]],
) -> tuple[list[str], int]:
    """ZigZag index names of one operand and the number of elements the tile touches."""
    sizes = node.sizes
    out: list[str] = []
    count = 1
    assert operand.access is not None
    for expr in operand.access:
        terms = [(d, c) for d, c in expr.terms if c != 0]
        if not terms:
            continue
        if len(terms) == 1 or _row_major(expr, operand, sizes):
            for loop, _ in terms:
                if names[loop] not in out:
                    out.append(names[loop])
                    count *= sizes[loop]
            continue
        if operand.role is OperandRole.OUTPUT or len(terms) > 2 or any(c < 0 for _, c in terms):
            raise Unsupported(
                f"access {expr} of {operand.role.value} {operand.tensor!r} is not a two-loop sliding window"
            )
        (a, ca), (b, cb) = terms
        key = (names[a], ca, names[b], cb)
        pr = relations.setdefault(key, f"D{len(node.loops) + len(relations)}")
        pad = max(0, -expr.offset)
        padding[pr] = (pad, pad)
        out.append(pr)
        count *= max(1, expr.distinct_count({d: (0, n) for d, n in sizes.items()}) - 2 * pad)
    if not out and operand.role is OperandRole.OUTPUT:
        raise Unsupported(f"output {operand.tensor!r} is indexed by no loop")
    return out, count


def _row_major(expr: AffineExpr, operand: Operand, sizes: dict[str, int]) -> bool:
    """Whether ``expr`` is a row-major combination of loops (a folded reshape's merged axis, e.g.
    ``256*C + 16*C_1 + C_2``): every point a distinct index, so each loop is an index of its own. A
    two-loop input index is left to the sliding-window relation, as a convolution's is."""
    terms = [(d, c) for d, c in expr.terms if c]
    if len(terms) == 2 and operand.role is OperandRole.INPUT:
        return False
    if any(c < 0 for _, c in terms) or len({d for d, _ in terms}) != len(terms):
        return False
    ranges = {d: (0, sizes[d]) for d, _ in terms}
    return expr.distinct_count(ranges) == math.prod(sizes[d] for d, _ in terms)


def _term(name: str, indices: list[str]) -> str:
    return name + "".join(f"[{i.lower()}]" for i in indices) if indices else f"{name}[]"
