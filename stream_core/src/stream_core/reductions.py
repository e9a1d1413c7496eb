"""Split reductions made explicit: the partial sums of a reduction divided over cores, added by nodes.

A mapping may split a reduction loop over cores (stream-dse 2.1.1's generic mapper splits ``Gemm_Down``'s
contraction in a SwiGLU, as a tensor-parallel MLP does). Each core then holds partial sums of the same
outputs, and someone must add them. :func:`lower_split_reductions` writes that work into the workload,
so every allocator, cost model and exporter sees it as ordinary nodes and transfers:

* node ``N`` splitting reduction loops by ``F`` in all becomes ``F`` *part* nodes ``N.part<j>``, each the
  same operator over its slice of the reduction loops (the inputs' accesses offset to the slice), on the
  cores of that slice, with the rest of ``N``'s split, writing its partial sums to a tensor of its own
  (``<output>.part<j>``, at the output's element type: partial sums cross cores at the output precision);
* ``F - 1`` two-input ``Add`` nodes ``N.add<i>`` sum them pairwise in a tree (``ceil(log2 F)`` levels), each
  on the cores of its first operand's part, the last one writing ``N``'s output tensor. A partial sum
  crosses to another core once, and each addition is priced by the core's cost model like any ``Add``.

Stream 2.1.1 counts neither the additions nor the memory traffic of the partial sums (only the link
energy of the other cores' shares): both are reported apart, as ``split_reduction_adds`` (the adds'
tiles) and ``split_reduction_partials`` (the memory energy of moving :attr:`Workload.partial_sum_tensors`;
:func:`stream_core.ir.result.energy_not_in_stream`).

A node is left as it is (its partial sums not added, as before) when its output is not indexed by plain
loops (``X``, one per axis), or its cores do not list one per part; the note says which.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import attrs

from stream_core.ir.mapping import FusedGroup, Mapping, NodeMapping
from stream_core.ir.workload import (
    SPLIT_REDUCTION_OF,
    SPLIT_REDUCTION_ROLE,
    AffineExpr,
    Node,
    NodeKind,
    Operand,
    OperandRole,
    TensorSpec,
    Workload,
)


@attrs.frozen
class Lowered:
    """A workload and mapping with their split reductions made explicit, and a note per node splitting a
    reduction (none when nothing did); ``workload`` and ``mapping`` are the ones given when no node was
    lowered."""

    workload: Workload
    mapping: Mapping
    notes: tuple[str, ...] = ()


def split_reductions(node: Node, mapping: NodeMapping) -> list[tuple[str, int]]:
    """The reduction loops ``mapping`` splits over cores, with their factors, in loop order."""
    reductions = set(node.reduction_dims)
    return [(d, f) for d in node.loop_names if d in reductions and (f := mapping.split_factor(d)) > 1]


def lower_split_reductions(workload: Workload, mapping: Mapping) -> Lowered:
    """``workload`` and ``mapping`` with every split reduction of a grouped node made explicit (see the
    module docstring)."""
    grouped = {name for group in mapping.groups for name in group.nodes}
    todo = [
        node
        for node in workload.nodes
        if node.name in grouped and node.name in mapping.nodes and split_reductions(node, mapping[node.name])
    ]
    if not todo:
        return Lowered(workload, mapping)
    nodes: dict[str, tuple[Node, ...]] = {node.name: (node,) for node in workload.nodes}
    tensors = dict(workload.tensors)
    node_maps = dict(mapping.nodes)
    replaced: dict[str, tuple[str, ...]] = {}
    notes = []
    for node in todo:
        made = _lower(node, node_maps[node.name], workload.tensor(node.output.tensor))
        if isinstance(made, str):
            notes.append(f"{node.name}: {made}")
            continue
        made_nodes, made_maps, made_tensors = made
        del node_maps[node.name]
        nodes[node.name] = tuple(made_nodes)
        node_maps.update((m.node, m) for m in made_maps)
        tensors.update((t.name, t) for t in made_tensors)
        replaced[node.name] = tuple(n.name for n in made_nodes)
        reduced = split_reductions(node, mapping[node.name])
        factor = math.prod(f for _, f in reduced)
        adds = factor - 1
        splits = ", ".join(f"{d} by {f}" for d, f in reduced)
        notes.append(
            f"{node.name}: its split of {splits} "
            f"divides a reduction over cores: {factor} parts ({node.name}.part0..{factor - 1}) write partial sums "
            f"at {workload.tensor(node.output.tensor).dtype}, added by {adds} Add node(s) ({node.name}.add*) in a "
            "tree, priced like any node; Stream 2.1.1 adds no partial sums (the adds' energy is shown apart: "
            "energy_not_in_stream.split_reduction_adds)"
        )
    if not replaced:
        return Lowered(workload, mapping, tuple(notes))
    sizes = {n.name: n.sizes for made in nodes.values() for n in made}
    groups = tuple(_lowered_group(group, replaced, sizes) for group in mapping.groups)
    lowered_workload = attrs.evolve(workload, nodes=tuple(n for made in nodes.values() for n in made), tensors=tensors)
    lowered_mapping = attrs.evolve(mapping, nodes=node_maps, groups=groups)
    return Lowered(lowered_workload, lowered_mapping, tuple(notes))


def _plain_output_loops(node: Node) -> list[str] | None:
    """The loop indexing each output axis, when every axis is one loop with coefficient 1 and no offset."""
    access = node.output.access
    if access is None:
        return None
    loops = []
    for expr in access:
        terms = [(d, c) for d, c in expr.terms if c]
        if len(terms) != 1 or terms[0][1] != 1 or expr.offset:
            return None
        loops.append(terms[0][0])
    return loops if len(set(loops)) == len(loops) else None


def not_lowered(node: Node, mapping: NodeMapping) -> str | None:
    """Why ``node``'s split reduction under ``mapping`` cannot be made explicit (its partial sums are
    then not added), or ``None`` when it can."""
    if _plain_output_loops(node) is None:
        return "an output axis is not one plain loop"
    if len(mapping.cores) != mapping.parts:
        return "its cores do not list one per part"
    return None


def _lower(
    node: Node, mapping: NodeMapping, output: TensorSpec
) -> tuple[list[Node], list[NodeMapping], list[TensorSpec]] | str:
    """The parts and adds replacing ``node``, their mappings and new tensors; or why it cannot be lowered."""
    reason = not_lowered(node, mapping)
    if reason is not None:
        return f"its split reduction is not made explicit ({reason}): its partial sums are not added"
    out_loops = _plain_output_loops(node)
    assert out_loops is not None
    split = {d: mapping.split_factor(d) for d in node.loop_names}
    coords = list(itertools.product(*(range(split[d]) for d in node.loop_names)))
    reduced = split_reductions(node, mapping)
    slices = {d: node.sizes[d] // f for d, f in reduced}
    kept_split = tuple((d, f) for d, f in mapping.split if d not in slices)
    index = {d: i for i, d in enumerate(node.loop_names)}
    parts: list[tuple[Node, NodeMapping]] = []
    tensors: list[TensorSpec] = []
    for j, at in enumerate(itertools.product(*(range(f) for _, f in reduced))):
        where = dict(zip(slices, at, strict=True))
        name, tensor = f"{node.name}.part{j}", f"{output.name}.part{j}"
        cores = tuple(
            c
            for c, point in zip(mapping.cores, coords, strict=True)
            if all(point[index[d]] == k for d, k in where.items())
        )
        operands = tuple(
            _sliced(op, where, slices) if op.role is not OperandRole.OUTPUT else attrs.evolve(op, tensor=tensor)
            for op in node.operands
        )
        part = attrs.evolve(
            node,
            name=name,
            loops=node.with_sizes(slices).loops,
            operands=operands,
            attributes=(*node.attributes, (SPLIT_REDUCTION_OF, node.name), (SPLIT_REDUCTION_ROLE, "part")),
        )
        parts.append((part, attrs.evolve(mapping, node=name, cores=cores, split=kept_split)))
        tensors.append(TensorSpec(tensor, output.shape, output.dtype))
    made_nodes = [p for p, _ in parts]
    made_maps = [m for _, m in parts]
    level = [(p.output.tensor, m) for p, m in parts]
    adds = 0
    while len(level) > 1:
        next_level = []
        for i in range(0, len(level) - 1, 2):
            (a, where_a), (b, _) = level[i], level[i + 1]
            last = len(level) == 2
            tensor = output.name if last else f"{output.name}.sum{adds}"
            add = _add_node(f"{node.name}.add{adds}", node, out_loops, (a, b), tensor, output)
            made_nodes.append(add)
            loops = set(add.loop_names)
            split_here = tuple((d, f) for d, f in where_a.split if d in loops)
            made_maps.append(NodeMapping(add.name, where_a.cores, split_here))
            if not last:
                tensors.append(TensorSpec(tensor, output.shape, output.dtype))
            next_level.append((tensor, made_maps[-1]))
            adds += 1
        level = next_level + level[len(level) - len(level) % 2 :]
    return made_nodes, made_maps, tensors


def _sliced(operand: Operand, where: dict[str, int], slices: dict[str, int]) -> Operand:
    """``operand`` read over one slice of the split reduction loops: each axis offset to the slice."""
    if operand.access is None:
        return operand
    access = tuple(
        attrs.evolve(expr, offset=expr.offset + sum(c * where[d] * slices[d] for d, c in expr.terms if d in where))
        for expr in operand.access
    )
    return attrs.evolve(operand, access=access)


def _add_node(
    name: str, node: Node, out_loops: Sequence[str], inputs: tuple[str, str], tensor: str, output: TensorSpec
) -> Node:
    """An elementwise ``Add`` of two partial-sum tensors shaped like ``node``'s output, its loops named
    after the output's (so a fused group's tiles of those loops apply to it)."""
    access = tuple(AffineExpr.of(d) for d in out_loops)
    precision = node.output.precision
    operands = [Operand(OperandRole.INPUT, t, precision, access) for t in inputs]
    operands.append(Operand(OperandRole.OUTPUT, tensor, precision, access))
    return Node(
        name=name,
        op_type="Add",
        loops=tuple(node.loops[node.loop_names.index(d)] for d in out_loops),
        operands=operands,
        kind=NodeKind.COMPUTE,
        attributes=((SPLIT_REDUCTION_OF, node.name), (SPLIT_REDUCTION_ROLE, "add")),
    )


def _lowered_group(
    group: FusedGroup, replaced: dict[str, tuple[str, ...]], sizes: dict[str, dict[str, int]]
) -> FusedGroup:
    """``group`` with each lowered node's parts and adds in its place, each given the node's tiles of its
    loops (clipped to its own sizes)."""
    if not any(n in replaced for n in group.nodes):
        return group

    def tiles(entries: tuple[tuple[str, str, int], ...]) -> list[tuple[str, str, int]]:
        out = []
        for n, d, t in entries:
            for made in replaced.get(n, (n,)):
                if d in sizes[made]:
                    out.append((made, d, min(t, sizes[made][d])))
        return out

    members = tuple(m for n in group.nodes for m in replaced.get(n, (n,)))
    return attrs.evolve(group, nodes=members, tiles=tiles(group.tiles), derived=tiles(group.derived))
