"""Pareto fronts of minimised objectives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """``a`` is no worse than ``b`` in every objective and better in one."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))


def front(points: Sequence[Sequence[float]]) -> list[int]:
    """Indices of the points no other point dominates (equal points are all kept), in input order."""
    return [i for i, p in enumerate(points) if not any(dominates(q, p) for q in points)]


def front_rows(rows: Sequence[dict[str, Any]], objectives: Sequence[str]) -> list[dict[str, Any]]:
    """The ``ok`` rows on the front of their workload (fronts of different workloads are separate)."""
    out = []
    for workload in dict.fromkeys(r["workload"] for r in rows):
        ok = [r for r in rows if r["workload"] == workload and r["status"] == "ok"]
        out += [ok[i] for i in front([[float(r[m]) for m in objectives] for r in ok])]
    return out
