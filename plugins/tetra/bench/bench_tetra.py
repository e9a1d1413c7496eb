"""Benchmark of the TETRA allocator (prints figures; asserts nothing).

    python plugins/tetra/bench/bench_tetra.py [--quick] [--profile]

1. Stream's quick start (two_conv on tpu_like_quad_core, automatic mapping, ZigZag costs) beside
   Stream v1.13.14's published 14344 cycles and slot latencies, with ``tetra.transfers`` exact and stream.
2. The matrix accelerators x workloads (two_conv, resnet_block, transformer_mlp from the examples,
   ResNet-18 built here): latency, energy, MILP size, solve time per solver, end-to-end wall time
   cold (empty cost cache) and warm (cache reused), time limit 30 s per level (``--time-limit``).
   Gurobi runs only where its size-limited licence accepts the models.
3. Determinism: two runs, summaries compared.
4. ``--profile``: where the time of one warm end-to-end run goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from stream_core import RunOptions, run
from stream_core.errors import StreamError
from stream_core.report import summary_dict
from stream_core.testing import check_schedule

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from resnet18 import build_resnet18  # noqa: E402

EXAMPLES = Path(__import__("stream_core").__file__).parent / "examples"
HARDWARE = ["tpu_like_quad_core", "hetero_array_simd"]
STREAM_QUICK_START = {"latency": 14344, "slots": [1024, 144, 2376, 2048, 4656, 4096]}


def workloads(tmp: Path, quick: bool) -> dict[str, Path]:
    out = {name: EXAMPLES / "workloads" / f"{name}.onnx" for name in ("two_conv", "resnet_block", "transformer_mlp")}
    if not quick:
        out["resnet18"] = build_resnet18(tmp / "resnet18.onnx")
    return out


def group_sums(result) -> dict[str, Any]:
    stats = [dict(g.stats) for g in result.groups]
    return {
        "groups": len(stats),
        "vars": sum(s["milp_variables"] for s in stats),
        "cons": sum(s["milp_constraints"] for s in stats),
        "max_vars": max(s["milp_variables"] for s in stats),
        "solve_s": sum(s["solve_seconds"] for s in stats),
        "status": ",".join(sorted({s["status"] for s in stats})),
    }


def schedules(result) -> str:
    """How many groups kept the uniform schedule and how many the list schedule, and the uniform total."""
    kinds = [dict(g.stats)["schedule"] for g in result.groups]
    uniform = sum(dict(g.stats)["uniform_latency"] for g in result.groups)
    return f"{kinds.count('uniform')} uniform, {kinds.count('list')} list (all-uniform total {uniform})"


TIME_LIMIT = 30.0


def timed_run(workload: Path, hardware: Path, **options: Any):
    started = time.perf_counter()
    outcome = run(workload, hardware, options=RunOptions(time_limit=TIME_LIMIT, **options))
    return outcome, time.perf_counter() - started


def stream_accumulator_copy(tmp: Path) -> Path:
    """The bundled quad core with Stream's 16-bit accumulator (``rf_2B``) instead of our 32-bit one."""
    target = tmp / "stream_hardware"
    shutil.copytree(EXAMPLES / "hardware", target)
    core = target / "cores" / "tpu_like.yaml"
    data = yaml.safe_load(core.read_text())
    register = data["memories"].pop("rf_4B")
    register["size"] = 16
    for port in register["ports"]:
        port["bandwidth_min"] = port["bandwidth_max"] = 16
    data["memories"] = {"rf_128B": data["memories"]["rf_128B"], "rf_2B": register, **data["memories"]}
    core.write_text(yaml.safe_dump(data, sort_keys=False))
    return target / "tpu_like_quad_core.yaml"


def quick_start(tmp: Path) -> None:
    print("== Stream quick start: two_conv on tpu_like_quad_core, auto mapping, ZigZag costs ==")
    print(
        f"Stream v1.13.14 (zigzag 3.8.5): {STREAM_QUICK_START['latency']} cycles, slots {STREAM_QUICK_START['slots']}"
    )
    workload = EXAMPLES / "workloads" / "two_conv.onnx"
    cores = {
        "our 32-bit accumulator": EXAMPLES / "hardware" / "tpu_like_quad_core.yaml",
        "Stream's 16-bit accumulator": stream_accumulator_copy(tmp),
    }
    for label, hardware in cores.items():
        for transfers in ("exact", "stream"):
            outcome, wall = timed_run(workload, hardware, settings={"tetra.transfers": transfers})
            stats = dict(outcome.result.groups[0].stats)
            check = check_schedule(outcome.result, outcome.problem) or "ok"
            print(
                f"ours ({label}, transfers={transfers}): {outcome.result.totals.latency} cycles, "
                f"slots {stats['slot_latencies']}, vars {stats['milp_variables']}, cons {stats['milp_constraints']}, "
                f"solve {stats['solve_seconds']:.3f} s, wall {wall:.1f} s, check {check}"
            )
    print()


def matrix(tmp: Path, quick: bool) -> None:
    print("== matrix (default settings: separation pipelining, exact transfers; gurobi only within its licence) ==")
    columns = ("latency", 13), ("energy pJ", 15), ("groups", 7), ("vars", 7), ("cons", 7), ("solve s", 9), ("wall s", 8)
    print(f"{'hardware':<20}{'workload':<17}{'solver':<8}" + "".join(f"{c:>{w}}" for c, w in columns) + "  status")
    for hw in HARDWARE:
        hardware = EXAMPLES / "hardware" / f"{hw}.yaml"
        for name, workload in workloads(tmp, quick).items():
            cache = Path(tempfile.mkdtemp(dir=tmp))
            rows = []
            try:
                cold, cold_wall = timed_run(workload, hardware, cache_dir=cache, solver="gscip")
                warm, warm_wall = timed_run(workload, hardware, cache_dir=cache, solver="gscip")
            except StreamError as error:
                print(f"{hw:<20}{name:<17}failed: {error}".splitlines()[0])
                continue
            rows.append(("gscip", warm, warm_wall))
            for solver in ("highs", "gurobi"):
                try:
                    outcome, wall = timed_run(workload, hardware, cache_dir=cache, solver=solver)
                    rows.append((solver, outcome, wall))
                except StreamError as error:
                    print(f"{hw:<20}{name:<17}{solver:<8} n/a: {str(error).splitlines()[0][:90]}")
            for solver, outcome, wall in rows:
                s = group_sums(outcome.result)
                ok = "" if not check_schedule(outcome.result, outcome.problem) else " CHECK FAILED"
                print(
                    f"{hw:<20}{name:<17}{solver:<8}{outcome.result.totals.latency:>13}{outcome.result.totals.energy_pj:>15.4g}"
                    f"{s['groups']:>7}{s['vars']:>7}{s['cons']:>7}{s['solve_s']:>9.2f}{wall:>8.1f}  {s['status']}{ok}"
                )
            greedy, _ = timed_run(workload, hardware, cache_dir=cache, allocator="greedy")
            ours = warm.result.totals.latency
            print(
                f"{'':<20}{name:<17}greedy list scheduler, same mapping and costs: {greedy.result.totals.latency} "
                f"(tetra/greedy {ours / greedy.result.totals.latency:.3f}); tetra's schedules: {schedules(warm.result)}"
            )
            cold_cost, warm_cost = cold.result.stats, warm.result.stats
            print(
                f"{'':<20}{name:<17}end-to-end gscip: cold {cold_wall:.1f} s "
                f"(cost stage {cold_cost['stage_seconds']['cost']:.1f} s, "
                f"{cold_cost['cost'].get('computed', 0)} computed), "
                f"warm {warm_wall:.1f} s (cost stage {warm_cost['stage_seconds']['cost']:.1f} s, "
                f"{warm_cost['cost'].get('cache_hits', 0)} cache hits)"
            )
    print()


def models() -> None:
    """The pipelining models and the greedy baseline on the same (fused) mappings, gscip."""
    print(
        "== pipelining models (gscip; latency = realised schedule, uniform = the uniform-interval schedule "
        "of the final modes, milp = the MILP's latency level) =="
    )
    variants = [
        ("separation", {}),
        ("separation, interleave 0 (SPAN)", {"tetra.interleave": 0}),
        ("occupancy (Stream)", {"tetra.pipelining": "occupancy"}),
        ("stream transfers", {"tetra.transfers": "stream"}),
    ]
    for hw in HARDWARE:
        hardware = EXAMPLES / "hardware" / f"{hw}.yaml"
        for name in ("resnet_block", "transformer_mlp"):
            workload = EXAMPLES / "workloads" / f"{name}.onnx"
            greedy, _ = timed_run(workload, hardware, allocator="greedy")
            cells = [f"greedy {greedy.result.totals.latency}"]
            for label, settings in variants:
                try:
                    outcome, wall = timed_run(workload, hardware, settings=settings)
                except StreamError as error:  # e.g. whole-block transfers that cannot fit
                    cells.append(f"{label}: {str(error).splitlines()[0][:70]}")
                    continue
                milp = sum(dict(g.stats).get("milp_latency", 0) for g in outcome.result.groups)
                uniform = sum(dict(g.stats)["uniform_latency"] for g in outcome.result.groups)
                cells.append(
                    f"{label}: {outcome.result.totals.latency} (uniform {uniform}, milp {milp:.0f}, {wall:.1f} s)"
                )
            print(f"{hw:<20}{name:<17}" + "; ".join(cells))
    print()


def determinism() -> None:
    workload, hardware = EXAMPLES / "workloads" / "resnet_block.onnx", EXAMPLES / "hardware" / "tpu_like_quad_core.yaml"

    def stable(outcome) -> dict:
        data = summary_dict(outcome.result, outcome.problem.accelerator)
        data.pop("stats")
        for group in data["groups"]:
            group.pop("build_seconds")
            group.pop("solve_seconds")
        return data

    first, _ = timed_run(workload, hardware)
    second, _ = timed_run(workload, hardware)
    same = stable(first) == stable(second) and first.result.tiles == second.result.tiles
    print(f"== determinism: resnet_block on tpu_like_quad_core twice: {'identical' if same else 'DIFFERENT'} ==\n")


def profile(tmp: Path) -> None:
    workload = build_resnet18(tmp / "resnet18_profile.onnx")
    hardware = EXAMPLES / "hardware" / "tpu_like_quad_core.yaml"
    timed_run(workload, hardware)  # warm the cost cache
    profiler = cProfile.Profile()
    profiler.enable()
    outcome, _ = timed_run(workload, hardware)
    profiler.disable()
    print(f"== profile: resnet18 on tpu_like_quad_core, warm: stages {outcome.result.stats['stage_seconds']} ==")
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(
        r"stream_tetra|stream_solvers|stream_core", 18
    )
    print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:4000])


def main() -> None:
    global TIME_LIMIT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="leave out ResNet-18")
    parser.add_argument("--profile", action="store_true", help="profile one warm ResNet-18 run")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT, help="solver time limit per level (s)")
    args = parser.parse_args()
    TIME_LIMIT = args.time_limit
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        quick_start(tmp)
        matrix(tmp, args.quick)
        models()
        determinism()
        if args.profile:
            profile(tmp)


if __name__ == "__main__":
    main()
