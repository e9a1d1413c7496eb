"""Write a :class:`~stream_core.ir.Mapping` as a Stream-format mapping YAML (readable with --mapping).

Layout (Stream 1.13): ``layers`` with ``name``, ``core_allocation: [[ids]]`` and
``inter_core_tiling: [[{dim: D<i>, split: n}]]``; ``fused_groups`` with ``name``, ``layers`` and
``intra_core_tiling: [{dim: <node>.D<i>, tile: t}]``. Dimensions are positional (``D<i>`` is the
node's ``i``-th loop), as Stream names them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from stream_core.context import RunContext
from stream_core.ir.mapping import Mapping
from stream_core.ir.result import Result
from stream_core.ir.workload import Workload
from stream_core.pipeline import AllocationProblem


def mapping_data(mapping: Mapping, workload: Workload) -> dict[str, Any]:
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
    groups = []
    for group in mapping.groups:
        item: dict[str, Any] = {"name": group.name, "layers": list(group.nodes)}
        if group.tiles:
            item["intra_core_tiling"] = [{"dim": f"{n}.{dim(n, d)}", "tile": t} for n, d, t in group.tiles]
        groups.append(item)
    return {"layers": layers, "fused_groups": groups}


def write_mapping(mapping: Mapping, workload: Workload, path: Path) -> Path:
    path.write_text(yaml.safe_dump(mapping_data(mapping, workload), sort_keys=False))
    return path


class MappingExporter:
    def export(self, result: Result, problem: AllocationProblem, output_dir: Path, context: RunContext) -> list[Path]:
        return [write_mapping(problem.mapping, problem.workload, output_dir / "mapping.yaml")]
