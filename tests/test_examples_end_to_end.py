"""Every bundled workload on every bundled accelerator with the baseline (roofline + greedy), checked
by the independent schedule checker."""

from __future__ import annotations

import pytest

from stream_core import RunOptions, run
from stream_core.examples import hardware, workload
from stream_core.testing import check_schedule

BASELINE = RunOptions(cost_model="roofline", allocator="greedy", mapper="whole-layer", use_cache=False)


@pytest.mark.parametrize("hw", ["tpu_like_quad_core", "hetero_array_simd"])
@pytest.mark.parametrize("wl", ["two_conv", "resnet_block", "transformer_mlp"])
def test_baseline_schedules_are_valid(hw, wl):
    outcome = run(workload(wl), hardware(hw), options=BASELINE)
    assert check_schedule(outcome.result, outcome.problem) == []
    # every tile of every node ran, and the latency covers the MAC work at the fastest core's peak rate
    assert {t.node for t in outcome.result.tiles} == {n.name for n in outcome.problem.workload.nodes}
    acc = outcome.problem.accelerator
    peak = sum(c.summary.peak_macs_per_cycle for c in acc.compute_cores)
    assert outcome.result.totals.latency >= outcome.problem.workload.macs / peak


def test_runs_are_deterministic():
    first = run(workload("resnet_block"), hardware("hetero_array_simd"), options=BASELINE).result
    second = run(workload("resnet_block"), hardware("hetero_array_simd"), options=BASELINE).result
    assert first.tiles == second.tiles and first.transfers == second.transfers and first.totals == second.totals
