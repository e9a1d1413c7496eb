"""The ``fused`` mapper: cut points, core splits, tiling that fits, several groups end to end."""

from __future__ import annotations

import attrs
import pytest
from stream_tetra.mapper import (
    FusedMapper,
    MapperSettings,
    fusion_groups,
    inter_core_split,
    intra_core_tiles,
    node_mapping,
)
from stream_tetra.mapping_yaml import write_mapping
from tetra_helpers import core
from tetra_workloads import conv, elementwise, matmul, two_conv

from stream_core import RunOptions, run
from stream_core.context import RunContext
from stream_core.hardware import load_accelerator
from stream_core.ir import AffineExpr, LoopDim, Node, NodeKind, Operand, TensorSpec, Workload
from stream_core.mapping_io import load_mapping
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


def test_tiles_cut_each_fused_axis_alike(plugins, hardware):
    """two_conv on 2 cores of 1000 bits: conv1's output channels K and conv2's input channels C are one
    fused axis (conv2 reads h[K] as its C), as are both row loops OY; so tiling conv1.K to 1 tiles
    conv2.C to 1 too (Stream 2.1.1's meaning), and both OY get the same tile."""
    acc = hardware([core("a", memory_bits=1000), core("b", memory_bits=1000)])
    outcome = run(two_conv(), acc, plugins=plugins)
    tiles = {(n, d): t for n, d, t in outcome.problem.mapping.groups[0].tiles}
    assert tiles[("conv1", "K")] == tiles[("conv2", "C")] == 1
    assert tiles[("conv1", "OY")] == tiles[("conv2", "OY")] == 1
    assert ("conv2", "K") not in tiles  # conv2's output channels are on no axis with a tiled loop
    assert check_schedule(outcome.result, outcome.problem) == []


def strided_pair() -> Workload:
    """conv1: 3x3, 1 -> 2 channels, 8x8 rows, padding 1; conv2: 1x1 over h with stride 2 (4x4 output)."""
    A = AffineExpr.of
    tensors = {
        "x": TensorSpec("x", (1, 1, 8, 8), "int8"),
        "w1": TensorSpec("w1", (2, 1, 3, 3), "int8"),
        "h": TensorSpec("h", (1, 2, 8, 8), "int8"),
        "w2": TensorSpec("w2", (2, 2, 1, 1), "int8"),
        "y": TensorSpec("y", (1, 2, 4, 4), "int8"),
    }
    loops = [LoopDim("B", 1), LoopDim("OX", 4), LoopDim("OY", 4), LoopDim("C", 2), LoopDim("K", 2)]
    conv2 = Node(
        "conv2",
        "Conv",
        loops,
        [
            Operand("input", "h", 8, (A("B"), A("C"), AffineExpr((("OY", 2),)), AffineExpr((("OX", 2),)))),
            Operand("weight", "w2", 8, (A("K"), A("C"), AffineExpr((), 0), AffineExpr((), 0))),
            Operand("output", "y", 8, (A("B"), A("K"), A("OY"), A("OX"))),
        ],
        mac_op=True,
    )
    nodes = [conv("conv1", "x", "w1", "h", 1, 2, 8), conv2]
    return Workload("strided", nodes, tensors, inputs=["x"], outputs=["y"], constants=["w1", "w2"])


def test_a_strided_reader_tiles_its_producer_in_whole_strides(plugins, hardware, tmp_path):
    """conv2 reads h's rows as 2 * OY: one fused axis on which conv1.OY steps twice as far, so the
    mapper's row tile of conv1 is twice conv2's, and the tiles read back unchanged."""
    acc = load_accelerator(hardware([core("a", memory_bits=600)]), plugins)
    context = RunContext(plugins=plugins, options=RunOptions())
    mapping = FusedMapper().map(strided_pair(), acc, context)
    tiles = {(n, d): t for n, d, t in mapping.groups[0].tiles}
    assert tiles[("conv1", "OY")] == 2 * tiles[("conv2", "OY")] < 8
    path = write_mapping(mapping, strided_pair(), tmp_path / "mapping.yaml", acc)
    assert load_mapping(path, strided_pair(), acc).groups == mapping.groups


@pytest.mark.parametrize(("memory_bits", "c_tile"), [(1000, 16), (300, 8)])
def test_a_reduction_is_tiled_once_the_output_loops_are_exhausted(plugins, hardware, memory_bits, c_tile):
    """matmul(1, 64, 2), int8, on one core, half of its memory for tiles (500 or 150 bits): whole it needs
    x 512 + w 1024 + y 16 bits. The row loop D is 1; the column loop K tiled to 1 leaves 512 + 512 + 8 =
    1032; so the reduction C is halved until it fits: C 16 gives 128 + 128 + 8 = 264 <= 500 (C 32: 520),
    C 8 gives 64 + 64 + 8 = 136 <= 150 (C 16: 264)."""
    acc = load_accelerator(hardware([core("a", memory_bits=memory_bits)]), plugins)
    workload = matmul(1, 64, 2)
    nodes = {"mm": node_mapping(workload.node("mm"), acc, "homogeneous")}
    seed = intra_core_tiles(workload, list(workload.nodes), nodes, acc, MapperSettings())
    assert seed == (("mm", "C", c_tile), ("mm", "K", 1))
    outcome = run(workload, hardware([core("a", memory_bits=memory_bits)]), plugins=plugins)
    assert check_schedule(outcome.result, outcome.problem) == []


class WeightMemoryCore:
    """A toy core whose weights have a top memory of their own (``weight_bits``), the rest as it was."""

    def __init__(self, toy, weight_bits: int):
        self.name = toy.name
        self.fingerprint = toy.fingerprint
        memories = ((("input", "output"), toy.memory_bits), (("weight",), weight_bits))
        self.summary = attrs.evolve(toy.summary, operand_memories=memories)


@pytest.mark.parametrize(("weight_bits", "c_tile"), [(600, 32), (200, 8)])
def test_a_small_weight_memory_tiles_the_weights(plugins, hardware, weight_bits, c_tile):
    """matmul(1, 64, 2), int8, inputs and outputs in 100,000 bits (never full), weights in a memory of
    their own, half of it for tiles (300 or 100 bits): w is 64 * 2 * 8 = 1024 bits whole; K tiled to 1
    leaves 512, then C is halved until it fits: C 32 gives 256 <= 300; C 16 gives 128 > 100, C 8 64.
    Counting every operand against memory_bits alone the matmul would not be tiled at all."""
    acc = load_accelerator(hardware([core("a", memory_bits=100_000)]), plugins)
    context = RunContext(plugins=plugins, options=RunOptions())
    assert FusedMapper().map(matmul(1, 64, 2), acc, context).groups[0].tiles == ()
    split = attrs.evolve(
        acc,
        cores={
            i: attrs.evolve(c, description=WeightMemoryCore(c.description, weight_bits)) if c.is_compute else c
            for i, c in acc.cores.items()
        },
    )
    workload = matmul(1, 64, 2)
    nodes = {"mm": node_mapping(workload.node("mm"), split, "homogeneous")}
    tiles = intra_core_tiles(workload, list(workload.nodes), nodes, split, MapperSettings())
    assert tiles == (("mm", "C", c_tile), ("mm", "K", 1))


def conv_then_pool() -> Workload:
    """conv (1 -> 4 channels, 8x8) then a 2x2 max pool of stride 2 (4 channels, 4x4), int8."""
    pool = Node(
        "pool",
        "MaxPool",
        [LoopDim("B", 1), LoopDim("K", 4), LoopDim("OY", 4), LoopDim("OX", 4), LoopDim("FY", 2), LoopDim("FX", 2)],
        [
            Operand(
                "input",
                "h",
                8,
                (
                    AffineExpr.of("B"),
                    AffineExpr.of("K"),
                    AffineExpr((("OY", 2), ("FY", 1))),
                    AffineExpr((("OX", 2), ("FX", 1))),
                ),
            ),
            Operand(
                "output", "y", 8, (AffineExpr.of("B"), AffineExpr.of("K"), AffineExpr.of("OY"), AffineExpr.of("OX"))
            ),
        ],
    )
    tensors = {
        "x": TensorSpec("x", (1, 1, 8, 8), "int8"),
        "w": TensorSpec("w", (4, 1, 3, 3), "int8"),
        "h": TensorSpec("h", (1, 4, 8, 8), "int8"),
        "y": TensorSpec("y", (1, 4, 4, 4), "int8"),
    }
    return Workload(
        "conv_pool", [conv("conv", "x", "w", "h", 1, 4, 8), pool], tensors, inputs=["x", "w"], outputs=["y"]
    )


def test_a_consumer_splits_along_the_axis_its_producer_split(plugins, hardware):
    """On 2 cores the convolution splits OX (8, its largest output loop besides the streamed OY). The
    pool's output loops K and OX are both 4; alone it would split K (loop order). It splits OX, the
    position of its window along the columns the convolution split: pool part p reads conv columns
    [4p, 4p + 4), exactly conv part p's, on the same core, so no data moves between the cores."""
    acc = hardware([core("a"), core("b")])
    outcome = run(conv_then_pool(), acc, plugins=plugins)
    mapping = outcome.problem.mapping
    assert (mapping["conv"].split, mapping["pool"].split) == ((("OX", 2),), (("OX", 2),))
    assert inter_core_split(conv_then_pool().node("pool"), (0, 1), load_accelerator(acc, plugins), "homogeneous") == (
        (0, 1),
        (("K", 2),),
    )
    assert [t for t in outcome.result.transfers if t.tensor == "h"] == []
    assert check_schedule(outcome.result, outcome.problem) == []
