"""Translation of a stream-core :class:`Node` tile into a ZigZag layer description (:class:`LayerSpec`).

Rules (the same shape as Stream's translation, ``cost_models.md`` §3.3):

* equation ``O[..] = W[..] * I[..]``; the node's first input is ZigZag's ``I`` (memory operand ``I1``),
  its weight (else its second input) is ``W`` (``I2``), the output is ``O`` (``O``);
* loop dimensions keep the node's loop names (upper-cased) when they are plain identifiers and stay
  unique, else they are renamed ``L<i>``;
* per operand axis: a constant index is dropped (broadcast), ``c*X + k`` is the plain dimension ``X``,
  ``s*X + d*Y - p`` becomes a partially-relevant dimension ``P<n> = s*X + d*Y`` with symmetric padding
  ``(p, p)`` (Stream's convention; ZigZag then counts ``s*(X-1) + d*(Y-1) + 1 - 2p`` rows);
* precisions: ``I``/``W`` from the operands, ``O`` and ``O_final`` from the output; a core's
  ``operand_precision`` (``I1``, ``I2``, ``O``, ``O_final``) overrides them.

Nodes ZigZag cannot cost raise :class:`Unsupported` with the reason (the model then uses the roofline):
data movement, anything but exactly two affine inputs (unary ops have no ``I2``), windows of more than
two loops, ops that take several cycles per point, cores without ``I1``/``I2``/``O`` memories.
"""

from __future__ import annotations

import re

import attrs

from stream_core.builtin.roofline import cycles_per_point
from stream_core.ir import Node, NodeKind, Operand, OperandRole
from stream_zigzag.description import ZigZagCore

Unrolling = tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
_SAFE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
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
    precision: tuple[tuple[str, int], ...]  # I, W, O, O_final -> bits
    spatial_mapping: Unrolling = ()
    spatial_hint: tuple[tuple[str, tuple[str, ...]], ...] = ()


@attrs.frozen
class Translation:
    """A :class:`LayerSpec` plus what the model needs around it: loop-name map and operand footprints."""

    spec: LayerSpec
    names: dict[str, str]  # node loop name -> ZigZag dimension name
    footprint_bits: dict[str, int]  # memory operand (I1, I2, O) -> bits of the whole tile at its top level
    tensors: dict[str, str]  # memory operand -> tensor name


def translate(node: Node, core: ZigZagCore) -> Translation:
    """Translate ``node`` (one tile) for ``core``; raises :class:`Unsupported`."""
    if node.kind is NodeKind.DATA_MOVEMENT:
        raise Unsupported("data-movement node")
    if not node.mac_op and cycles_per_point(node.op_type) != 1:
        raise Unsupported(f"{node.op_type} takes {cycles_per_point(node.op_type)} cycles per point; ZigZag models one")
    reads = [*node.inputs, *node.weights]
    if len(reads) != 2:
        what = "unary op: no I2 operand" if len(reads) == 1 else f"{len(reads)} input operands"
        raise Unsupported(f"{what}; ZigZag costs operators with exactly two inputs")
    missing = [op for op in ("I1", "I2", "O") if op not in core.memory_operands]
    if missing:
        raise Unsupported(f"core {core.name!r} has no memory for operand(s) {', '.join(missing)}")
    operands = {"I": reads[0], "W": reads[1], "O": node.output}
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
    equation = " = ".join([_term("O", indices["O"]), " * ".join((_term("W", indices["W"]), _term("I", indices["I"])))])
    precision = {
        "I": reads[0].precision,
        "W": reads[1].precision,
        "O": node.output.precision,
        "O_final": node.output.precision,
    }
    overrides = core.data["operand_precision"] or {}
    for layer_op, memory_op in (*LAYER_TO_MEMORY, ("O_final", "O_final")):
        if memory_op in overrides:
            precision[layer_op] = overrides[memory_op]
    spec = LayerSpec(
        op_type=node.op_type,
        equation=equation,
        sizes=tuple((names[loop.name], loop.size) for loop in node.loops),
        relations=tuple((pr, a, ca, b, cb) for (a, ca, b, cb), pr in relations.items()),
        padding=tuple((pr, lo, hi) for pr, (lo, hi) in padding.items()),
        precision=tuple(sorted(precision.items())),
    )
    top_precision = {"I": precision["I"], "W": precision["W"], "O": precision["O_final"]}
    footprints = {mem: elements[layer] * top_precision[layer] for layer, mem in LAYER_TO_MEMORY}
    tensors = {mem: operands[layer].tensor for layer, mem in LAYER_TO_MEMORY}
    return Translation(spec=spec, names=names, footprint_bits=footprints, tensors=tensors)


def _dimension_names(node: Node) -> dict[str, str]:
    """Node loop name -> ZigZag dimension name: the upper-cased loop name when it is safe, else ``L<i>``."""
    upper = [loop.name.upper() for loop in node.loops]
    if (
        all(_SAFE_NAME.match(n) for n in upper)
        and len(set(upper)) == len(upper)
        and not any(n.startswith("P") and n[1:].isdigit() for n in upper)
    ):
        return {loop.name: name for loop, name in zip(node.loops, upper, strict=True)}
    return {loop.name: f"L{i}" for i, loop in enumerate(node.loops)}


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
        if len(terms) == 1:
            name = names[terms[0][0]]
            if name not in out:
                out.append(name)
                count *= sizes[terms[0][0]]
            continue
        if operand.role is OperandRole.OUTPUT or len(terms) > 2 or any(c < 0 for _, c in terms):
            raise Unsupported(
                f"access {expr} of {operand.role.value} {operand.tensor!r} is not a two-loop sliding window"
            )
        (a, ca), (b, cb) = terms
        key = (names[a], ca, names[b], cb)
        pr = relations.setdefault(key, f"P{len(relations)}")
        pad = max(0, -expr.offset)
        padding[pr] = (pad, pad)
        out.append(pr)
        count *= max(1, expr.distinct_count({d: (0, n) for d, n in sizes.items()}) - 2 * pad)
    if not out and operand.role is OperandRole.OUTPUT:
        raise Unsupported(f"output {operand.tensor!r} is indexed by no loop")
    return out, count


def _term(name: str, indices: list[str]) -> str:
    return name + "".join(f"[{i.lower()}]" for i in indices) if indices else f"{name}[]"
