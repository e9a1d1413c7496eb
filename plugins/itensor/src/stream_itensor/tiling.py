"""How a kernel is tiled: tile sizes per loop and the loop order of the tile loops.

A kernel (one workload node) runs a nest of *tile loops*: loop ``l`` of size ``N`` with tile size ``T``
has ``N / T`` iterations (``T`` must divide ``N``; a tile larger than the loop means the whole loop);
one iteration processes one tile of every operand. Loops are ordered outermost first: by default in the
node's loop order (``D0`` outermost, as :mod:`stream_core.tiling` enumerates tiles), or as
:attr:`KernelTiling.order` says.

The default tiling is *whole layer*: every tile equals the loop, one iteration, and every stream carries
one token (the whole tensor). Tilings come from a :class:`KernelTiling` per node, from a uniform
``{loop: tile}`` table applied to every node that has those loops, or from a stream-core
:class:`~stream_core.ir.Mapping` (its fused groups' ``tiles``; inter-core splits are not represented).
Loops may be named or given positionally as ``D<i>``.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC

import attrs

from stream_core.errors import Problem
from stream_core.ir import Mapping, Node


def _freeze_tiles(value: MappingABC[str, int] | tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    items = value.items() if isinstance(value, MappingABC) else value
    return tuple(sorted((str(k), int(v)) for k, v in items))


@attrs.frozen
class KernelTiling:
    """Tile size per loop (missing loops are whole) and an optional loop order (outermost first).

    ``order`` may list a subset of the loops: the listed ones come first in that order, the rest follow
    in the node's order.
    """

    tiles: tuple[tuple[str, int], ...] = attrs.field(default=(), converter=_freeze_tiles)
    order: tuple[str, ...] = attrs.field(default=(), converter=tuple[str, ...])


@attrs.frozen
class IterLoop:
    """One tile loop of a kernel: the loop's size and tile size; ``tripcount = size // tile``."""

    name: str
    size: int
    tile: int

    @property
    def tripcount(self) -> int:
        return self.size // self.tile


def resolve_loops(
    node: Node, tiling: KernelTiling | None, *, strict: bool = True, file: str | None = None
) -> tuple[tuple[IterLoop, ...], list[Problem]]:
    """The node's tile loops in kernel order, and the problems found.

    With ``strict`` (a per-node tiling) unknown loop names are problems; without it (a uniform table)
    they are ignored.
    """
    tiling = tiling or KernelTiling()
    problems: list[Problem] = []
    field = f"tiling.{node.name}"
    sizes = node.sizes
    tiles: dict[str, int] = {}
    for ref, tile in tiling.tiles:
        try:
            name = node.resolve_dim(ref)
        except KeyError:
            if strict:
                problems.append(
                    Problem(
                        f"node {node.name!r} has no loop {ref!r}; loops: {', '.join(node.loop_names)}",
                        file=file,
                        field=f"{field}.tiles.{ref}",
                    )
                )
            continue
        tile = min(tile, sizes[name])  # a tile larger than its loop is the whole loop (as stream-core tiles)
        if tile < sizes[name] and name in node.protected_loops:
            if strict:  # a uniform table simply leaves protected loops whole
                problems.append(
                    Problem(
                        f"loop {name!r} of node {node.name!r} ({node.op_type}) cannot be tiled: every output "
                        f"needs its whole extent (protected loops: {', '.join(node.protected_loops)})",
                        file=file,
                        field=f"{field}.tiles.{ref}",
                    )
                )
            continue
        if tile < 1 or sizes[name] % tile:
            problems.append(
                Problem(
                    f"tile {tile} of loop {name!r} (size {sizes[name]}) must be a positive divisor of the loop size",
                    file=file,
                    field=f"{field}.tiles.{ref}",
                )
            )
            continue
        tiles[name] = tile
    order: list[str] = []
    for ref in tiling.order:
        try:
            name = node.resolve_dim(ref)
        except KeyError:
            if strict:
                problems.append(Problem(f"node {node.name!r} has no loop {ref!r}", file=file, field=f"{field}.order"))
            continue
        if name in order:
            problems.append(Problem(f"loop {name!r} is listed twice", file=file, field=f"{field}.order"))
            continue
        order.append(name)
    order += [n for n in node.loop_names if n not in order]
    loops = tuple(IterLoop(n, sizes[n], tiles.get(n, sizes[n])) for n in order)
    return loops, problems


def tilings_from_mapping(mapping: Mapping) -> dict[str, KernelTiling]:
    """Per-node tilings from the intra-core tile sizes of a mapping's fused groups."""
    out: dict[str, KernelTiling] = {}
    for group in mapping.groups:
        for node in group.nodes:
            out[node] = KernelTiling(group.tile_sizes(node))
    return out
