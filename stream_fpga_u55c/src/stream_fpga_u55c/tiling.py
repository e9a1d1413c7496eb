"""Tile sizes the user fixes for ``stream compile`` (``--set u55c.tiles=[...]``); the rest is searched.

``LOOP=SIZE`` fixes the loop in every node that has it, ``NODE:LOOP=SIZE`` in one node. The other loops
are chosen by stream-itensor's tiling search (:func:`stream_itensor.api.plan_streams` with ``search``),
the same search ``stream fifo-size`` runs, so both commands plan the same design.
"""

from __future__ import annotations

from stream_itensor.api import KernelTiling

from stream_core.errors import InputError, Problem
from stream_core.ir import Workload


def parse_overrides(items: list[str]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """``["K=16", "conv1:OY=2"]`` -> uniform and per-node tile sizes; reports every malformed item."""
    uniform: dict[str, int] = {}
    per_node: dict[str, dict[str, int]] = {}
    problems = []
    for item in items:
        target, sep, size = item.partition("=")
        node, colon, loop = target.rpartition(":")
        if not sep or not loop.strip() or not size.strip().isdigit() or int(size) < 1 or (colon and not node):
            problems.append(Problem(f"expected [NODE:]LOOP=SIZE with a positive size, got {item!r}", field="--tile"))
            continue
        if colon:
            per_node.setdefault(node.strip(), {})[loop.strip()] = int(size)
        else:
            uniform[loop.strip()] = int(size)
    if problems:
        raise InputError(problems)
    return uniform, per_node


def fixed_tilings(workload: Workload, overrides: list[str] | None = None) -> dict[str, KernelTiling]:
    """Per node, the tile sizes ``overrides`` fix (nodes without any are left out)."""
    uniform, per_node = parse_overrides(overrides or [])
    unknown = sorted(set(per_node) - {n.name for n in workload.nodes})
    if unknown:
        raise InputError(
            [Problem(f"no node named {n!r} in workload {workload.name!r}", field=f"--tile {n}:") for n in unknown]
        )
    out = {}
    for node in workload.nodes:
        tiles: dict[str, int] = {}
        for loop, size in uniform.items():
            if loop in node.sizes:
                tiles[loop] = size
        for ref, size in per_node.get(node.name, {}).items():
            try:
                tiles[node.resolve_dim(ref)] = size
            except KeyError:
                raise InputError(
                    Problem(
                        f"node {node.name!r} has no loop {ref!r}; loops: {', '.join(node.loop_names)}",
                        field=f"--tile {node.name}:{ref}",
                    )
                ) from None
        if tiles:
            out[node.name] = KernelTiling(tiles)
    return out
