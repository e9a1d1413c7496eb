"""Benchmark of the zigzag cost model through stream-core's costing stage.

For every bundled example workload (``stream_core/examples/workloads/*.onnx``: two-conv, ResNet block,
transformer MLP) on the quad-core TPU-like and the heterogeneous example accelerators, prints the
cost requests, unique requests, cache hits, the cold (empty cache) and warm (same cache) wall times
and the mean time of one ZigZag call. Nodes whose whole layer does not fit a candidate core's top
memory are tiled by halving the loop that shrinks the footprint most (a bench-side stand-in for a
tiling mapper), so every request is costable.

Run from the repository root::

    python plugins/zigzag/bench/bench_costing.py [--lpf 6] [--jobs N] [--workloads two_conv ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import stream_core
from stream_core.builtin.mapper import WholeLayerMapper
from stream_core.context import RunContext, RunOptions
from stream_core.hardware import load_accelerator
from stream_core.ir import Accelerator, FusedGroup, Mapping, Node, Workload
from stream_core.pipeline import build_tilings, compute_costs, parse_workload
from stream_core.plugins import load_plugins

EXAMPLES = Path(stream_core.__file__).parent / "examples"
HARDWARE = ("tpu_like_quad_core", "hetero_array_simd")


def halving_tiles(node: Node, budget: int) -> dict[str, int]:
    """Tile sizes making the node's operand footprint fit ``budget`` bits (greedy halving)."""
    sizes = node.sizes
    while True:
        tile = node.with_sizes(sizes)
        if sum(tile.footprint_bits(op) for op in tile.operands) <= budget:
            return {d: s for d, s in sizes.items() if s != node.sizes[d]}
        options = []
        for loop, size in sizes.items():
            if size > 1:
                smaller = tile.with_sizes({loop: -(-size // 2)})
                options.append((sum(smaller.footprint_bits(op) for op in smaller.operands), loop))
        if not options:
            return {d: s for d, s in sizes.items() if s != node.sizes[d]}
        _, loop = min(options)
        sizes = {**sizes, loop: -(-sizes[loop] // 2)}


def tiled_mapping(workload: Workload, accelerator: Accelerator, context: RunContext) -> Mapping:
    base = WholeLayerMapper().map(workload, accelerator, context)
    tiles = []
    for node in workload.nodes:
        budget = min(accelerator.cores[c].summary.memory_bits for c in base[node.name].cores)
        tiles += [(node.name, loop, size) for loop, size in halving_tiles(node, budget).items()]
    return Mapping(base.nodes, (FusedGroup("group_0", base.groups[0].nodes, tiles),), source="bench")


def run_case(workload_path: Path, hardware: str, lpf: int, jobs: int | None) -> dict[str, object]:
    plugins = load_plugins()
    with tempfile.TemporaryDirectory() as cache:
        options = RunOptions(jobs=jobs, cache_dir=Path(cache), settings={"zigzag.lpf_limit": lpf})
        context = RunContext(plugins=plugins, options=options)
        accelerator = load_accelerator(EXAMPLES / "hardware" / f"{hardware}.yaml", plugins)
        workload, _ = parse_workload(workload_path, context)
        tilings = build_tilings(workload, tiled_mapping(workload, accelerator, context))
        started = time.perf_counter()
        cold = compute_costs(tilings, accelerator, context)
        cold_seconds = time.perf_counter() - started
        started = time.perf_counter()
        warm = compute_costs(tilings, accelerator, context)
        warm_seconds = time.perf_counter() - started
    unique = {id(r): r for _, r in cold.items()}.values()  # equal requests share one result object
    zigzag = [r.detail("zigzag_seconds") for r in unique if r.model == "zigzag" and r.feasible]
    return {
        "case": f"{workload_path.stem} @ {hardware}",
        "requests": cold.stats["requests"],
        "unique": cold.stats["unique"],
        "zigzag": len(zigzag),
        "roofline": sum(1 for r in unique if r.model == "roofline"),
        "infeasible": sum(1 for r in unique if not r.feasible),
        "cold_hits": cold.stats["cache_hits"],
        "warm_hits": warm.stats["cache_hits"],
        "cold_s": cold_seconds,
        "warm_s": warm_seconds,
        "call_mean_s": statistics.fmean(zigzag) if zigzag else 0.0,
        "call_max_s": max(zigzag, default=0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lpf", type=int, default=6, help="zigzag.lpf_limit (default 6, Stream's)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--workloads", nargs="*", default=None, help="workload stems (default: all bundled)")
    args = parser.parse_args()
    paths = sorted((EXAMPLES / "workloads").glob("*.onnx"))
    if args.workloads:
        paths = [p for p in paths if p.stem in args.workloads]
    header = (
        f"{'case':42} {'requests':>8} {'unique':>6} {'zigzag':>6} {'roofl.':>6} {'infeas.':>7} {'hits c/w':>9} "
        f"{'cold s':>7} {'warm s':>7} {'call mean s':>11} {'call max s':>10}"
    )
    print(f"zigzag cost model, lpf_limit={args.lpf}, jobs={args.jobs or 'all cores'}")
    print(header)
    for path in paths:
        for hardware in HARDWARE:
            row = run_case(path, hardware, args.lpf, args.jobs)
            print(
                f"{row['case']:42} {row['requests']:>8} {row['unique']:>6} {row['zigzag']:>6} "
                f"{row['roofline']:>6} {row['infeasible']:>7} "
                f"{row['cold_hits']:>4}/{row['warm_hits']:<4} {row['cold_s']:>7.2f} {row['warm_s']:>7.3f} "
                f"{row['call_mean_s']:>11.3f} {row['call_max_s']:>10.3f}"
            )


if __name__ == "__main__":
    main()
