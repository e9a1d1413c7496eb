"""Kernel fusion under an on-chip memory budget (hand-computed local and converter buffers)."""

from __future__ import annotations

import pytest
from itensor_workloads import matmul_relu
from stream_itensor.api import KernelTiling, StreamGraph, budget_bits, build_stream_graph, fuse
from stream_itensor.examples import diamond
from stream_itensor.target import KernelCoreDescription

from stream_core.ir import Accelerator, Core, CoreSummary


def graph() -> StreamGraph:
    tilings = {"mm": KernelTiling({"m": 2}), "relu": KernelTiling({"i": 2}), "tr": KernelTiling({"a": 1})}
    return build_stream_graph(matmul_relu(), tilings)


def test_local_buffers_by_hand() -> None:
    g = graph()
    # mm: x 2x4 + w 4x8 + y 2x8; relu: 2x8 in and out; tr: an 8x1 column in, a 1x8 row out (float32)
    assert [k.local_bits // 8 for k in g.kernels] == [224, 128, 64]
    assert next(e for e in g.edges if e.consumer == "tr").converter.buffer_bits // 8 == 512


def test_everything_fits_one_group() -> None:
    plan = fuse(graph(), 1000)
    (group,) = plan.groups
    assert group.kernels == ("mm", "relu", "tr")
    assert (group.local_bits // 8, group.converter_bits // 8, group.memory_bits // 8) == (416, 512, 928)
    assert plan.inter_edges == () and len(plan.intra_edges("group0")) == 2


def test_converter_cost_splits_the_group() -> None:
    plan = fuse(graph(), 900)  # 352 + 64 (tr) + 512 (its converter) > 900
    assert [g.kernels for g in plan.groups] == [("mm", "relu"), ("tr",)]
    # the mm -> tr edge now goes through external memory: no converter is charged
    assert [g.converter_bits for g in plan.groups] == [0, 0]
    assert [e.name for e in plan.inter_edges] == ["mm->tr:y"]
    assert plan.group_of("tr").name == "group1"


def test_diamond_groups_follow_topological_order() -> None:
    wl, tilings = diamond(rows=64, cols=16)
    g = build_stream_graph(wl, tilings)
    assert [k.local_bits // 8 for k in g.kernels] == [128, 128, 128, 192]
    plan = fuse(g, 300)
    assert [grp.kernels for grp in plan.groups] == [("a", "b"), ("c",), ("d",)]
    assert [e.name for e in plan.inter_edges] == ["a->c:ya", "b->d:yb", "c->d:yc"]
    assert not any(grp.over_budget for grp in plan.groups)


def test_unlimited_budget_and_over_budget_kernel() -> None:
    assert len(fuse(graph()).groups) == 1
    plan = fuse(graph(), 100)
    assert [(grp.kernels, grp.over_budget) for grp in plan.groups] == [
        (("mm",), True),
        (("relu",), True),
        (("tr",), False),
    ]


def test_budget_from_an_accelerator() -> None:
    def core(i: int, kind: str, bits: int) -> Core:
        return Core(i, f"itensor.{kind}", KernelCoreDescription(f"c{i}", CoreSummary(bits, 64, 64, 8, 8)))

    acc = Accelerator(
        "acc", {0: core(0, "compute", 3000), 1: core(1, "memory", 4000), 2: core(2, "offchip", 10**9)}, [], 2
    )
    assert budget_bits(acc) == 7000  # 875 bytes < 928: tr and its converter do not fit
    assert budget_bits(1000) == 8000 and budget_bits(None) is None
    assert [g.kernels for g in fuse(graph(), acc).groups] == [("mm", "relu"), ("tr",)]
    with pytest.raises(ValueError, match="non-negative number of bytes"):
        budget_bits(-1)
