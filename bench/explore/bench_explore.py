"""Bench of ``stream explore``: a 64-variant sweep of a ResNet-style block and a transformer MLP block
on the bundled quad-core TPU-like accelerator, with 1 and with 2 workers, each from a cold cost cache.

Prints variants per minute, the cost-cache hit rate (cached answers / distinct cost requests, summed
over variants), the share of the workers' time per stage and why variants failed (TETRA finds no
allocation of the ResNet block in the 4 Mbit SRAM: 8 variants). Takes several minutes; run it alone::

    python bench/explore/bench_explore.py [--jobs 1 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from stream_explore import explore, sweep_from_data
from stream_explore.store import Store

from stream_core import RunOptions

SWEEP = {
    "workloads": ["example:resnet_block", "example:transformer_mlp"],
    "accelerator": "example:tpu_like_quad_core",
    "parameters": {
        "array": {"path": "cores.tpu_like:operational_array.sizes", "values": [[16, 16], [32, 32]]},
        "sram_bits": {"path": "cores.tpu_like:memories.sram_2MB.size", "values": [4194304, 16777216]},
        "ring": {"path": [f"core_connectivity.{i}.bandwidth" for i in range(4)], "values": [32, 128]},
        "bus": {"path": "core_connectivity.12.bandwidth", "values": [64, 256]},
        "allocator": {"path": "option:allocator", "values": ["tetra", "greedy"]},
    },
    "objectives": ["latency", "energy", "area"],
    "run": {"settings": {"zigzag.lpf_limit": 5}},
}


def bench(jobs: int, folder: Path) -> dict[str, Any]:
    sweep = sweep_from_data(SWEEP, base_dir=Path.cwd())
    options = RunOptions(cache_dir=folder / "cache")
    started = time.perf_counter()
    explore(sweep, folder / "out", jobs=jobs, options=options)
    wall = time.perf_counter() - started
    store = Store(folder / "out")
    rows = store.rows()
    store.close()
    stages: Counter[str] = Counter()
    hits = unique = 0
    for row in rows:
        stages.update(row["details"].get("stage_seconds", {}))
        cost = row["details"].get("cost", {})
        hits += cost.get("cache_hits", 0)
        unique += cost.get("unique", 0)
    worker_seconds = sum(r["seconds"] for r in rows)
    stages["explore overhead (driver, pool, files)"] = max(0.0, wall * jobs - worker_seconds)
    return {
        "jobs": jobs,
        "variants": len(rows),
        "failed": sum(r["status"] != "ok" for r in rows),
        "wall": wall,
        "per_minute": 60 * len(rows) / wall,
        "hit_rate": hits / unique if unique else 0.0,
        "stages": stages,
        "errors": Counter(r["error"].splitlines()[0][:100] for r in rows if r["status"] != "ok"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    results = []
    for jobs in args.jobs:
        with tempfile.TemporaryDirectory(prefix="bench-explore-") as tmp:
            results.append(bench(jobs, Path(tmp)))
    print(f"{'jobs':>4} {'variants':>8} {'failed':>6} {'wall s':>8} {'variants/min':>12} {'cache hits':>10}")
    for r in results:
        print(
            f"{r['jobs']:>4} {r['variants']:>8} {r['failed']:>6} {r['wall']:>8.1f} {r['per_minute']:>12.1f}"
            f" {r['hit_rate']:>10.0%}"
        )
    for r in results:
        total = sum(r["stages"].values()) or 1.0
        shares = ", ".join(f"{k} {v / total:.0%}" for k, v in r["stages"].most_common())
        print(f"jobs {r['jobs']}: share of worker time per stage: {shares}")
        for error, count in r["errors"].items():
            print(f"jobs {r['jobs']}: {count} failed: {error}")


if __name__ == "__main__":
    main()
