"""plan_streams end to end: targets, cost-model profiles, the JSON form a backend reads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stream_itensor.api import KernelProfile, Target, kernel_target, plan_streams
from stream_itensor.examples import attention_block, diamond
from stream_itensor.target import KernelCoreDescription

from stream_core.context import RunContext
from stream_core.errors import InfeasibleError, InputError
from stream_core.ir import Accelerator, Core, CoreSummary


def accelerator() -> Accelerator:
    def core(i: int, kind: str, summary: CoreSummary) -> Core:
        return Core(i, f"itensor.{kind}", KernelCoreDescription(f"c{i}", summary))

    mac = CoreSummary(1 << 24, 256, 256, peak_macs_per_cycle=32, operator_types=("MatMul",))
    simd = CoreSummary(1 << 22, 256, 256, peak_ops_per_cycle=8)
    dram = CoreSummary(1 << 40, 64, 64)
    return Accelerator(
        "acc", {0: core(0, "compute", mac), 1: core(1, "compute", simd), 2: core(2, "offchip", dram)}, [], 2
    )


def test_target_from_an_accelerator() -> None:
    target = Target.from_accelerator(accelerator())
    assert target.memory_bytes == ((1 << 24) + (1 << 22)) // 8
    assert target.core_for("MatMul").id == 0 and target.core_for("Softmax").id == 1
    with pytest.raises(InputError, match="no compute core"):
        Target.from_accelerator(Accelerator("empty", {}, []))


def test_attention_plan_with_roofline_profiles(plugins: Any, lp_solver: Any) -> None:
    workload, tilings = attention_block(seq=32, hidden=64, heads=2, rows=8)
    plan = plan_streams(
        workload,
        RunContext(plugins=plugins),
        target=Target.from_accelerator(accelerator()),
        tilings=tilings,
        solver=lp_solver,
    )
    # q_proj tile 8x32 with k=64: 16384 MACs / 32 per cycle; reads (8x64 + 64x32) x 32 bits / 256 per cycle
    assert plan.profiles["q_proj"] == KernelProfile(512, 512)
    data = json.loads(json.dumps(plan.to_dict()))
    converters = {e["name"]: e["converter"] for e in data["edges"] if e["converter"]}
    assert converters["k_proj->scores:k"]["buffer_shape"] == [32, 64]
    assert converters["k_proj->scores:k"]["buffers"] == 2
    assert converters["k_proj->scores:k"]["buffer_bits"] == 2 * 32 * 64 * 32
    assert (
        converters["ln1->q_proj:a"]["buffer_shape"] == [8, 64] and converters["ln1->q_proj:a"]["element_type"] == "f32"
    )
    assert data["totals"]["fifo_bits"] == plan.total_fifo_bits == sum(f.bits for f in plan.fifos)
    assert data["totals"]["converter_bits"] == sum(c["buffer_bits"] for c in converters.values())
    group = data["groups"][0]
    assert group["memory_bits"] == group["local_bits"] + group["converter_bits"] + group["fifo_bits"]


def test_over_budget_kernels(plugins: Any, lp_solver: Any) -> None:
    workload, tilings = diamond(rows=8, cols=4)
    tiny = kernel_target("tiny", 16, 8, 8, 64)
    context = RunContext(plugins=plugins)
    profiles = {n: KernelProfile(1, 1) for n in "abcd"}
    plan = plan_streams(workload, context, target=tiny, tilings=tilings, profiles=profiles, solver=lp_solver)
    assert [g.over_budget for g in plan.fusion.groups] == [True] * 4
    assert len(context.warnings) == 4 and "alone needs 32 bytes" in context.warnings[0]
    assert plan.fifos == ()  # every edge goes through external memory
    # the roofline cost model refuses tiles larger than the kernel's memory
    with pytest.raises(InfeasibleError) as info:
        plan_streams(workload, RunContext(plugins=plugins), target=tiny, tilings=tilings, solver=lp_solver)
    assert len(info.value.report) == 4 and "needs 256 bits" in info.value.report[0]


def test_given_profiles_must_cover_every_kernel(plugins: Any, lp_solver: Any) -> None:
    workload, tilings = diamond(rows=8, cols=4)
    with pytest.raises(InputError) as info:
        plan_streams(
            workload,
            RunContext(plugins=plugins),
            tilings=tilings,
            profiles={"a": KernelProfile(1, 1), "x": KernelProfile(1, 1)},
            solver=lp_solver,
        )
    assert sorted(p.field for p in info.value.problems) == ["profiles.b", "profiles.c", "profiles.d", "profiles.x"]
