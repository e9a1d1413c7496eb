"""Tiling of a node by its mapping: inter-core parts and intra-core (temporal) tiles.

Tiles of a part are enumerated in the node's loop nest (:attr:`NodeTiling.nest`: the loops
``NodeMapping.loop_order`` lists innermost, the others outside them in loop order). Splits divide the loop size
(the mapping reader does not apply one that does not); a temporal tile need not divide it (the
last tile is then smaller).

:func:`fused_axes` finds the loops of a fused group that are one axis, by Stream 2.1.1's rule
(``Workload._couplings``): a producer's output loop and the consumer loop reading that tensor axis
as ``1 * loop (+ c)``, or as ``s * loop + window`` when ``s`` times the consumer's output extent
along that loop is the whole axis (a padded window; the producer loop then steps ``s`` times as
far); and two readers of a tensor from outside the group through ``1 * loop (+ c)`` unless both
loops index their outputs. A tensor axis several nodes read is left unlinked when linking it would
make two loops of one node one axis (Stream's "held" axes). Stream 1.13.14 links identities only.
:func:`entry_loop_orders` nests those axes in the order of a group's ``intra_core_tiling`` entries.

A node's tile list is estimated before it is built (parts x steps per part x bytes per tile record)
and refused above :attr:`NodeTiling.memory_limit` bytes: ``MEMORY_LIMIT_MB`` unless the run's
``core.memory_limit_mb`` setting says otherwise (:func:`memory_limit`).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs

from stream_core.errors import InputError, Problem, setting
from stream_core.ir.mapping import FusedGroup, NodeMapping
from stream_core.ir.workload import AffineExpr, Node, Operand, TensorSpec, Workload

if TYPE_CHECKING:
    from stream_core.context import RunContext

Box = tuple[tuple[int, int], ...]
Loop = tuple[str, str]  # (node, loop)

#: The memory one node's tile list may take, in MiB, unless the ``MEMORY_SETTING`` setting says otherwise.
MEMORY_LIMIT_MB = 2048
MEMORY_SETTING = "core.memory_limit_mb"
#: Bytes a tile record takes while a node's tiles are built: a fixed part and one per loop (the peak
#: measured with tracemalloc on CPython 3.11: ~700 bytes a tile with 3 loops, ~960 with 7).
TILE_RECORD_BYTES, TILE_LOOP_BYTES = 512, 64


@attrs.frozen
class TileSpec:
    """One tile: which inter-core part, which temporal step, and the loop ranges it covers."""

    index: int
    part: int
    step: int
    ranges: tuple[tuple[str, int, int], ...]

    @property
    def sizes(self) -> dict[str, int]:
        return {d: hi - lo for d, lo, hi in self.ranges}

    @property
    def range_map(self) -> dict[str, tuple[int, int]]:
        return {d: (lo, hi) for d, lo, hi in self.ranges}

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(hi - lo for _, lo, hi in self.ranges)


def _sizes(sizes: Mapping[str, int]) -> dict[str, int]:
    return dict(sizes)


@attrs.frozen
class NodeTiling:
    node: Node
    mapping: NodeMapping
    tile_sizes: Mapping[str, int] = attrs.field(factory=dict, converter=_sizes)
    #: Bytes :meth:`tiles` may take (see :func:`memory_limit`) and the mapping file named when it is
    #: exceeded: not part of the tiling's identity.
    memory_limit: int = attrs.field(default=MEMORY_LIMIT_MB << 20, eq=False, repr=False)
    source: str | None = attrs.field(default=None, eq=False, repr=False)

    @functools.cached_property
    def split(self) -> dict[str, int]:
        return {d: self.mapping.split_factor(d) for d in self.node.loop_names}

    @functools.cached_property
    def part_sizes(self) -> dict[str, int]:
        split = self.split
        return {d: size // split[d] for d, size in self.node.sizes.items()}

    @functools.cached_property
    def tile(self) -> dict[str, int]:
        """Temporal tile size per loop (a loop without one is whole per part)."""
        parts = self.part_sizes
        return {d: min(self.tile_sizes.get(d, parts[d]), parts[d]) for d in self.node.loop_names}

    @functools.cached_property
    def steps(self) -> dict[str, int]:
        parts, tile = self.part_sizes, self.tile
        return {d: -(-parts[d] // tile[d]) for d in self.node.loop_names}

    @functools.cached_property
    def nest(self) -> tuple[str, ...]:
        """The temporal loops, outermost first: those ``mapping.loop_order`` does not list, in loop order,
        then the listed ones (its first innermost)."""
        listed = tuple(reversed(self.mapping.loop_order))
        return (*(d for d in self.node.loop_names if d not in listed), *listed)

    @functools.cached_property
    def parts(self) -> int:
        return self.mapping.parts

    @functools.cached_property
    def steps_per_part(self) -> int:
        return math.prod(self.steps.values())

    @functools.cached_property
    def tile_bytes(self) -> int:
        """Estimated bytes of :meth:`tiles`: parts x steps per part x bytes per tile record."""
        record = TILE_RECORD_BYTES + TILE_LOOP_BYTES * len(self.node.loop_names)
        return self.parts * self.steps_per_part * record

    def core_of_part(self, part: int) -> int | None:
        """The core a part is pinned to, or ``None`` when the node's cores are only candidates."""
        return self.mapping.cores[part] if self.parts > 1 else None

    def tiles(self) -> list[TileSpec]:
        """All tiles, temporal step major (every part's step 0, then step 1, ...). Cached: do not mutate."""
        return self._tiles

    @functools.cached_property
    def _tiles(self) -> list[TileSpec]:
        self._check_memory()
        names, nest = self.node.loop_names, self.nest
        split, parts, tile, steps = self.split, self.part_sizes, self.tile, self.steps
        blocks = dict(self.mapping.interleave)
        part_coords = list(itertools.product(*(range(split[d]) for d in names)))
        step_coords = [
            {d: interleaved(c, steps[d], blocks.get(d, 1)) for d, c in zip(nest, coords, strict=True)}
            for coords in itertools.product(*(range(steps[d]) for d in nest))
        ]
        out: list[TileSpec] = []
        for s, step in enumerate(step_coords):
            for p, part in enumerate(part_coords):
                ranges = []
                for d, pi in zip(names, part, strict=True):
                    base = pi * parts[d]
                    lo = base + step[d] * tile[d]
                    ranges.append((d, lo, min(lo + tile[d], base + parts[d])))
                out.append(TileSpec(index=len(out), part=p, step=s, ranges=tuple(ranges)))
        return out

    def _check_memory(self) -> None:
        """Refuse a tiling whose tile list would take more than :attr:`memory_limit` bytes."""
        if self.tile_bytes <= self.memory_limit:
            return
        tiled = ", ".join(
            f"{d}={self.tile[d]} of {self.part_sizes[d]}" for d in self.node.loop_names if self.steps[d] > 1
        )
        split = ", ".join(f"{d}={f}" for d, f in self.split.items() if f > 1) or "none"
        need, bound = _mib(self.tile_bytes), _mib(self.memory_limit)
        raise InputError(
            Problem(
                f"its tiling makes {self.parts} part(s) x {self.steps_per_part:,} tiles per part (tiles "
                f"{tiled or 'whole'}; inter-core splits {split}), whose records need about {need:,} MiB, above "
                f"the bound of {bound:,} MiB; use coarser intra_core_tiling tiles or fewer inter_core_tiling "
                f"splits for this node, or raise the bound with {setting(MEMORY_SETTING, str(need))}",
                file=self.source,
                field=f"node {self.node.name!r}",
            )
        )

    @functools.cached_property
    def _shapes(self) -> Counter[tuple[int, ...]]:
        """Counted per loop, without building the tile list: a tile's extent along a loop depends only on
        its step along it (every part has the same extent), so the shapes are the product of the loops'."""
        self._check_memory()
        per_loop = []
        for d in self.node.loop_names:
            tile, part = self.tile[d], self.part_sizes[d]
            sizes = Counter(min(tile, part - step * tile) for step in range(self.steps[d]))
            per_loop.append([(size, count * self.split[d]) for size, count in sizes.items()])
        out: Counter[tuple[int, ...]] = Counter()
        for combo in itertools.product(*per_loop):
            out[tuple(size for size, _ in combo)] += math.prod(count for _, count in combo)
        return out

    def shapes(self) -> Counter[tuple[int, ...]]:
        """Distinct tile shapes (loop sizes in loop order) and how many tiles have each."""
        return self._shapes

    def tile_node(self, shape: tuple[int, ...]) -> Node:
        return self.node.with_sizes(dict(zip(self.node.loop_names, shape, strict=True)))


def _mib(size: int) -> int:
    """``size`` bytes in MiB, rounded up."""
    return -(-size // 2**20)


def memory_limit(context: RunContext) -> int:
    """The bytes a node's tile list may take in this run: the ``core.memory_limit_mb`` setting (MiB,
    a positive number) or ``MEMORY_LIMIT_MB``."""
    value = context.setting(MEMORY_SETTING, MEMORY_LIMIT_MB)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise InputError(Problem(f"expected a positive number of MiB, got {value!r}", field=setting(MEMORY_SETTING)))
    return int(value * 2**20)


def interleaved(step: Any, steps: Any, blocks: Any) -> Any:
    """The tile a loop's ``step`` covers when its ``steps`` tiles are visited in ``blocks`` interleaved
    blocks (one tile of each block in turn); ints, or integer arrays that broadcast together."""
    return (step % blocks) * (steps // blocks) + step // blocks


def operand_box(operand: Operand, ranges: Mapping[str, tuple[int, int]], tensor: TensorSpec) -> Box | None:
    """Index box of ``tensor`` that ``operand`` touches for the given loop ranges (clipped), or ``None``
    for the whole tensor when the access relation is not affine."""
    if operand.access is None:
        return tuple((0, n) for n in tensor.shape)
    box = []
    for axis, expr in enumerate(operand.access):
        lo, hi = expr.interval(ranges)
        box.append((max(lo, 0), min(hi, tensor.shape[axis])))
    return tuple(box)


def boxes_intersect(a: Box | None, b: Box | None) -> bool:
    if a is None or b is None:
        return True
    return all(lo1 < hi2 and lo2 < hi1 for (lo1, hi1), (lo2, hi2) in zip(a, b, strict=True))


def box_elements(box: Box) -> int:
    return math.prod(max(0, hi - lo) for lo, hi in box)


class BoxIndex:
    """Which of many boxes (e.g. the output boxes of a node's tiles) intersect a query box.

    Boxes are bucketed per axis by their interval, so a query scans the distinct intervals of each
    axis (about the number of tiles along it) instead of every box.
    """

    def __init__(self, boxes: Sequence[Box | None]):
        self.size = len(boxes)
        self.everywhere = frozenset(i for i, box in enumerate(boxes) if box is None)
        rank = max((len(box) for box in boxes if box is not None), default=0)
        self.axes: list[dict[tuple[int, int], list[int]]] = [{} for _ in range(rank)]
        for i, box in enumerate(boxes):
            if box is not None:
                for axis, interval in enumerate(box):
                    self.axes[axis].setdefault(interval, []).append(i)

    def query(self, box: Box | None) -> list[int]:
        """Indices of the boxes intersecting ``box`` (all of them for ``None``, the whole tensor)."""
        if box is None:
            return list(range(self.size))
        found: set[int] | None = None
        for axis, buckets in enumerate(self.axes):
            lo, hi = box[axis]
            hits = {i for (b_lo, b_hi), members in buckets.items() if b_lo < hi and lo < b_hi for i in members}
            found = hits if found is None else found & hits
            if not found:
                break
        return sorted((found or set()) | self.everywhere)


@attrs.frozen
class FusedAxes:
    """The loops of a fused group that are one axis: ``root[loop]`` names the axis and ``scale[loop]``
    is how far the loop steps along it (a producer read through stride ``s`` steps ``s`` times as far
    as its reader), so one tile of the axis spans ``tile * scale`` of each of its loops."""

    root: Mapping[Loop, Loop]
    scale: Mapping[Loop, Fraction]

    @functools.cached_property
    def _loops(self) -> dict[Loop, list[Loop]]:
        """Per axis root, the loops on that axis (built once: ``members`` is called per loop)."""
        loops: dict[Loop, list[Loop]] = {}
        for loop, root in self.root.items():
            loops.setdefault(root, []).append(loop)
        return loops

    def members(self, loop: Loop) -> list[tuple[Loop, Fraction]]:
        """The loops on ``loop``'s axis (itself included) and each one's tile per unit tile of ``loop``."""
        if loop not in self.root:
            return [(loop, Fraction(1))]
        own = self.scale[loop]
        return [(other, self.scale[other] / own) for other in self._loops[self.root[loop]]]


@attrs.frozen
class _Link:
    """``a`` steps ``stride`` times as far as ``b``; ``shared`` is the tensor axis it goes through when
    several nodes of the group read that tensor, ``rank`` the position of its producer (-1: none)."""

    a: Loop
    b: Loop
    stride: int
    shared: tuple[str, int] | None
    rank: int


def _unit_loop(expr: AffineExpr) -> str | None:
    """The loop of ``1 * loop + c``, else ``None``."""
    terms = [(d, c) for d, c in expr.terms if c != 0]
    return terms[0][0] if len(terms) == 1 and terms[0][1] == 1 else None


def _coupling(
    workload: Workload, consumer: Node, produced: AffineExpr, read: AffineExpr, extent: int
) -> tuple[str, str, int] | None:
    """``(producer loop, consumer loop, stride)`` when a tensor axis written as ``produced`` and read
    as ``read`` links the two loops (see the module docstring), else ``None``."""
    source = _unit_loop(produced)
    if source is None:
        return None
    target = _unit_loop(read)
    if target is not None:
        return source, target, 1
    if produced.offset:
        return None
    outputs = set(consumer.output.dims)
    indexed = [(d, c) for d, c in read.terms if c != 0 and d in outputs]
    if len(indexed) != 1 or indexed[0][1] < 1 or consumer.output.access is None:
        return None
    (loop, stride), shape = indexed[0], workload.tensor(consumer.output.tensor).shape
    span = next((n for e, n in zip(consumer.output.access, shape, strict=True) if e == AffineExpr.of(loop)), 0)
    return (source, loop, stride) if stride * span == extent else None


def _links(workload: Workload, names: Sequence[str]) -> list[_Link]:
    """Every link the group's dataflow suggests (Stream 2.1.1's candidate couplings)."""
    group, position = set(names), {n: i for i, n in enumerate(names)}
    readers: dict[str, dict[str, Operand]] = {}  # tensor -> reader -> its first read of it (as Stream)
    for name in names:
        for op in workload.node(name).reads:
            if op.access is not None:
                readers.setdefault(op.tensor, {}).setdefault(name, op)
    links: list[_Link] = []
    for tensor, users in readers.items():
        producer = workload.producer(tensor)
        shared = len(users) > 1
        if producer is None or producer.name not in group:
            for (a, op_a), (b, op_b) in itertools.combinations(users.items(), 2):
                node_a, node_b = workload.node(a), workload.node(b)
                for axis, (ea, eb) in enumerate(zip(op_a.access or (), op_b.access or (), strict=True)):
                    la, lb = _unit_loop(ea), _unit_loop(eb)
                    pure = not ea.offset and not eb.offset
                    parallel = la not in node_a.reduction_dims and lb not in node_b.reduction_dims
                    if la and lb and not (pure and parallel):
                        links.append(_Link((a, la), (b, lb), 1, (tensor, axis), -1))
            continue
        if producer.output.access is None:
            continue
        extents = workload.tensor(tensor).shape
        for name, op in users.items():
            consumer = workload.node(name)
            for axis, (produced, read) in enumerate(zip(producer.output.access, op.access or (), strict=True)):
                found = _coupling(workload, consumer, produced, read, extents[axis])
                if found is not None:
                    source, target, stride = found
                    where = (tensor, axis) if shared else None
                    links.append(_Link((producer.name, source), (name, target), stride, where, position[producer.name]))
    return links


def _held(links: list[_Link]) -> set[tuple[str, int]]:
    """The shared tensor axes left unlinked: linking through them would make two loops of one node
    one axis. Unshared links go first, then shared ones from the latest produced back (as Stream)."""
    ordered = sorted(links, key=lambda link: (link.shared is not None, -link.rank))
    held: set[tuple[str, int]] = set()
    while (conflict := _first_conflict(ordered, held)) is not None:
        held.add(conflict)
    return held


def _first_conflict(ordered: list[_Link], held: set[tuple[str, int]]) -> tuple[str, int] | None:
    """The first shared axis, not held, whose link would join two loops of one node, the links before
    it being joined."""
    parent: dict[Loop, Loop] = {}
    nodes: dict[Loop, set[str]] = {}

    def find(loop: Loop) -> Loop:
        nodes.setdefault(loop, {loop[0]})
        while parent.setdefault(loop, loop) != loop:
            parent[loop] = loop = parent[parent[loop]]  # path halving
        return loop

    for link in ordered:
        if link.shared in held:
            continue
        ra, rb = find(link.a), find(link.b)
        if ra == rb:
            continue
        if link.shared is not None and not nodes[ra].isdisjoint(nodes[rb]):
            return link.shared
        if len(nodes[ra]) < len(nodes[rb]):  # the smaller set joins the larger
            ra, rb = rb, ra
        parent[rb] = ra
        nodes[ra] |= nodes.pop(rb)
    return None


def fused_axes(workload: Workload, names: Sequence[str]) -> FusedAxes:
    """The fused axes of the group of nodes ``names`` (in topological order; see the module docstring).
    A link whose stride disagrees with the others on its axis is ignored."""
    links = _links(workload, names)
    held = _held(links)
    root: dict[Loop, Loop] = {}
    scale: dict[Loop, Fraction] = {}
    members: dict[Loop, list[Loop]] = {}  # root -> the loops of its axis, so a merge moves only those
    for link in links:
        if link.shared in held:
            continue
        for loop in (link.a, link.b):
            if loop not in root:
                root[loop], scale[loop], members[loop] = loop, Fraction(1), [loop]
        ra, rb = root[link.a], root[link.b]
        if ra == rb:
            continue
        # scale[a] must be stride * scale[b]: rescale the smaller axis (ratios on an axis are unchanged)
        factor = link.stride * scale[link.b] / scale[link.a]
        if len(members[rb]) > len(members[ra]):
            ra, rb, factor = rb, ra, 1 / factor
        for loop in members.pop(rb):
            root[loop], scale[loop] = ra, scale[loop] / factor
            members[ra].append(loop)
    return FusedAxes(root, scale)


def canonical_loop_order(tiling: NodeTiling) -> tuple[str, ...]:
    """The ``loop_order`` stating ``tiling``'s nest of the loops with more than one step, innermost
    first, or ``()`` when that nest is the node's loop order: one nest, one value, so mappings that
    nest alike compare equal."""
    nest = [d for d in tiling.nest if tiling.steps[d] > 1]
    return () if nest == [d for d in tiling.node.loop_names if tiling.steps[d] > 1] else tuple(reversed(nest))


def entry_loop_orders(workload: Workload, names: Sequence[str], entries: Sequence[Loop]) -> dict[str, tuple[str, ...]]:
    """Each node's loop order, innermost first, that ``intra_core_tiling`` entries give in their written
    order (Stream 2.1.1 nests the entries' fused axes with the first innermost): every loop on an
    entry's fused axis takes the entry's place."""
    axes = fused_axes(workload, names)
    orders: dict[str, list[str]] = {}
    for entry in entries:
        for (node, loop), _ in axes.members(entry):
            order = orders.setdefault(node, [])
            if loop not in order:
                order.append(loop)
    return {node: tuple(order) for node, order in orders.items()}


def apply_loop_orders(
    node_maps: Mapping[str, NodeMapping],
    groups: Sequence[FusedGroup],
    workload: Workload,
    orders: Mapping[str, tuple[str, ...]],
) -> dict[str, NodeMapping]:
    """``node_maps`` nested as Stream's steady-state iteration space: each node of ``orders`` in its
    order (canonical, with the group's tiles), and interleaved where :func:`axis_interleave` says."""
    out = dict(node_maps)
    for group in groups:
        blocks = axis_interleave(workload, group, out)
        for name in group.nodes:
            if name in out:
                order = orders.get(name, out[name].loop_order)
                mapping = attrs.evolve(out[name], loop_order=order, interleave=blocks.get(name, ()))
                tiling = NodeTiling(workload.node(name), mapping, group.tile_sizes(name))
                out[name] = attrs.evolve(mapping, loop_order=canonical_loop_order(tiling))
    return out


def axis_interleave(
    workload: Workload, group: FusedGroup, node_maps: Mapping[str, NodeMapping]
) -> dict[str, tuple[tuple[str, int], ...]]:
    """Per node, its tiled loops on a fused axis that another node of ``group`` splits ``u`` times
    more, with ``u``: Stream 2.1.1 counts an axis's steady-state iterations per core of its largest
    split (``determine_fusion_splits``), so a node splitting it less visits its tiles in ``u``
    interleaved blocks, one tile of each per iteration (``NodeMapping.interleave``)."""
    axes = fused_axes(workload, group.nodes)
    nodes = [n for n in group.nodes if n in node_maps]
    spread: dict[Loop, int] = {}  # axis root -> the largest split of a loop on it
    for (name, loop), root in axes.root.items():
        if name in node_maps:
            spread[root] = max(spread.get(root, 1), node_maps[name].split_factor(loop))
    out: dict[str, tuple[tuple[str, int], ...]] = {}
    for name in nodes:
        mapping = node_maps[name]
        steps = NodeTiling(workload.node(name), mapping, group.tile_sizes(name)).steps
        found = []
        for loop in workload.node(name).loop_names:
            axis = axes.root.get((name, loop))
            own = mapping.split_factor(loop)
            if axis is None or spread[axis] % own:
                continue
            blocks = spread[axis] // own
            if blocks > 1 and steps[loop] > blocks and steps[loop] % blocks == 0:
                found.append((loop, blocks))
        if found:
            out[name] = tuple(found)
    return out
