"""Write a :class:`~stream_core.ir.Mapping` as a Stream-format mapping YAML (readable with --mapping).

Layout (Stream 1.13): ``layers`` with ``name``, ``core_allocation: [[ids]]`` and
``inter_core_tiling: [[{dim: D<i>, split: n}]]``; ``fused_groups`` with ``name``, ``layers`` and
``intra_core_tiling: [{dim: <node>.D<i>, tile: t}]``. Dimensions are positional (``D<i>`` is the
node's ``i``-th loop), as Stream names them.

An entry tiles its fused axis in every node of the group (Stream 2.1.1; the mapping reader keeps
what it gives the other loops in ``FusedGroup.derived``), and the reader tiles a node that does not
fit memory further. So a group's tiles are written as entries that read back to them
(:func:`stated_tiles`); with the accelerator, the fewest such entries are chosen by reading them
back (:func:`mapping_data`). Entries are listed in the order that nests the nodes' loops as the
mapping does (Stream reads the first entry as the innermost loop; :func:`nest_entries`).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from stream_core.context import RunContext
from stream_core.ir.accelerator import Accelerator
from stream_core.ir.mapping import FusedGroup, Mapping
from stream_core.ir.problem import AllocationProblem
from stream_core.ir.result import Result
from stream_core.ir.workload import Workload
from stream_core.mapping_io import parse_mapping_data, resolve_mapping
from stream_core.tiling import NodeTiling, fused_axes

Entry = tuple[str, str, int]  # (node, loop, tile)


def stated_tiles(group: FusedGroup, workload: Workload) -> tuple[list[Entry], list[Entry]]:
    """``group``'s tiles as ``intra_core_tiling`` entries, in its order: all it can state, and the
    lean part of them (the entries its derived tiles come from). Left out of both: a tile on a derived
    loop, and a tile disagreeing with its axis that the axis would not give its loop (tiles the reader
    added to fit memory). A tile its axis gives another size (a written tile the reader shrank to fit)
    is written as the axis says."""
    axes = fused_axes(workload, group.nodes)
    tiled = {(n, d) for n, d, _ in group.tiles}
    derived = {(n, d): Fraction(t) for n, d, t in group.derived}
    said = dict(derived)  # what each axis says so far

    def derivable(loop: tuple[str, str], size: Fraction) -> bool:
        node = workload.node(loop[0])
        return size < node.sizes[loop[1]] and loop[1] not in node.protected_loops

    stated: list[Entry] = []
    lean: list[Entry] = []
    for n, d, t in group.tiles:
        if (n, d) in derived:
            continue
        members = axes.members((n, d))
        axis = next((said[m] / ratio for m, ratio in members if m in said), None)
        if axis is None:
            if any(derivable(m, t * ratio) for m, ratio in members if m not in tiled):
                continue
            axis = Fraction(t)
        elif axis != t and (axis.denominator != 1 or not derivable((n, d), axis)):
            continue
        stated.append((n, d, int(axis)))
        if any(m in derived for m, _ in members):  # an entry the derived tiles come from
            lean.append(stated[-1])
        said.update((m, axis * ratio) for m, ratio in members)
    return stated, lean if derived else stated


def nest_entries(entries: list[Entry], group: FusedGroup, mapping: Mapping, workload: Workload) -> list[Entry]:
    """``entries`` in the order that reads back to each node's nest: an entry goes next when, for every
    loop on its fused axis, no loop nested inside it (with more than one step, on another entry's axis)
    is still to come. When no order can state every nest, the rest keep their order (the exporter
    warns: the mapping reads back nested otherwise)."""
    axes = fused_axes(workload, group.nodes)
    members = [{loop for loop, _ in axes.members((n, d))} for n, d, _ in entries]
    covered = set().union(*members)
    inner: dict[tuple[str, str], set[tuple[str, str]]] = {}  # loop -> the covered loops nested inside it
    for name in group.nodes:
        tiling = NodeTiling(workload.node(name), mapping.nodes[name], group.tile_sizes(name))
        nest = [(name, d) for d in reversed(tiling.nest) if tiling.steps[d] > 1 and (name, d) in covered]
        inner.update((loop, set(nest[:i])) for i, loop in enumerate(nest))
    placed: set[tuple[str, str]] = set()
    left = list(range(len(entries)))
    order: list[int] = []
    while left:
        ready = next((i for i in left if all(inner.get(loop, set()) <= placed for loop in members[i])), left[0])
        order.append(ready)
        left.remove(ready)
        placed |= members[ready]
    return [entries[i] for i in order]


def mapping_data(mapping: Mapping, workload: Workload, accelerator: Accelerator | None = None) -> dict[str, Any]:
    """The mapping file's data. Each group's entries are all it can state; with ``accelerator``, a
    group whose lean entries alone read back to its tiles (the reader fitting nodes to memory again)
    gets those instead."""
    order = {node.name: i for i, node in enumerate(workload.nodes)}

    def dim(node: str, loop: str) -> str:
        return f"D{workload.node(node).loop_names.index(loop)}"

    layers = []
    for name in sorted(mapping.nodes, key=order.__getitem__):
        nm = mapping.nodes[name]
        entry: dict[str, Any] = {"name": name, "core_allocation": [list(nm.cores)]}
        if nm.split:
            entry["inter_core_tiling"] = [[{"dim": dim(name, d), "split": f} for d, f in nm.split]]
        layers.append(entry)

    def data(entries: list[list[Entry]]) -> dict[str, Any]:
        groups = []
        for group, tiles in zip(mapping.groups, entries, strict=True):
            item: dict[str, Any] = {"name": group.name, "layers": list(group.nodes)}
            if tiles:
                item["intra_core_tiling"] = [{"dim": f"{n}.{dim(n, d)}", "tile": t} for n, d, t in tiles]
            groups.append(item)
        return {"layers": layers, "fused_groups": groups}

    entries = [
        tuple(nest_entries(tiles, g, mapping, workload) for tiles in stated_tiles(g, workload)) for g in mapping.groups
    ]
    chosen = [stated for stated, _ in entries]
    if accelerator is not None and any(lean != stated for stated, lean in entries):
        differ = differing_groups(mapping, read_back(data([lean for _, lean in entries]), workload, accelerator))
        chosen = [
            stated if g.name in differ else lean for g, (stated, lean) in zip(mapping.groups, entries, strict=True)
        ]
    return data(chosen)


def read_back(data: dict[str, Any], workload: Workload, accelerator: Accelerator) -> Mapping:
    """The mapping the mapping reader makes of ``data``."""
    return resolve_mapping(parse_mapping_data(data, None), workload, accelerator, None)


def differing_groups(mapping: Mapping, back: Mapping) -> list[str]:
    """The groups of ``mapping`` that ``back`` tiles or nests otherwise."""
    groups = {g.name: g for g in back.groups}
    return [
        g.name
        for g in mapping.groups
        if groups.get(g.name) != g or any(back.nodes.get(n) != mapping.nodes[n] for n in g.nodes)
    ]


def write_mapping(mapping: Mapping, workload: Workload, path: Path, accelerator: Accelerator | None = None) -> Path:
    path.write_text(yaml.safe_dump(mapping_data(mapping, workload, accelerator), sort_keys=False))
    return path


class MappingExporter:
    def export(self, result: Result, problem: AllocationProblem, output_dir: Path, context: RunContext) -> list[Path]:
        workload, mapping = problem.as_given  # in the terms of the workload file: split reductions as splits
        path = write_mapping(mapping, workload, output_dir / "mapping.yaml", problem.accelerator)
        back = read_back(yaml.safe_load(path.read_text()), workload, problem.accelerator)
        differ = differing_groups(mapping, back)
        if differ:
            context.warn(
                f"{path.name}: fused groups {', '.join(differ)} read back with other tiles or loop order than this "
                "run's (tiles the mapping reader added to fit memory, or nodes nesting their loops in orders no one "
                "list of entries states: Stream's format cannot state them)"
            )
        return [path]
