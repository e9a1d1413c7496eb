"""Tilings of the dataflow kernels: the default streaming policy and user overrides.

Default policy (row streaming, every choice a divisor of the loop):

* the loops that index the output's *row* dims are tiled to 1, so tokens are rows: for a 4-D NCHW output
  the batch and height dims (tokens are ``1 x C x 1 x W`` rows of every channel), otherwise every output
  dim but the last (tokens are vectors along the last dim); loops a normalisation needs whole
  (``protected_loops``) are never tiled;
* for a MAC kernel whose second operand (the weight) would travel in tokens of more than
  ``max_weight_elements`` floats, the reduction loop and then the column loop of that operand are tiled to
  their largest divisor <= 64, until the token fits (weights are streamed from HBM in tiles).

Overrides (``--tile``): ``LOOP=SIZE`` for every node that has the loop, or ``NODE:LOOP=SIZE`` for one node;
they replace the default of that loop.
"""

from __future__ import annotations

import math

from stream_itensor.api import KernelTiling

from stream_core.errors import InputError, Problem
from stream_core.ir import Node, Workload

MAX_WEIGHT_ELEMENTS = 4096
WEIGHT_TILE = 64


def _largest_divisor(n: int, limit: int) -> int:
    return max(d for d in range(1, min(n, limit) + 1) if n % d == 0)


def row_loops(node: Node) -> list[str]:
    """Loops indexing the output's row dims alone (see the module docstring)."""
    access = node.output.access
    if access is None:
        return []
    rank = len(access)
    rows = (0, 2) if rank == 4 else tuple(range(rank - 1))
    loops = []
    for d in rows:
        expr = access[d]
        if len(expr.terms) == 1 and expr.terms[0][1] == 1 and expr.terms[0][0] not in node.protected_loops:
            loops.append(expr.terms[0][0])
    return loops


def default_tiling(node: Node, max_weight_elements: int = MAX_WEIGHT_ELEMENTS) -> dict[str, int]:
    sizes = node.sizes
    tiles = {n: 1 for n in row_loops(node) if sizes[n] > 1}
    if node.mac_op and len(node.reads) > 1 and node.reads[1].access is not None:
        weight_loops = [n for n in node.reads[1].dims if n not in tiles]
        reduction = [n for n in weight_loops if n in node.reduction_dims]
        columns = [n for n in weight_loops if n not in node.reduction_dims]

        def token() -> int:
            return math.prod(tiles.get(n, sizes[n]) for n in node.reads[1].dims)

        for loop in [*reduction, *columns]:
            if token() <= max_weight_elements:
                break
            tile = _largest_divisor(sizes[loop], WEIGHT_TILE)
            if tile < sizes[loop]:
                tiles[loop] = tile
    return tiles


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


def build_tilings(
    workload: Workload, overrides: list[str] | None = None, max_weight_elements: int = MAX_WEIGHT_ELEMENTS
) -> dict[str, KernelTiling]:
    """A :class:`~stream_itensor.api.KernelTiling` per node: the default policy plus the overrides."""
    uniform, per_node = parse_overrides(overrides or [])
    unknown = sorted(set(per_node) - {n.name for n in workload.nodes})
    if unknown:
        raise InputError(
            [Problem(f"no node named {n!r} in workload {workload.name!r}", field=f"--tile {n}:") for n in unknown]
        )
    out = {}
    for node in workload.nodes:
        tiles = default_tiling(node, max_weight_elements)
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
        out[node.name] = KernelTiling(tiles)
    return out
