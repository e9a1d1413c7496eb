"""FIFO sizing figures: LP depths versus full-tensor buffering and versus the smallest depths a
simulator search finds, with LP solve times, on a GPT-2 decoder block and a ResNet basic block, plus
the reconvergent evidence graphs (diamond with unequal branches, residual block, attention block).

Run from the repository root::

    python plugins/itensor/bench/bench_fifo.py [--solver highs] [--frames 3] [--budget-mb 41.5]

Per fusion group it prints the LP size and solve time; FIFO bits of the LP depths, of full-tensor FIFOs
(every FIFO holds its whole tensor) and of the smallest depths found by simulator search (no deadlock,
unbounded-FIFO makespan); whether the LP depths deadlock or lose time in the simulator; and which
reconvergent FIFOs still run at full speed with one slot less than the LP gives them.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

from stream_itensor.api import (
    DataflowGraph,
    GroupSizing,
    KernelTiling,
    kernel_target,
    plan_streams,
    reconvergent_channels,
    search_min_depths,
    simulate,
    size_fifos,
)
from stream_itensor.examples import gpt2_block, reconvergent_cases, resnet_basic_block

from stream_core.context import RunContext, RunOptions
from stream_core.ir import Workload
from stream_core.plugins import Plugins

WORKLOADS: dict[str, Callable[[], tuple[Workload, dict[str, KernelTiling]]]] = {
    "gpt2 block, seq 128": lambda: gpt2_block(seq=128, hidden=768, heads=12, rows=16),
    "gpt2 block, seq 256": lambda: gpt2_block(seq=256, hidden=768, heads=12, rows=16),
    "resnet basic block 64x56x56": lambda: resnet_basic_block(channels=64, height=56, width=56, rows=1),
}
#: A second budget for one workload, to show fusion splitting the block into groups.
SMALL_BUDGET_MB = 4.0


def kib(bits: int) -> str:
    return f"{bits / 8 / 1024:10.1f} KiB"


def tightness(dfg: DataflowGraph, sizing: GroupSizing, frames: int, makespan: int) -> tuple[int, list[str]]:
    """Reconvergent FIFOs deeper than 1 checked with one slot less: (count, those that still work)."""
    loose, checked = [], 0
    reconvergent = reconvergent_channels(dfg)
    for fifo in sizing.fifos:
        if fifo.channel in reconvergent and fifo.depth > 1:
            checked += 1
            result = simulate(dfg, {**sizing.depths(), fifo.channel: fifo.depth - 1}, frames)
            if not result.deadlock and result.time <= makespan:
                loose.append(f"{fifo.channel} ({fifo.depth})")
    return checked, loose


def bench_group(dfg: DataflowGraph, sizing: GroupSizing, frames: int) -> dict[str, Any]:
    buffers = {c.channel: c.buffers for c in sizing.converters}
    started = time.perf_counter()
    free = simulate(dfg, buffers, frames)
    sim_seconds = time.perf_counter() - started
    sized = simulate(dfg, sizing.depths(), frames)
    full = sum(math.prod(c.itype.data_shape) * c.itype.element_bits for c in dfg.channels if c.itype is not None)
    started = time.perf_counter()
    search = search_min_depths(dfg, buffers, frames)
    search_seconds = time.perf_counter() - started
    checked, loose = tightness(dfg, sizing, frames, sized.time)
    return {
        "lp_bits": sizing.total_bits,
        "full_bits": full,
        "search_bits": search.total_bits(dfg),
        "search_runs": search.simulations,
        "search_seconds": search_seconds,
        "sim_seconds": sim_seconds,
        "deadlock": sized.deadlock,
        "makespan": sized.time,
        "free_makespan": free.time,
        "interval": sized.interval,
        "free_interval": free.interval,
        "checked": checked,
        "loose": loose,
        "firings": sum(a.firings for a in dfg.actors) * frames,
    }


def report(dfg: DataflowGraph, sizing: GroupSizing, frames: int) -> None:
    if not sizing.fifos:
        return
    r = bench_group(dfg, sizing, frames)
    print(
        f"    LP ({sizing.solver}): {sizing.variables} vars, {sizing.constraints} rows, {sizing.seconds * 1000:.1f} ms"
    )
    print(
        f"    FIFO bits  LP {kib(r['lp_bits'])} | full-tensor {kib(r['full_bits'])} | searched {kib(r['search_bits'])}"
    )
    ratio = f"full/LP {r['full_bits'] / r['lp_bits']:.1f}x, LP/searched {r['lp_bits'] / r['search_bits']:.2f}x"
    print(f"    ratios     {ratio} (search: {r['search_runs']} simulations, {r['search_seconds']:.1f} s)")
    verdict = "DEADLOCK" if r["deadlock"] else f"{r['makespan']} cycles (unbounded FIFOs: {r['free_makespan']})"
    interval = f"frame interval {r['interval']} (unbounded {r['free_interval']})"
    print(
        f"    simulator  LP depths: {verdict}; {interval}; {r['firings']} firings in {r['sim_seconds'] * 1000:.0f} ms"
    )
    loose = ", ".join(r["loose"]) or "none"
    print(f"    one slot less on {r['checked']} reconvergent FIFOs: still full speed for {loose}")


def main() -> None:
    parser = argparse.ArgumentParser(description="FIFO sizing benchmark (see the module docstring)")
    parser.add_argument("--solver", default=None, help="LP solver (default: the highest-priority one)")
    parser.add_argument("--frames", type=int, default=3, help="frames simulated back to back (default 3)")
    parser.add_argument("--budget-mb", type=float, default=41.5, help="on-chip budget in MB (default: U55C BRAM+URAM)")
    args = parser.parse_args()
    context = RunContext(plugins=Plugins.discover(), options=RunOptions(solver=args.solver))
    solver = context.solver("lp")
    print(f"frames simulated: {args.frames}")
    print("\n== reconvergent evidence graphs (hand-given kernel profiles)")
    for name, dfg in reconvergent_cases().items():
        print(f"  {name}: {len(dfg.actors)} actors, {len(dfg.channels)} channels")
        report(dfg, size_fifos(dfg, solver), args.frames)
    budgets = [(name, args.budget_mb) for name in WORKLOADS] + [("gpt2 block, seq 128", SMALL_BUDGET_MB)]
    for name, budget in budgets:
        # one dataflow kernel: 256 MACs/cycle, 64 element ops/cycle, 512-bit ports (a U55C-sized kernel)
        target = kernel_target("u55c-like", int(budget * 1e6), 256, 64, 512)
        workload, tilings = WORKLOADS[name]()
        started = time.perf_counter()
        plan = plan_streams(workload, context, target=target, tilings=tilings, solver=solver)
        seconds = time.perf_counter() - started
        groups = len(plan.fusion.groups)
        print(f"\n== {name}, budget {budget} MB: {len(workload.nodes)} kernels, {groups} group(s), {seconds:.2f} s")
        for group, dfg, sizing in zip(plan.fusion.groups, plan.dataflows, plan.sizings, strict=True):
            memory = f"local {kib(group.local_bits)}, converters {kib(group.converter_bits)}"
            print(f"  {group.name}: {', '.join(group.kernels)}\n    {memory}, {len(sizing.fifos)} FIFOs")
            report(dfg, sizing, args.frames)


if __name__ == "__main__":
    main()
