"""Core pipeline benchmark: time per stage with the built-in roofline model and greedy scheduler.

Prints, for the bundled workloads on the bundled accelerators, and for a tiled matrix multiply
whose tile count grows, the wall time of each pipeline stage, the number of tiles and transfers,
and the scheduler's time per tile — the core's own overhead, without any expensive cost model.

    python bench/bench_core.py
"""

from __future__ import annotations

import time

from stream_core import RunOptions, run
from stream_core.examples import hardware, workload
from stream_core.ir import AffineExpr, FusedGroup, LoopDim, Mapping, Node, NodeMapping, Operand, TensorSpec, Workload


def tiled_matmul(n: int, tile: int) -> tuple[Workload, Mapping]:
    """Two chained n x n x n matmuls, rows tiled by ``tile`` and fused: (n / tile)^1 tiles per node x 4 cores."""
    a = AffineExpr.of
    t = {name: TensorSpec(name, (n, n), "int8") for name in ("x", "w1", "h", "w2", "y")}

    def mm(name: str, src: str, w: str, dst: str) -> Node:
        return Node(
            name,
            "MatMul",
            [LoopDim("D", n), LoopDim("K", n), LoopDim("C", n)],
            [
                Operand("input", src, 8, (a("D"), a("C"))),
                Operand("weight", w, 8, (a("C"), a("K"))),
                Operand("output", dst, 8, (a("D"), a("K"))),
            ],
            mac_op=True,
        )

    w = Workload(
        "mm2", [mm("mm1", "x", "w1", "h"), mm("mm2", "h", "w2", "y")], t, inputs=["x", "w1", "w2"], outputs=["y"]
    )
    cores = (0, 1, 2, 3)
    nodes = {name: NodeMapping(name, cores, (("K", 4),)) for name in ("mm1", "mm2")}
    group = FusedGroup("g", ("mm1", "mm2"), (("mm1", "D", tile), ("mm2", "D", tile)))
    return w, Mapping(nodes, (group,))


def report(label: str, outcome, wall: float) -> None:
    stages = outcome.result.stats["stage_seconds"]
    tiles, transfers = len(outcome.result.tiles), len(outcome.result.transfers)
    per_tile = 1e6 * stages.get("allocate", 0.0) / max(tiles, 1)
    print(
        f"{label:<38} {wall:7.3f} s  parse {stages['parse']:.3f}  map {stages['map']:.3f}  cost {stages['cost']:.3f}  "
        f"allocate {stages['allocate']:.3f}  | tiles {tiles:6d} transfers {transfers:6d}  {per_tile:6.1f} us/tile  "
        f"latency {outcome.result.totals.latency:,}"
    )


def main() -> None:
    options = RunOptions(cost_model="roofline", allocator="greedy", mapper="whole-layer", use_cache=False)
    print("bundled examples (roofline + greedy, whole-layer mapping)")
    for hw in ("tpu_like_quad_core", "hetero_array_simd"):
        for wl in ("two_conv", "resnet_block", "transformer_mlp"):
            started = time.perf_counter()
            try:
                outcome = run(workload(wl), hardware(hw), options=options)
            except Exception as exc:  # a bench prints what happened and goes on
                print(f"{wl + ' @ ' + hw:<38} {type(exc).__name__}: {str(exc).splitlines()[0]}")
                continue
            report(f"{wl} @ {hw}", outcome, time.perf_counter() - started)
    print("\ntiled chained matmuls n=512 on the quad core (split K over 4 cores, rows tiled)")
    for tile in (128, 32, 8, 2):
        w, m = tiled_matmul(512, tile)
        started = time.perf_counter()
        outcome = run(w, hardware("tpu_like_quad_core"), m, options=options)
        report(f"row tile {tile}", outcome, time.perf_counter() - started)


if __name__ == "__main__":
    main()
