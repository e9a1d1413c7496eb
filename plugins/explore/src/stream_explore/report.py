"""Sweep reports: ``results.csv``, ``pareto.png`` (matplotlib), ``pareto.html`` (plotly, the
parameters on hover) and the front as a text table."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stream_explore.pareto import front_rows
from stream_explore.sweep import METRICS

FIXED = ("workload", "accelerator", "status", "pareto", *METRICS, "error", "input_hash")


def table(rows: Sequence[dict[str, Any]], objectives: Sequence[str]) -> list[dict[str, Any]]:
    """Flat rows: workload, accelerator, one column per parameter, status, on the front or not,
    the metrics, the error and the input hash."""
    on_front = {r["input_hash"] for r in front_rows(rows, objectives)}
    names = list(dict.fromkeys(name for r in rows for name in r["params"]))
    out = []
    for r in rows:
        flat = {"workload": r["workload"], "accelerator": r["accelerator"]}
        flat.update({name: r["params"].get(name) for name in names})
        flat.update({key: r.get(key) for key in FIXED[2:]})
        flat["pareto"] = r["input_hash"] in on_front
        out.append(flat)
    return out


def write_csv(flat: Sequence[dict[str, Any]], path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(flat[0]) if flat else list(FIXED))
        writer.writeheader()
        for row in flat:
            writer.writerow({k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in row.items()})
    return path


def _axes(objectives: Sequence[str]) -> tuple[str, str]:
    return (objectives[0], objectives[1]) if len(objectives) > 1 else ("seq", objectives[0])


def _label(metric: str) -> str:
    return f"{metric} ({METRICS[metric]})" if metric in METRICS else "variant"


def write_png(flat: Sequence[dict[str, Any]], objectives: Sequence[str], path: Path) -> Path:
    """Every evaluated variant of each workload, its front joined by a staircase."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y = _axes(objectives)
    fig, ax = plt.subplots(figsize=(7, 5))
    for i, workload in enumerate(dict.fromkeys(r["workload"] for r in flat)):
        ok = [(n, r) for n, r in enumerate(flat) if r["workload"] == workload and r["status"] == "ok"]
        colour = f"C{i % 10}"
        ax.scatter([r[x] if x != "seq" else n for n, r in ok], [r[y] for _, r in ok], color=colour, alpha=0.35)
        best = sorted((r[x] if x != "seq" else n, r[y]) for n, r in ok if r["pareto"])
        if best:
            ax.step(*zip(*best, strict=True), where="post", color=colour, marker="o", label=f"{workload} front")
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(y))
    ax.set_title("stream explore: evaluated variants and Pareto fronts")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_html(flat: Sequence[dict[str, Any]], objectives: Sequence[str], params: Sequence[str], path: Path) -> Path:
    """An interactive scatter; hovering a point shows its parameters and metrics."""
    import plotly.graph_objects as go

    x, y = _axes(objectives)
    fig = go.Figure()
    for workload in dict.fromkeys(r["workload"] for r in flat):
        for on_front in (False, True):
            rows = [
                (n, r)
                for n, r in enumerate(flat)
                if r["workload"] == workload and r["status"] == "ok" and r["pareto"] == on_front
            ]
            hover = [
                "<br>".join(f"{k}: {r[k]}" for k in ("accelerator", *params, *objectives) if k in r) for _, r in rows
            ]
            fig.add_trace(
                go.Scatter(
                    x=[r[x] if x != "seq" else n for n, r in rows],
                    y=[r[y] for _, r in rows],
                    mode="markers",
                    name=f"{workload} {'front' if on_front else 'dominated'}",
                    hovertext=hover,
                    hoverinfo="text",
                    marker={"size": 11 if on_front else 7, "opacity": 1.0 if on_front else 0.4},
                )
            )
    fig.update_layout(title="stream explore", xaxis_title=_label(x), yaxis_title=_label(y))
    fig.write_html(path, include_plotlyjs=True)
    return path


def front_text(flat: Sequence[dict[str, Any]], objectives: Sequence[str], params: Sequence[str]) -> str:
    """The front of each workload as a text table, sorted by the first objective."""
    rows = sorted((r for r in flat if r["pareto"]), key=lambda r: (r["workload"], r[objectives[0]]))
    columns = ["workload", "accelerator", *params, *objectives]
    cells = [[_cell(r[c]) for c in columns] for r in rows]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in cells]
    counts = {s: sum(r["status"] == s for r in flat) for s in ("ok", "infeasible", "pruned", "failed")}
    lines.append(
        f"{len(rows)} on the front of {len(flat)} variants (" + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")"
    )
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value) if isinstance(value, list | dict) else str(value)
