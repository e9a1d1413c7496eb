"""A fused group's tile sizes, chosen per fused axis.

Loops linked across the group's nodes are one axis (:func:`stream_core.tiling.fused_axes`: Stream
2.1.1's meaning of a fused group's ``intra_core_tiling``). Tiling one loop tiles every loop on its
axis, each ``tile * scale`` (a strided reader's producer ``s`` times the reader's tile); a tile that
would give a loop of the axis a fractional size is not taken. So every tiling made here is one
Stream's format states, and :meth:`AxisTiles.entries` lists it loop by loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from fractions import Fraction

from stream_core.ir.workload import Node
from stream_core.tiling import FusedAxes

Loop = tuple[str, str]  # (node, loop)


class AxisTiles:
    """Tile sizes of a group's loops (``parts``: each node's part sizes), tiled axis by axis.
    ``locked`` loops are never tiled, and neither is any loop on an axis with one of them."""

    def __init__(self, axes: FusedAxes, parts: Mapping[str, Mapping[str, int]], locked: Iterable[Loop] = ()):
        self.axes = axes
        self.parts = parts
        self.locked = frozenset(locked)
        self.sizes: dict[Loop, int] = {}  # tiled loops, as the axis gives them (not clamped to the part)

    def copy(self) -> AxisTiles:
        other = AxisTiles(self.axes, self.parts, self.locked)
        other.sizes = dict(self.sizes)
        return other

    def members(self, loop: Loop) -> list[tuple[Loop, Fraction]]:
        return self.axes.members(loop)

    def touches(self, loop: Loop, loops: Iterable[Loop]) -> bool:
        """Whether ``loop``'s axis holds one of ``loops``."""
        return not {m for m, _ in self.members(loop)}.isdisjoint(loops)

    def tileable(self, loop: Loop) -> bool:
        return not self.touches(loop, self.locked)

    def node_tile(self, node: str) -> dict[str, int]:
        """The tile of every loop of ``node`` (a loop not tiled is its whole part)."""
        return {d: min(self.sizes.get((node, d), p), p) for d, p in self.parts[node].items()}

    def set(self, loop: Loop, tile: int) -> bool:
        """Tile ``loop``'s axis so that ``loop`` gets ``tile``; ``False`` (nothing changed) when a loop of
        the axis would get a fractional size or the axis may not be tiled."""
        sizes = [(m, tile * ratio) for m, ratio in self.members(loop)]
        if not self.tileable(loop) or any(s.denominator != 1 for _, s in sizes):
            return False
        self.sizes.update((m, int(s)) for m, s in sizes)
        return True

    def split_into(self, loop: Loop, count: int) -> bool:
        """Tile ``loop``'s axis into ``count`` tiles along its longest member (the smallest tile from
        ``ceil(extent / count)`` up that every member takes whole)."""
        if count <= 1:
            return True
        members = self.members(loop)
        extent = math.ceil(max(self.parts[n][d] / ratio for (n, d), ratio in members))
        first = -(-extent // count)
        return any(self.set(loop, tile) for tile in range(first, extent + 1))

    def entries(self, nodes: Iterable[Node]) -> tuple[tuple[str, str, int], ...]:
        """``(node, loop, tile)`` of every tiled loop smaller than the loop, in node then loop order:
        consistent along each axis, so they read back (Stream's format) as these tiles."""
        return tuple(
            (n.name, d, self.sizes[(n.name, d)])
            for n in nodes
            for d in n.loop_names
            if (n.name, d) in self.sizes and self.sizes[(n.name, d)] < n.sizes[d]
        )
