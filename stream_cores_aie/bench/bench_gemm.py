"""Figures of the GEMM 256x8192x2048 (M x K x N, bf16) on the bundled AIE hardware.

    python stream_cores_aie/bench/bench_gemm.py [--tile 64] [--allocator tetra]

Per hardware: the example mapping (M split over columns, N over a column's tiles, ``tile``-sized
M, K, N tiles, kernel utilization 80 %), the number of tiles, the aie cost of one tile, the compute
cycles of one core (its share of the tiles' latencies), the same with Stream's constant (32 bf16
MAC/cycle x 61.8 %, no call overhead), the end-to-end latency of the allocator and the wall time of
each stage. Runs
in-process without an output directory (the core's Gantt exporter is slow on ~10^4 tiles).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import yaml

from stream_core.context import RunOptions
from stream_core.pipeline import run
from stream_cores_aie import HARDWARE, hardware_file, workloads

M, K, N = workloads.GEMM_BIG


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tile", type=int, default=64)
    parser.add_argument("--allocator", default="tetra")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = workloads.gemm(Path(tmp) / "gemm.onnx", M, K, N)
        print(f"GEMM {M}x{K}x{N} bf16, {args.tile}^3 tiles, allocator {args.allocator}")
        header = ("hardware", "tiles", "tile cyc", "core compute", "Stream const", "latency", "wall s", "stages s")
        print("{:<18} {:>6} {:>9} {:>13} {:>13} {:>12} {:>7}  {}".format(*header))
        for name in HARDWARE:
            mapping = Path(tmp) / f"{name}.yaml"
            mapping.write_text(yaml.safe_dump(workloads.gemm_mapping(name, args.tile)))
            started = time.perf_counter()
            outcome = run(
                model, hardware_file(name), mapping, options=RunOptions(allocator=args.allocator, use_cache=False)
            )
            wall = time.perf_counter() - started
            result, problem = outcome.result, outcome.problem
            tiling = problem.tilings["gemm"]
            core = tiling.mapping.cores[0]
            shapes = tiling.shapes()
            n_tiles = sum(shapes.values())
            tile_cycles = {problem.costs.get("gemm", core, shape).latency for shape in shapes}
            # every core runs the same tiles (equal parts): its share of the tiles' latencies
            cycles = sum(n * problem.costs.get("gemm", core, s).latency for s, n in shapes.items()) // tiling.parts
            macs = {s: math.prod(s) for s in shapes}
            stream_cycles = sum(n * math.ceil(macs[s] / (32 * 0.618)) for s, n in shapes.items()) // tiling.parts
            stages = " ".join(f"{k} {v:.2f}" for k, v in result.stats["stage_seconds"].items())
            print(
                f"{name:<18} {n_tiles:>6} {'/'.join(map(str, sorted(tile_cycles))):>9} {cycles:>13,} "
                f"{stream_cycles:>13,} {result.totals.latency:>12,} {wall:>7.2f}  {stages}"
            )


if __name__ == "__main__":
    main()
