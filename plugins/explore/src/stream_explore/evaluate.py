"""Evaluating one variant: write its files to a temporary folder, ``stream_core.run`` it, measure it.

:func:`evaluate` runs in a worker (this process, a pool process or a Ray worker) and never raises for
a variant that fails: the row says ``failed`` and why.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

import stream_core
from stream_core import RunOptions, StreamError
from stream_core.ir import Result
from stream_explore.variants import Variant


@attrs.frozen
class Task:
    """Everything a worker needs; ``key`` is the hash of the variant's inputs, ``cost_group`` the hash
    of what its cost requests depend on (variants differing only in links share it)."""

    key: str
    cost_group: str
    seq: int
    workload: str
    mapping: str | None
    accelerator: str
    params: dict[str, Any]
    variant: Variant
    options: dict[str, Any]
    area: dict[str, Any]

    def row(self) -> dict[str, Any]:
        """The row's fields known before running."""
        return {
            "input_hash": self.key,
            "seq": self.seq,
            "workload": Path(self.workload).stem,
            "accelerator": self.accelerator,
            "params": self.params,
            "area": self.area["total_mm2"],
            "details": {"area": self.area},
        }


def evaluate(task: Task, workload_bytes: bytes | None = None) -> dict[str, Any]:
    """Run one variant; ``workload_bytes`` stands in for the workload file on a machine without it."""
    row = task.row()
    row["provenance"] = {"host": platform.node(), "pid": os.getpid(), "stream-core": stream_core.__version__}
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="stream-explore-") as folder:
            hardware = task.variant.write(Path(folder))
            workload = Path(task.workload)
            if workload_bytes is not None:
                workload = Path(folder) / workload.name
                workload.write_bytes(workload_bytes)
            outcome = stream_core.run(workload, hardware, task.mapping, options=RunOptions(**task.options))
        row.update(measure(outcome.result, outcome.problem.accelerator.offchip_core_id))
        row["details"] = {**row["details"], **run_details(outcome.result)}
        row["provenance"].update(outcome.result.provenance)
        row["status"], row["error"] = "ok", ""
    except StreamError as exc:
        row["status"], row["error"] = "failed", str(exc)
    except Exception as exc:  # an internal error in one variant must not stop the sweep
        row["status"], row["error"] = "failed", f"internal error: {type(exc).__name__}: {exc}"
    row["seconds"] = round(time.perf_counter() - started, 4)
    return row


def measure(result: Result, offchip_core: int | None) -> dict[str, Any]:
    """The objectives of a run. ``peak_memory`` is the sum over on-chip cores of each one's peak
    occupancy in bits (what their memories must hold at least)."""
    totals = result.totals
    peaks = [
        max((bits for _, bits in steps), default=0) for core, steps in result.memory.items() if core != offchip_core
    ]
    return {
        "latency": totals.latency,
        "energy": totals.energy_pj,
        "edp": totals.edp,
        "peak_memory": sum(peaks),
    }


def run_details(result: Result) -> dict[str, Any]:
    """What the bench and a curious user read: energy parts, cost-cache counters, time per stage."""
    totals = result.totals
    return {
        "energy_pj": {
            "compute": totals.compute_energy_pj,
            "transfer": totals.transfer_energy_pj,
            "memory": totals.memory_energy_pj,
        },
        "cost": dict(result.stats.get("cost", {})),
        "stage_seconds": dict(result.stats.get("stage_seconds", {})),
        "warnings": list(result.warnings),
        "notes": list(result.notes),
    }
