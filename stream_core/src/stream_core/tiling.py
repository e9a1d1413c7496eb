"""Tiling of a node by its mapping: inter-core parts and intra-core (temporal) tiles.

Tiles of a part are enumerated with the node's first loop outermost. Splits must divide the loop
size (as in Stream); a temporal tile need not divide it (the last tile is then smaller).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence

import attrs

from stream_core.ir.mapping import NodeMapping
from stream_core.ir.workload import Node, Operand, TensorSpec

Box = tuple[tuple[int, int], ...]


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


@attrs.frozen
class NodeTiling:
    node: Node
    mapping: NodeMapping
    tile_sizes: Mapping[str, int] = attrs.field(factory=dict, converter=dict)

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
    def parts(self) -> int:
        return self.mapping.parts

    @functools.cached_property
    def steps_per_part(self) -> int:
        return math.prod(self.steps.values())

    def core_of_part(self, part: int) -> int | None:
        """The core a part is pinned to, or ``None`` when the node's cores are only candidates."""
        return self.mapping.cores[part] if self.parts > 1 else None

    def tiles(self) -> list[TileSpec]:
        """All tiles, temporal step major (every part's step 0, then step 1, ...). Cached: do not mutate."""
        return self._tiles

    @functools.cached_property
    def _tiles(self) -> list[TileSpec]:
        names = self.node.loop_names
        split, parts, tile, steps = self.split, self.part_sizes, self.tile, self.steps
        part_coords = list(itertools.product(*(range(split[d]) for d in names)))
        step_coords = list(itertools.product(*(range(steps[d]) for d in names)))
        out: list[TileSpec] = []
        for s, step in enumerate(step_coords):
            for p, part in enumerate(part_coords):
                ranges = []
                for d, pi, si in zip(names, part, step, strict=True):
                    base = pi * parts[d]
                    lo = base + si * tile[d]
                    ranges.append((d, lo, min(lo + tile[d], base + parts[d])))
                out.append(TileSpec(index=len(out), part=p, step=s, ranges=tuple(ranges)))
        return out

    @functools.cached_property
    def _shapes(self) -> Counter[tuple[int, ...]]:
        return Counter(t.shape for t in self.tiles())

    def shapes(self) -> Counter[tuple[int, ...]]:
        """Distinct tile shapes (loop sizes in loop order) and how many tiles have each."""
        return self._shapes

    def tile_node(self, shape: tuple[int, ...]) -> Node:
        return self.node.with_sizes(dict(zip(self.node.loop_names, shape, strict=True)))


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
