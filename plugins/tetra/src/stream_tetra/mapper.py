"""The ``fused`` mapper: Stream's automatic layer-fusion mapping.

1. **Fusion groups.** Nodes are taken in topological order and a group ends after a *cut point*:
   every data-movement node (Reshape, Flatten, ...) is a group of its own, every ``MaxPool`` ends
   its group, and an ``Add`` whose only consumer is a ``Relu`` makes that ``Relu`` a cut point
   (the end of a residual block; an ``Add`` that fans out does not). ``fused.per_layer=true``
   makes every node its own group; ``fused.cut_points=a,b`` adds cut points by node name.
2. **Cores.** Candidates follow Stream's rule (``stream_core.builtin.mapper.candidate_cores``).
3. **Inter-core split.** Over the largest set of identical candidate cores (same fingerprint; with
   ``fused.split=all``, over all candidates as Stream does): the core count is factored with ``gcd``
   over the output (parallel) loops, largest first (ties: loop order), never splitting a loop the
   factor does not divide, nor a normalisation axis, nor the streaming loop of step 4 (so that
   consecutive nodes stream their rows in the same order). Reduction loops are not split (a split
   reduction would need a cross-core accumulation no allocator models). Candidate cores that are
   not identical stay candidates, and the allocator picks one. ``fused.split=none`` never splits.
4. **Intra-core tiling.** Per group, the fewest tiles along the streaming loop (the one indexing
   the output's rows: ``OY`` of a convolution, ``D``/``M`` of a matrix product), then along the
   output's columns (``OX``, ``N``) where that loop is inside the row loop, the same for every node
   (so producer and consumer tiles line up), such that the tiles of all the group's nodes on the
   cores using a top memory (one core, or all that share it) fit in ``fused.memory_fraction``
   (default 1/2: the other half is for double buffering) of it. When no such tiling exists (e.g.
   large weights), the largest nodes on a full memory are tiled further, along their other output
   loops inside the streaming loop first, then their reductions. Finally the tiling is checked with
   the allocator's own buffer model (:mod:`stream_tetra.memory`) and the node deciding the largest
   buffer of a still over-full memory is tiled further, until every memory fits.
"""

from __future__ import annotations

import math

import attrs

from stream_core.builtin.mapper import candidate_cores
from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir.accelerator import Accelerator
from stream_core.ir.mapping import FusedGroup, Mapping, NodeMapping
from stream_core.ir.workload import Node, NodeKind, Workload
from stream_core.tiling import NodeTiling
from stream_tetra.memory import buffer_needs, memory_demand

NORMALISATIONS = ("Softmax", "LayerNormalization", "LpNormalization")
SPLITS = ("homogeneous", "all", "none")


@attrs.frozen
class MapperSettings:
    per_layer: bool = False
    cut_points: tuple[str, ...] = ()
    split: str = "homogeneous"
    memory_fraction: float = 0.5

    @classmethod
    def from_context(cls, context: RunContext) -> MapperSettings:
        problems = []
        values: dict = {}
        raw = context.setting("fused.per_layer")
        if raw is not None:
            text = str(raw).strip().lower()
            if text not in ("true", "false", "1", "0", "yes", "no"):
                problems.append(Problem(f"expected true or false, got {raw!r}", field="fused.per_layer"))
            values["per_layer"] = text in ("true", "1", "yes")
        raw = context.setting("fused.cut_points")
        if raw is not None:
            items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
            values["cut_points"] = tuple(str(x).strip() for x in items if str(x).strip())
        raw = context.setting("fused.split")
        if raw is not None:
            if str(raw) not in SPLITS:
                problems.append(Problem(f"expected one of {', '.join(SPLITS)}, got {raw!r}", field="fused.split"))
            values["split"] = str(raw)
        raw = context.setting("fused.memory_fraction")
        if raw is not None:
            try:
                fraction = float(raw)
                if not 0 < fraction <= 1:
                    raise ValueError
                values["memory_fraction"] = fraction
            except ValueError:
                problems.append(Problem(f"expected a number in (0, 1], got {raw!r}", field="fused.memory_fraction"))
        known = {"fused.per_layer", "fused.cut_points", "fused.split", "fused.memory_fraction"}
        for key in sorted(k for k in context.options.settings if k.startswith("fused.") and k not in known):
            problems.append(Problem(f"unknown setting; known: {', '.join(sorted(known))}", field=key))
        if problems:
            raise InputError(problems)
        return cls(**values)


class FusedMapper:
    def map(self, workload: Workload, accelerator: Accelerator, context: RunContext) -> Mapping:
        settings = MapperSettings.from_context(context)
        unknown = [c for c in settings.cut_points if c not in workload]
        if unknown:
            raise InputError(Problem(f"no such nodes: {', '.join(unknown)}", field="fused.cut_points"))
        nodes = {node.name: self._node_mapping(node, accelerator, settings) for node in workload.nodes}
        groups = []
        for index, members in enumerate(fusion_groups(workload, settings)):
            tiles = intra_core_tiles(workload, [workload.node(n) for n in members], nodes, accelerator, settings)
            groups.append(FusedGroup(f"group_{index}", members, tiles))
        return Mapping(nodes, groups, source="fused mapper")

    def _node_mapping(self, node: Node, accelerator: Accelerator, settings: MapperSettings) -> NodeMapping:
        if node.kind is NodeKind.DATA_MOVEMENT and accelerator.offchip_core_id is not None:
            return NodeMapping(node.name, (accelerator.offchip_core_id,))
        cores = candidate_cores(node, accelerator)
        if not cores:
            raise InputError(Problem(f"accelerator {accelerator.name!r} has no compute core", file=accelerator.source))
        cores, split = inter_core_split(node, cores, accelerator, settings.split)
        return NodeMapping(node.name, cores, split)


def cut_points(workload: Workload) -> set[str]:
    cuts = set()
    for node in workload.nodes:
        if node.op_type == "MaxPool":
            cuts.add(node.name)
        if node.op_type == "Add":
            after = workload.successors(node.name)
            compute = [s for s in after if s.kind is NodeKind.COMPUTE]
            if len(after) == 1 and len(compute) == 1 and compute[0].op_type == "Relu":
                cuts.add(compute[0].name)
    return cuts


def fusion_groups(workload: Workload, settings: MapperSettings) -> list[tuple[str, ...]]:
    cuts = cut_points(workload) | set(settings.cut_points)
    groups: list[tuple[str, ...]] = []
    current: list[str] = []
    for node in workload.nodes:
        if node.kind is NodeKind.DATA_MOVEMENT:
            if current:
                groups.append(tuple(current))
                current = []
            groups.append((node.name,))
            continue
        current.append(node.name)
        if settings.per_layer or node.name in cuts:
            groups.append(tuple(current))
            current = []
    if current:
        groups.append(tuple(current))
    return groups


def protected_loops(node: Node) -> set[str]:
    """Loops that must stay whole on one core and in one tile: a normalisation's axis."""
    if node.op_type not in NORMALISATIONS or node.output.access is None:
        return set()
    axis = node.attribute("axis", -1)
    access = node.output.access
    try:
        return set(access[axis].dims)
    except (IndexError, TypeError):
        return set()


def inter_core_split(
    node: Node, cores: tuple[int, ...], accelerator: Accelerator, mode: str
) -> tuple[tuple[int, ...], tuple[tuple[str, int], ...]]:
    """The cores a node uses and its split (see the module docstring)."""
    if len(cores) <= 1 or mode == "none":
        return cores, ()
    pool = list(cores)
    if mode == "homogeneous":
        classes: dict[str, list[int]] = {}
        for c in cores:
            classes.setdefault(accelerator.cores[c].fingerprint(), []).append(c)
        best = max(
            classes.values(),
            key=lambda ids: (len(ids), accelerator.cores[ids[0]].summary.peak_macs_per_cycle, -ids[0]),
        )
        if len(best) == 1:
            return cores, ()
        pool = best
    protected = protected_loops(node)
    position = {d: i for i, d in enumerate(node.loop_names)}
    parallel = [d for d in node.output.dims if d not in protected and node.sizes[d] > 1]
    stream = streaming_loop(node)
    parallel = [d for d in parallel if d != stream]  # the streaming loop is tiled in time instead
    parallel.sort(key=lambda d: (-node.sizes[d], position[d]))
    remaining = len(pool)
    split = []
    for d in parallel:
        factor = math.gcd(remaining, node.sizes[d])
        if factor > 1:
            split.append((d, factor))
            remaining //= factor
        if remaining == 1:
            break
    parts = len(pool) // remaining
    if parts == 1:
        return cores, ()
    return tuple(pool[:parts]), tuple(split)


def _axis_loop(node: Node, axis: int) -> str | None:
    access = node.output.access
    if access is None or len(access) < max(2, -axis):
        return None
    terms = [(d, c) for d, c in access[axis].terms if c != 0]
    if len(terms) != 1 or terms[0][1] != 1 or terms[0][0] in protected_loops(node):
        return None
    return terms[0][0]


def streaming_loop(node: Node) -> str | None:
    """The loop indexing the output's second-to-last axis (rows), if it is a plain loop index."""
    return _axis_loop(node, -2)


def column_loop(node: Node) -> str | None:
    """The loop indexing the output's last axis (columns), if it is a plain loop index."""
    return _axis_loop(node, -1)


def _inner_column(node: Node, row: str | None) -> str | None:
    """The column loop if it is inside the row loop in the node's loop order (tiling an outer
    column loop would make the node sweep all rows once per column tile, out of step with the others)."""
    col = column_loop(node)
    if col is None or row is None:
        return col
    return col if node.loop_names.index(col) > node.loop_names.index(row) else None


def _part_sizes(node: Node, mapping: NodeMapping) -> dict[str, int]:
    return {d: size // mapping.split_factor(d) for d, size in node.sizes.items()}


def _footprint(node: Node, tile: dict[str, int]) -> int:
    tiled = node.with_sizes(tile)
    return sum(tiled.footprint_bits(op) for op in tiled.operands)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def intra_core_tiles(
    workload: Workload,
    members: list[Node],
    nodes: dict[str, NodeMapping],
    accelerator: Accelerator,
    settings: MapperSettings,
) -> tuple[tuple[str, str, int], ...]:
    """Tile sizes ``(node, loop, tile)`` of one group (see the module docstring)."""
    offchip = accelerator.offchip_core_id
    compute = [n for n in members if nodes[n.name].cores != (offchip,)]
    if not compute:
        return ()
    limit = {c.id: settings.memory_fraction * c.summary.memory_bits for c in accelerator.cores.values()}
    memory_of = accelerator.memory_of
    rows = {n.name: streaming_loop(n) for n in compute}
    cols = {n.name: _inner_column(n, rows[n.name]) for n in compute}

    def longest(loops: dict[str, str | None]) -> int:
        return max((_part_sizes(n, nodes[n.name])[d] for n in compute if (d := loops[n.name])), default=1)

    def tiles_for(r: int, q: int) -> dict[str, dict[str, int]]:
        out = {}
        for n in compute:
            tile = _part_sizes(n, nodes[n.name])
            for loop, count in ((rows[n.name], r), (cols[n.name], q)):
                if loop is not None:
                    tile[loop] = max(1, -(-tile[loop] // count))
            out[n.name] = tile
        return out

    def demand(tiles: dict[str, dict[str, int]]) -> dict[int, int]:
        """Bits per memory (keyed by its owner): every part on the memory of its core, a node with
        candidate cores on each of their memories (whichever is chosen); sharing cores add up."""
        out: dict[int, int] = {}
        for n in compute:
            bits = _footprint(n, tiles[n.name])
            mapping = nodes[n.name]
            memories = [memory_of(c) for c in mapping.cores]
            for memory in memories if mapping.parts > 1 else set(memories):
                out[memory] = out.get(memory, 0) + bits
        return out

    def over(tiles: dict[str, dict[str, int]]) -> list[int]:
        return [m for m, bits in sorted(demand(tiles).items()) if bits > limit[m]]

    options = [(q, r) for q in _divisors(longest(cols)) for r in _divisors(longest(rows))]
    chosen = next((tiles_for(r, q) for q, r in options if not over(tiles_for(r, q))), None)
    if chosen is None:  # rows alone do not help enough: the largest nodes of full cores are tiled further
        chosen = tiles_for(_divisors(longest(rows))[-1], 1)
        for memory in over(chosen):
            while demand(chosen)[memory] > limit[memory]:
                using = [n for n in compute if any(memory_of(c) == memory for c in nodes[n.name].cores)]
                ranked = sorted(using, key=lambda n: (-_footprint(n, chosen[n.name]), n.name))
                if not any(_shrink_once(n, nodes[n.name], chosen[n.name], rows[n.name]) for n in ranked):
                    break
    _refine(workload, compute, nodes, chosen, rows, accelerator)
    out = []
    for n in compute:
        parts = _part_sizes(n, nodes[n.name])
        out.extend((n.name, d, t) for d, t in chosen[n.name].items() if t < parts[d])
    return tuple(out)


def _refine(
    workload: Workload,
    compute: list[Node],
    nodes: dict[str, NodeMapping],
    chosen: dict[str, dict[str, int]],
    rows: dict[str, str | None],
    accelerator: Accelerator,
    rounds: int = 64,
    max_steps: int = 1 << 16,
) -> None:
    """Check the tiling with the allocator's buffer model; while a memory is over-full, tile further
    the node deciding its largest buffer that this helps (then the next one), until every memory
    fits, nothing helps, or the group would get more than ``max_steps`` steps."""
    by_name = {n.name: n for n in compute}
    order = [n.name for n in compute]
    capacity = {c.id: c.summary.memory_bits for c in accelerator.cores.values()}

    def demand(tiles: dict[str, dict[str, int]]) -> dict[int, list]:
        tilings = {n.name: NodeTiling(n, nodes[n.name], tiles[n.name]) for n in compute}
        return memory_demand(buffer_needs(workload, tilings, order), tilings, accelerator)

    def steps(tiles: dict[str, dict[str, int]]) -> int:
        return sum(NodeTiling(n, nodes[n.name], tiles[n.name]).steps_per_part for n in compute)

    current = demand(chosen)
    for _ in range(rounds):
        load = {m: sum(x.bits for x in items) for m, items in current.items()}
        over = [(load[m] / capacity[m], m) for m in load if load[m] > capacity[m]]
        if not over:
            return
        memory = max(over)[1]
        owners = dict.fromkeys(x.owner for x in sorted(current[memory], key=lambda x: (-x.bits, x.label)))
        for owner in owners:
            trial = dict(chosen[owner])
            if not _shrink_once(by_name[owner], nodes[owner], trial, rows[owner]):
                continue
            candidate = {**chosen, owner: trial}
            if steps(candidate) > max_steps:
                continue
            after = demand(candidate)
            if sum(x.bits for x in after.get(memory, [])) < load[memory]:
                chosen[owner] = trial
                current = after
                break
        else:
            return


def _shrink_once(node: Node, mapping: NodeMapping, tile: dict[str, int], stream: str | None) -> bool:
    """Tile ``node`` one step further: first the loops inside the streaming loop (output loops, then
    reductions: the tile order then still follows the stream), then the outer ones."""
    parts = _part_sizes(node, mapping)
    protected = protected_loops(node)
    position = {d: i for i, d in enumerate(node.loop_names)}
    cut = position[stream] if stream is not None else -1
    outputs = [d for d in node.output.dims if d != stream and d not in protected]
    reductions = [d for d in node.reduction_dims if d not in protected]
    inner = [[d for d in g if position[d] > cut] for g in (outputs, reductions)]
    outer = [[d for d in g if position[d] < cut] for g in (outputs, reductions)]
    for group in (*inner, *outer):
        options = [d for d in group if tile[d] > 1]
        if options:
            d = max(options, key=lambda x: (tile[x], -position[x]))
            count = -(-parts[d] // tile[d])
            larger = next((c for c in _divisors(parts[d]) if c > count), parts[d])
            tile[d] = parts[d] // larger
            return True
    return False
