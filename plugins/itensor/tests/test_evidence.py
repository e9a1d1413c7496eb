"""Evidence: LP depths never deadlock, reach the unbounded-FIFO throughput, and are tight on
reconvergent paths (one slot less on any such FIFO deadlocks or stalls), checked by the simulator."""

from __future__ import annotations

from typing import Any

import pytest
from stream_itensor.api import DataflowGraph, kernel_target, plan_streams, reconvergent_channels, simulate, size_fifos
from stream_itensor.examples import gpt2_block, resnet_basic_block

from stream_core.context import RunContext

FRAMES = 3


@pytest.mark.parametrize("case", ["diamond", "residual", "attention"])
def test_lp_depths_reach_unbounded_throughput_and_are_tight(
    reconvergent: dict[str, DataflowGraph], lp_solver: Any, case: str
) -> None:
    dfg = reconvergent[case]
    sizing = size_fifos(dfg, lp_solver)
    buffers = {c.channel: c.buffers for c in sizing.converters}
    free = simulate(dfg, buffers, FRAMES)
    sized = simulate(dfg, sizing.depths(), FRAMES)
    assert not free.deadlock and not sized.deadlock
    assert sized.frame_finish == free.frame_finish  # same latency per frame and same throughput
    assert sized.interval == free.interval == sizing.period
    checked = []
    for fifo in sizing.fifos:
        if fifo.channel not in reconvergent_channels(dfg) or fifo.depth == 1:
            continue
        smaller = simulate(dfg, {**sizing.depths(), fifo.channel: fifo.depth - 1}, FRAMES)
        assert smaller.deadlock or smaller.time > sized.time, f"{fifo.channel} works with {fifo.depth - 1} slots"
        checked.append((fifo.channel, "deadlock" if smaller.deadlock else f"+{smaller.time - sized.time} cycles"))
    assert checked  # every case has reconvergent FIFOs the LP deepened
    if case == "residual":
        # the window lookahead makes one slot on a convolution's input a deadlock, not just a stall
        assert ("relu0->conv1:y0", "deadlock") in checked and ("relu1->conv2:r1", "deadlock") in checked


def test_depth_sums_match_the_unequal_diamond_branches(reconvergent: dict[str, DataflowGraph], lp_solver: Any) -> None:
    sizing = size_fifos(reconvergent["diamond"], lp_solver)
    depths = sizing.depths()
    # d runs every 4 cycles (period 128 for 32 rows); b's 40-cycle latency must be covered on both inputs of d
    assert sizing.period == 128
    assert depths["b->d:yb"] == depths["c->d:yc"] == 10  # ceil(41 / 4) tokens in flight at d's rate
    assert depths["a->b:ya"] == depths["a->c:ya"] == 1


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("gpt2", lambda: gpt2_block(seq=32, hidden=128, heads=2, rows=8)),
        ("resnet", lambda: resnet_basic_block(16, 16, 16)),
    ],
)
def test_roofline_plans_never_deadlock(plugins: Any, lp_solver: Any, name: str, build: Any) -> None:
    workload, tilings = build()
    target = kernel_target("test", None, 64, 16, 256)
    plan = plan_streams(workload, RunContext(plugins=plugins), target=target, tilings=tilings, solver=lp_solver)
    for dfg, sizing in zip(plan.dataflows, plan.sizings, strict=True):
        free = simulate(dfg, {c.channel: c.buffers for c in sizing.converters}, 2)
        sized = simulate(dfg, sizing.depths(), 2)
        assert not sized.deadlock and sized.frame_finish == free.frame_finish
