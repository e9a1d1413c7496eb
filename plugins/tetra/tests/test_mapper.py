"""The ``fused`` mapper: cut points, core splits, tiling that fits, several groups end to end."""

from __future__ import annotations

import pytest
from stream_tetra.mapper import FusedMapper, MapperSettings, fusion_groups, inter_core_split
from tetra_helpers import core
from tetra_workloads import conv, elementwise, two_conv

from stream_core import RunOptions, run
from stream_core.context import RunContext
from stream_core.hardware import load_accelerator
from stream_core.ir import LoopDim, Node, NodeKind, Operand, TensorSpec, Workload
from stream_core.testing import check_schedule


def cut_workload(add_fans_out: bool = False) -> Workload:
    """a(Relu) -> mp(MaxPool) -> b(Relu) -> add(b, mp) -> r(Relu) -> d(Relu) -> rs(Reshape) -> c(Relu);
    with ``add_fans_out`` the Add also feeds ``side`` (listed right after it)."""
    n = 16
    names = ["x", "a_out", "mp_out", "b_out", "add_out", "r_out", "d_out", "rs_out", "y", "z"]
    tensors = {t: TensorSpec(t, (n,), "int8") for t in names}
    nodes = [
        elementwise("a", "Relu", "x", "a_out", n),
        elementwise("mp", "MaxPool", "a_out", "mp_out", n),
        elementwise("b", "Relu", "mp_out", "b_out", n),
        Node(
            "add",
            "Add",
            [LoopDim("D0", n)],
            [
                Operand("input", "b_out", 8, (elementwise("_", "R", "b_out", "y", n).operands[0].access)),
                Operand("input", "mp_out", 8, elementwise("_", "R", "mp_out", "y", n).operands[0].access),
                Operand("output", "add_out", 8, elementwise("_", "R", "x", "add_out", n).operands[1].access),
            ],
        ),
        *([elementwise("side", "Relu", "add_out", "z", n)] if add_fans_out else []),
        elementwise("r", "Relu", "add_out", "r_out", n),
        elementwise("d", "Relu", "r_out", "d_out", n),
        Node(
            "rs",
            "Reshape",
            [LoopDim("D0", n)],
            [Operand("input", "d_out", 8), Operand("output", "rs_out", 8)],
            kind=NodeKind.DATA_MOVEMENT,
        ),
        elementwise("c", "Relu", "rs_out", "y", n),
    ]
    outputs = ["y", "z"] if add_fans_out else ["y"]
    if not add_fans_out:
        del tensors["z"]
    return Workload("cuts", nodes, tensors, inputs=["x"], outputs=outputs)


def test_cut_points_follow_streams_rules():
    """MaxPool ends a group, the Relu after an Add ends one, the Reshape is a group of its own."""
    groups = fusion_groups(cut_workload(), MapperSettings())
    assert groups == [("a", "mp"), ("b", "add", "r"), ("d",), ("rs",), ("c",)]


def test_an_add_that_fans_out_is_no_cut():
    groups = fusion_groups(cut_workload(add_fans_out=True), MapperSettings())
    assert groups == [("a", "mp"), ("b", "add", "side", "r", "d"), ("rs",), ("c",)]


def test_per_layer_and_extra_cut_points():
    assert fusion_groups(cut_workload(), MapperSettings(per_layer=True)) == [
        (n,) for n in ["a", "mp", "b", "add", "r", "d", "rs", "c"]
    ]
    assert fusion_groups(cut_workload(), MapperSettings(cut_points=("b",))) == [
        ("a", "mp"),
        ("b",),
        ("add", "r"),
        ("d",),
        ("rs",),
        ("c",),
    ]


@pytest.fixture
def four_plus_one(plugins, hardware):
    """Cores 0-3 identical (4 ops/cycle), core 4 different (8 ops/cycle); DRAM = 5."""
    return load_accelerator(hardware([*(core(f"c{i}") for i in range(4)), core("big", rate=8)]), plugins)


@pytest.mark.parametrize(
    ("k", "size", "split"),
    [
        (12, 8, (("K", 4),)),  # K (12) is the largest output loop: gcd(4, 12) = 4
        (6, 8, (("OX", 4),)),  # OX (8) largest; OY is the streaming loop and stays whole
        (6, 6, (("OX", 2), ("K", 2))),  # tie OX/K (6): loop order first; gcd(4, 6) = 2, then gcd(2, 6) = 2
    ],
)
def test_split_factors_the_core_count_over_output_loops(four_plus_one, k, size, split):
    node = conv("conv", "x", "w", "y", 2, k, size)
    cores, got = inter_core_split(node, (0, 1, 2, 3, 4), four_plus_one, "homogeneous")
    assert (cores, got) == ((0, 1, 2, 3), split)


def test_no_split_when_nothing_divides_and_heterogeneous_cores_stay_candidates(plugins, hardware, four_plus_one):
    three = load_accelerator(hardware([core("p"), core("q"), core("r")], name="three"), plugins)
    node = conv("conv", "x", "w", "y", 2, 4, 8)  # output loops 4 (K) and 8 (OX): gcd with 3 is 1
    assert inter_core_split(node, (0, 1, 2), three, "homogeneous") == ((0, 1, 2), ())
    assert inter_core_split(node, (0, 4), four_plus_one, "homogeneous") == ((0, 4), ())
    assert inter_core_split(node, (0, 4), four_plus_one, "all") == ((0, 4), (("OX", 2),))  # OX (8) > K (4)


def test_tiles_make_the_group_fit_and_run(plugins, hardware):
    """two_conv (4x4, 2 channels, int8) on 2 cores of 1000 bits: whole layers need 2 x (32 + 36 + 32)
    x 8 bits per core, so rows are streamed; the allocator finds the tiling feasible."""
    acc = hardware([core("a", memory_bits=1000), core("b", memory_bits=1000)])
    outcome = run(two_conv(), acc, plugins=plugins)
    group = outcome.problem.mapping.groups[0]
    assert {(n, d) for n, d, _ in group.tiles} >= {("conv1", "OY"), ("conv2", "OY")}
    assert dict(outcome.result.groups[0].stats)["iterations"] > 1
    assert check_schedule(outcome.result, outcome.problem) == []


def test_several_groups_run_one_after_the_other(plugins, hardware):
    acc = hardware([core("a"), core("b")])
    outcome = run(cut_workload(), acc, plugins=plugins)
    result = outcome.result
    assert [g.name for g in result.groups] == ["group_0", "group_1", "group_2", "group_3", "group_4"]
    assert all(g1.end <= g2.start for g1, g2 in zip(result.groups, result.groups[1:], strict=False))
    assert check_schedule(result, outcome.problem) == []


def test_unknown_cut_point_is_an_input_error(plugins, hardware):
    from stream_core.errors import InputError

    acc = load_accelerator(hardware([core("a")]), plugins)
    context = RunContext(plugins=plugins, options=RunOptions(settings={"fused.cut_points": "nope"}))
    with pytest.raises(InputError, match="no such nodes: nope"):
        FusedMapper().map(cut_workload(), acc, context)
