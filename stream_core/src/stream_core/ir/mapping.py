"""Mapping IR: where each node may run, how it is split across cores, and how fused groups are tiled.

Semantics (those of Stream's mapping files):

* ``NodeMapping.cores`` with no inter-core split lists the *candidate* cores; the allocator picks one.
  With a split of ``P`` parts, ``cores`` has exactly ``P`` entries and part ``i`` runs on ``cores[i]``;
  a core listed more than once runs each of its parts, one after the other.
* ``NodeMapping.loop_order`` nests the node's temporal (intra-core) tile loops: the loops it lists,
  the first innermost (Stream's order of ``intra_core_tiling`` entries), inside the loops it does not
  list, which keep the node's loop order (first outermost). Empty: the node's loop order.
* ``NodeMapping.interleave`` lists loops ``(loop, u)`` whose tiles are visited ``u`` blocks at a time:
  the part's range is ``u`` equal blocks and step ``c`` of the loop covers tile
  ``(c % u) * (steps / u) + c // u`` (:func:`stream_core.tiling.interleaved`). Stream steps a fused axis
  that another node of the group splits over ``u`` cores this way: each steady-state iteration takes
  one tile of every block.
* ``FusedGroup.tiles`` gives the intra-core (temporal) tile size of some loops, as written; a loop
  without a tile size is processed whole (per part). ``FusedGroup.derived`` tiles the loops that are
  one fused axis with a written one, as Stream does (see :func:`stream_core.tiling.fused_axes`); a
  written tile wins. Groups run one after the other, in order.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from typing import Any

import attrs


def _freeze_kwargs(value: MappingABC[str, Any] | Iterable[tuple[str, Any]] | None) -> tuple[tuple[str, Any], ...]:
    if value is None:
        return ()
    items = value.items() if isinstance(value, MappingABC) else value
    return tuple(sorted((str(k), v) for k, v in items))


def _freeze_tiles(tiles: Iterable[tuple[str, str, int]]) -> tuple[tuple[str, str, int], ...]:
    return tuple((str(n), str(d), int(t)) for n, d, t in tiles)


@attrs.frozen
class Kernel:
    """A kernel implementation with arguments (used by AIE costing and code generators). ``name`` is
    ``None`` when the mapping gives only ``kwargs`` (Stream 2.1.1: no kernel is named)."""

    name: str | None
    kwargs: tuple[tuple[str, Any], ...] = attrs.field(default=(), converter=_freeze_kwargs)

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.kwargs).get(key, default)


@attrs.frozen
class NodeMapping:
    node: str
    cores: tuple[int, ...] = attrs.field(converter=tuple[int, ...])
    split: tuple[tuple[str, int], ...] = attrs.field(
        default=(), converter=lambda s: tuple((str(d), int(f)) for d, f in s)
    )
    kernel: Kernel | None = None
    #: Cost-model hints from the mapping file (e.g. ZigZag ``spatial_mapping``), as frozen pairs.
    hints: tuple[tuple[str, Any], ...] = ()
    #: Temporal loop nest, innermost first (see the module docstring); empty: the node's loop order.
    loop_order: tuple[str, ...] = attrs.field(default=(), converter=tuple[str, ...])
    #: Loops whose tiles are visited in ``u`` interleaved blocks (see the module docstring).
    interleave: tuple[tuple[str, int], ...] = attrs.field(
        default=(), converter=lambda s: tuple((str(d), int(u)) for d, u in s)
    )

    @property
    def parts(self) -> int:
        return math.prod(f for _, f in self.split)

    def split_factor(self, loop: str) -> int:
        return math.prod(f for d, f in self.split if d == loop)


@attrs.frozen
class FusedGroup:
    name: str
    nodes: tuple[str, ...] = attrs.field(converter=tuple[str, ...])
    #: Tiles as written (in entry order); groups with the same tiles in another order compare equal.
    tiles: tuple[tuple[str, str, int], ...] = attrs.field(default=(), converter=_freeze_tiles, eq=frozenset)
    derived: tuple[tuple[str, str, int], ...] = attrs.field(default=(), converter=_freeze_tiles, eq=frozenset)

    def tile_sizes(self, node: str) -> dict[str, int]:
        """The tile size of each tiled loop of ``node``: written, else derived from a fused axis."""
        return dict(self._tile_table.get(node, {}))

    @functools.cached_property
    def _tile_table(self) -> dict[str, dict[str, int]]:
        """Per node, its tile sizes (built once: ``tile_sizes`` is called per node of the group)."""
        table: dict[str, dict[str, int]] = {}
        for n, d, t in (*self.derived, *self.tiles):
            table.setdefault(n, {})[d] = t
        return table


@attrs.frozen
class Mapping:
    nodes: MappingABC[str, NodeMapping] = attrs.field(converter=lambda m: dict(sorted(dict(m).items())))
    groups: tuple[FusedGroup, ...] = attrs.field(converter=tuple[FusedGroup, ...])
    runtime_args: tuple[tuple[str, Any], ...] = attrs.field(default=(), converter=_freeze_kwargs)
    source: str | None = attrs.field(default=None, eq=False)
    #: How fields of the mapping file were interpreted where that is not evident, one sentence each.
    notes: tuple[str, ...] = attrs.field(default=(), converter=tuple[str, ...], eq=False)

    def group_of(self, node: str) -> FusedGroup:
        for group in self.groups:
            if node in group.nodes:
                return group
        raise KeyError(node)

    def __getitem__(self, node: str) -> NodeMapping:
        return self.nodes[node]
