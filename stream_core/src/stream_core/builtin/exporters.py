"""Built-in exporters: summary (JSON and YAML), Perfetto trace, Gantt chart."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import yaml

from stream_core.context import RunContext
from stream_core.ir.problem import AllocationProblem
from stream_core.ir.result import Result
from stream_core.report import chrome_trace, summary_dict


class SummaryExporter:
    def export(self, result: Result, problem: AllocationProblem, output_dir: Path, context: RunContext) -> list[Path]:
        data = summary_dict(result, problem.accelerator)
        json_path = output_dir / "summary.json"
        json_path.write_text(json.dumps(data, indent=2) + "\n")
        yaml_path = output_dir / "summary.yaml"
        yaml_path.write_text(yaml.safe_dump(data, sort_keys=False))
        return [json_path, yaml_path]


class TraceExporter:
    def export(self, result: Result, problem: AllocationProblem, output_dir: Path, context: RunContext) -> list[Path]:
        path = output_dir / "trace.json"
        path.write_text(json.dumps(chrome_trace(result, problem.accelerator)))
        return [path]


class GanttExporter:
    """A PNG with one row per core and per used link; bars coloured by node (matplotlib, no Graphviz)."""

    def export(self, result: Result, problem: AllocationProblem, output_dir: Path, context: RunContext) -> list[Path]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        acc = problem.accelerator
        rows = [f"core {c} ({acc.cores[c].name})" for c in sorted({t.core for t in result.tiles})]
        labels = {link.id: link.label for link in acc.links}
        rows += sorted({labels[i] for t in result.transfers for i in t.links})
        index = {label: i for i, label in enumerate(rows)}
        nodes = sorted({t.node for t in result.tiles})
        cmap = plt.get_cmap("tab20")
        colour = {n: cmap(i % 20) for i, n in enumerate(nodes)}
        fig, ax = plt.subplots(figsize=(12, 0.45 * len(rows) + 1.5))
        # one draw call per (row, colour): thousands of bars stay fast
        bars: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
        for t in result.tiles:
            bars[(index[f"core {t.core} ({acc.cores[t.core].name})"], t.node)].append((t.start, max(t.duration, 1)))
        for (y, node), spans in sorted(bars.items()):
            ax.broken_barh(spans, (y - 0.4, 0.8), facecolors=colour[node], edgecolor="black", linewidth=0.2)
        moves: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for tr in result.transfers:
            for link in tr.links:
                moves[index[labels[link]]].append((tr.start, max(tr.duration, 1)))
        for y, spans in sorted(moves.items()):
            ax.broken_barh(spans, (y - 0.3, 0.6), facecolors="lightgrey", edgecolor="grey", linewidth=0.2)
        ax.set_yticks(range(len(rows)), rows)
        ax.invert_yaxis()
        ax.set_xlabel("cycle")
        ax.set_title(f"{result.workload} on {result.accelerator}: {result.totals.latency:,} cycles")
        handles = [plt.Rectangle((0, 0), 1, 1, color=colour[n]) for n in nodes[:20]]
        ax.legend(handles, nodes[:20], loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
        fig.tight_layout()
        path = output_dir / "gantt.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return [path]
