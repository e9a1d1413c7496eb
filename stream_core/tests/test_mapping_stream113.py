"""Stream 1.13.14 / 2.1.1 meanings of a mapping file: fused groups naming op types are assigned by
position (Stream's FixedMappingGenerationStage), and tiles that fit no core are tiled further."""

from __future__ import annotations

import pytest
from core_test_support import TOY_COMPUTE, write_yaml

from stream_core.context import RunOptions
from stream_core.errors import InputError
from stream_core.hardware import load_accelerator
from stream_core.ir import AffineExpr, LoopDim, Node, NodeKind, Operand, TensorSpec, Workload
from stream_core.mapping_io import load_mapping
from stream_core.pipeline import run
from stream_core.testing import check_schedule, conv_node, matmul_workload

of = AffineExpr.of
PIXEL = ("B", "C", "OY", "OX")


def eltwise(name: str, op: str, inputs: tuple[str, ...], output: str, size: int) -> Node:
    loops = [LoopDim(d, s) for d, s in zip(PIXEL, (1, 4, size, size), strict=True)]
    access = tuple(of(d) for d in PIXEL)
    return Node(
        name, op, loops, [*(Operand("input", t, 8, access) for t in inputs), Operand("output", output, 8, access)]
    )


def small_resnet() -> Workload:
    """conv1 -> relu1 -> pool (2x2, stride 2) -> conv2 -> relu2 -> add1 (+ pool) -> relu3 -> conv3
    -> add2 (+ relu3) -> relu4 -> flat (Flatten) -> fc (Gemm), 4 channels, 8x8 then 4x4 pixels."""
    pool = Node(
        "pool",
        "MaxPool",
        [LoopDim("B", 1), LoopDim("K", 4), LoopDim("OY", 4), LoopDim("OX", 4), LoopDim("FY", 2), LoopDim("FX", 2)],
        [
            Operand(
                "input",
                "r1",
                8,
                (of("B"), of("K"), AffineExpr((("OY", 2), ("FY", 1))), AffineExpr((("OX", 2), ("FX", 1)))),
            ),
            Operand("output", "p", 8, (of("B"), of("K"), of("OY"), of("OX"))),
        ],
    )
    flat = Node(
        "flat",
        "Flatten",
        [LoopDim("K", 64)],
        [Operand("input", "r4", 8), Operand("output", "f", 8)],
        kind=NodeKind.DATA_MOVEMENT,
    )
    fc = Node(
        "fc",
        "Gemm",
        [LoopDim("D", 1), LoopDim("C", 64), LoopDim("K", 10)],
        [
            Operand("input", "f", 8, (of("D"), of("C"))),
            Operand("weight", "wf", 8, (of("C"), of("K"))),
            Operand("output", "y", 8, (of("D"), of("K"))),
        ],
        mac_op=True,
    )
    nodes = [
        conv_node("conv1", c=4, k=4, oy=8, ox=8, tensors=("x", "w1", "c1")),
        eltwise("relu1", "Relu", ("c1",), "r1", 8),
        pool,
        conv_node("conv2", c=4, k=4, oy=4, ox=4, tensors=("p", "w2", "c2")),
        eltwise("relu2", "Relu", ("c2",), "r2", 4),
        eltwise("add1", "Add", ("r2", "p"), "a1", 4),
        eltwise("relu3", "Relu", ("a1",), "r3", 4),
        conv_node("conv3", c=4, k=4, oy=4, ox=4, tensors=("r3", "w3", "c3")),
        eltwise("add2", "Add", ("c3", "r3"), "a2", 4),
        eltwise("relu4", "Relu", ("a2",), "r4", 4),
        flat,
        fc,
    ]
    shapes = {"x": (1, 4, 8, 8), "c1": (1, 4, 8, 8), "r1": (1, 4, 8, 8), "f": (1, 64), "wf": (64, 10), "y": (1, 10)}
    shapes |= {t: (4, 4, 3, 3) for t in ("w1", "w2", "w3")}
    shapes |= {t: (1, 4, 4, 4) for t in ("p", "c2", "r2", "a1", "r3", "c3", "a2", "r4")}
    tensors = {t: TensorSpec(t, shape, "int8") for t, shape in shapes.items()}
    return Workload("small_resnet", nodes, tensors, inputs=["x", "w1", "w2", "w3", "wf"], outputs=["y"])


LAYERS = [{"name": op, "core_allocation": [[0]]} for op in ("Conv", "Relu", "MaxPool", "Add", "Gemm")]


@pytest.fixture
def roomy(tmp_path, toy_plugins, toy_hardware):
    """One compute core with room for whole layers, and DRAM."""
    return tmp_path, load_accelerator(toy_hardware(n=1, compute={**TOY_COMPUTE, "memory_bits": 2**20}), toy_plugins)


def groups_of(mapping) -> list[tuple[str, tuple[str, ...]]]:
    return [(g.name, g.nodes) for g in mapping.groups]


def test_groups_naming_op_types_take_the_segments_at_streams_cut_points(roomy):
    """Stream cuts after the MaxPool and after the Relu that is an Add's only compute successor
    (relu3, relu4); the Flatten is a boundary of its own: 4 segments for the 4 groups, in order,
    whatever op types each group lists (they overlap)."""
    tmp_path, acc = roomy
    groups = [
        {"name": "front", "layers": ["Conv", "Relu", "MaxPool"]},
        {"name": "block1", "layers": ["Conv", "Relu", "Add"], "intra_core_tiling": [{"dim": "conv2.D2", "tile": 2}]},
        {"name": "block2", "layers": ["Conv", "Add", "Relu"]},
        {"name": "head", "layers": ["Gemm"]},
    ]
    mapping = load_mapping(
        write_yaml(tmp_path / "m.yaml", {"layers": LAYERS, "fused_groups": groups}), small_resnet(), acc
    )
    assert groups_of(mapping) == [
        ("front", ("conv1", "relu1", "pool")),
        ("block1", ("conv2", "relu2", "add1", "relu3")),
        ("block2", ("conv3", "add2", "relu4")),
        ("flat", ("flat",)),
        ("head", ("fc",)),
    ]
    assert mapping.group_of("conv2").tiles == (("conv2", "OY", 2),)
    assert any("each holds the nodes at its position" in n for n in mapping.notes)


def test_when_the_counts_differ_groups_end_at_their_last_listed_node(roomy):
    """3 groups against Stream's 4 segments: Stream cuts after each group's last listed layer instead
    (relu3, then relu4); the Flatten still ends a group."""
    tmp_path, acc = roomy
    groups = [
        {"name": "a", "layers": ["Conv", "Relu", "relu3"]},
        {"name": "b", "layers": ["Conv", "relu4"]},
        {"name": "c", "layers": ["Gemm"]},
    ]
    mapping = load_mapping(
        write_yaml(tmp_path / "m.yaml", {"layers": LAYERS, "fused_groups": groups}), small_resnet(), acc
    )
    assert groups_of(mapping) == [
        ("a", ("conv1", "relu1", "pool", "conv2", "relu2", "add1", "relu3")),
        ("b", ("conv3", "add2", "relu4")),
        ("flat", ("flat",)),
        ("c", ("fc",)),
    ]


def test_a_group_ending_with_an_op_type_cannot_be_placed_when_the_counts_differ(roomy):
    tmp_path, acc = roomy
    groups = [{"name": "a", "layers": ["Conv"]}, {"name": "b", "layers": ["Relu"]}]
    path = write_yaml(tmp_path / "m.yaml", {"layers": LAYERS, "fused_groups": groups})
    with pytest.raises(InputError) as info:
        load_mapping(path, small_resnet(), acc)
    [problem] = info.value.problems
    assert problem.field == "fused_groups"
    assert (
        "2 groups, but Stream's cuts (after each MaxPool and after the Relu ending a residual Add) make 4"
        in problem.message
    )
    assert "'a' ends with 'Conv' (an op type" in problem.message


def test_the_only_fused_group_holds_every_node(roomy):
    """As in Stream, one fused group is the whole workload; a tile naming an op type tiles each node of it."""
    tmp_path, acc = roomy
    groups = [
        {
            "name": "g",
            "layers": ["Conv"],
            "intra_core_tiling": [{"dim": "Conv.D0", "tile": 1}, {"dim": "Relu.D2", "tile": 2}],
        }
    ]
    mapping = load_mapping(
        write_yaml(tmp_path / "m.yaml", {"layers": LAYERS, "fused_groups": groups}), small_resnet(), acc
    )
    [group] = mapping.groups
    assert group.nodes == tuple(n.name for n in small_resnet().nodes)
    assert sorted(t for t in group.tiles if t[1] == "OY") == [
        (r, "OY", 2) for r in ("relu1", "relu2", "relu3", "relu4")
    ]
    assert any("holds every node" in n for n in mapping.notes)
    assert any("Relu.D2 names an op type" in n for n in mapping.notes)
    # relu1's 8 rows reach relu2's 4 through the stride-2 pool and conv2's padded window: one fused axis,
    # on which relu1's tile 2 means 2 rows of conv1 and relu2's tile 2 means 4; the first (relu1) tiles the
    # axis, relu2..relu4 keep their own tile 2 and tile nothing else (the op-type entry is our extension)
    assert group.derived == (
        ("conv1", "OY", 2),
        ("pool", "OY", 1),
        ("conv2", "OY", 1),
        ("add1", "OY", 1),
        ("conv3", "OY", 1),
        ("add2", "OY", 1),
    )
    assert (
        "fused group 'g'.intra_core_tiling: Relu.D2 on relu2 and on relu1 cut one fused axis differently "
        "(conv1.OY: 4 against 2); entries naming one fused axis must agree, as in Stream 2.1.1; as Relu.D2 names "
        "an op type, it tiles relu2.OY alone"
    ) in mapping.notes


def relu_2d(rows: int = 8, cols: int = 16) -> Workload:
    access = (of("D"), of("K"))
    node = Node(
        "relu",
        "Relu",
        [LoopDim("D", rows), LoopDim("K", cols)],
        [Operand("input", "a", 8, access), Operand("output", "b", 8, access)],
    )
    return Workload("relu", [node], {t: TensorSpec(t, (rows, cols), "int8") for t in "ab"}, inputs=["a"], outputs=["b"])


def test_tiles_that_fit_no_core_are_tiled_further_with_a_note(tmp_path, toy_plugins, toy_hardware):
    """relu over 8 x 16 int8: input + output = 2048 bits > the core's 1024. Halving until the tile takes
    at most half (512 bits): D 8 -> 4 (1024; D before K on a tie), D 4 -> 2 (512). The run completes,
    also under --strict-costs (the tiling is a mapping note, not a cost fallback)."""
    acc = load_accelerator(toy_hardware(n=1, compute={**TOY_COMPUTE, "memory_bits": 1024}), toy_plugins)
    path = write_yaml(tmp_path / "m.yaml", {"layers": [{"name": "relu", "core_allocation": [[0]]}]})
    mapping = load_mapping(path, relu_2d(), acc)
    assert mapping.groups[0].tiles == (("relu", "D", 2),)
    assert mapping.notes == (
        "layer 'relu' (Relu): its tile needs 2048 bits, more than the memory of any core it may run on (1024 bits); "
        "tiled further to D 8 -> 2 (4x the tiles), as the whole-layer mapper tiles a layer that does not fit",
    )
    outcome = run(relu_2d(), acc, path, plugins=toy_plugins, options=RunOptions(allocator="greedy", strict_costs=True))
    assert check_schedule(outcome.result, outcome.problem) == []
    assert len(outcome.result.tiles) == 4 and mapping.notes[0] in outcome.result.notes


def test_output_loops_are_tiled_before_reductions(tmp_path, toy_plugins, toy_hardware):
    """Gemm 8 x 16 x 8 int8 (a 128 + w 128 + y 64 elements = 2560 bits) on a 2048-bit core, budget 1024.
    Output loops D, K only (halving C would save more: 1536 bits): D 8 -> 4 (1792; D before K on a tie),
    K 8 -> 4 (1152, against D -> 2: 1408), D 4 -> 2 (832 = K -> 2; D first)."""
    acc = load_accelerator(toy_hardware(n=1, compute={**TOY_COMPUTE, "memory_bits": 2048}), toy_plugins)
    path = write_yaml(tmp_path / "m.yaml", {"layers": [{"name": "mm", "core_allocation": [[0]]}]})
    mapping = load_mapping(path, matmul_workload(8, 16, 8), acc)
    assert sorted(mapping.groups[0].tiles) == [("mm", "D", 2), ("mm", "K", 4)]
    assert "tiled further to D 8 -> 2, K 8 -> 4 (8x the tiles)" in mapping.notes[0]


def test_a_tile_that_fits_once_is_kept_double_buffering_is_the_allocators_call(tmp_path, toy_plugins, toy_hardware):
    """relu 8 x 16 int8 tiled to 4 rows: input 512 + output 512 = 1024 bits fit the 1536-bit core once
    (not twice). The reader keeps the user's tile: greedy runs it single-buffered (it waits), TETRA
    and AIE cores double-buffer only when set to, and report themselves when a tile does not fit."""
    acc = load_accelerator(toy_hardware(n=1, compute={**TOY_COMPUTE, "memory_bits": 1536}), toy_plugins)
    group = {"name": "g", "layers": ["relu"], "intra_core_tiling": [{"dim": "relu.D0", "tile": 4}]}
    layers = [{"name": "relu", "core_allocation": [[0]]}]
    path = write_yaml(tmp_path / "m.yaml", {"layers": layers, "fused_groups": [group]})
    mapping = load_mapping(path, relu_2d(), acc)
    assert mapping.groups[0].tiles == (("relu", "D", 4),) and mapping.notes == ()
    outcome = run(relu_2d(), acc, path, plugins=toy_plugins, options=RunOptions(allocator="greedy"))
    assert check_schedule(outcome.result, outcome.problem) == [] and len(outcome.result.tiles) == 2


def uneven_split(tmp_path, splits: list[dict]) -> object:
    layer = {"name": "relu", "core_allocation": [[0, 1, 2, 3]], "inter_core_tiling": [splits]}
    return write_yaml(tmp_path / "m.yaml", {"layers": [layer]})


def test_a_split_that_does_not_divide_its_loop_is_not_applied(tmp_path, toy_plugins, toy_hardware):
    """relu 8 x 7, K (D1, 7 wide) split 4: 7 / 4 is not whole. Stream keeps the split but prices each
    of the 4 parts as the whole loop; here the loop is not split: one part, the 4 cores candidates."""
    acc = load_accelerator(toy_hardware(n=4, compute={**TOY_COMPUTE, "memory_bits": 2**20}), toy_plugins)
    path = uneven_split(tmp_path, [{"dim": "D1", "split": 4}])
    mapping = load_mapping(path, relu_2d(8, 7), acc)
    assert mapping["relu"].split == () and mapping["relu"].cores == (0, 1, 2, 3)
    assert mapping.notes == (
        "split 4 of D1 (K, size 7) does not divide it and is not applied; Stream 1.13.14 and 2.1.1 keep such a "
        "split but price each part as the whole loop (their cost estimators leave the loop whole on every "
        "core), so here the loop runs whole once, on one of the listed cores (the first of the parts it would "
        "have made): layers 'relu'",
    )
    outcome = run(relu_2d(8, 7), acc, path, plugins=toy_plugins, options=RunOptions(allocator="greedy"))
    assert check_schedule(outcome.result, outcome.problem) == []
    assert len(outcome.result.tiles) == 1 and mapping.notes[0] in outcome.result.notes


def test_the_parts_left_by_an_uneven_split_keep_their_first_cores(tmp_path, toy_plugins, toy_hardware):
    """D (8) split 2 divides, K (7) split 2 does not: parts (D, K) = (0, 0), (0, 1), (1, 0), (1, 1) on
    cores 0, 1, 2, 3; without the K split the D halves run on the cores of (0, 0) and (1, 0): 0 and 2."""
    acc = load_accelerator(toy_hardware(n=4, compute={**TOY_COMPUTE, "memory_bits": 2**20}), toy_plugins)
    path = uneven_split(tmp_path, [{"dim": "D0", "split": 2}, {"dim": "D1", "split": 2}])
    mapping = load_mapping(path, relu_2d(8, 7), acc)
    assert mapping["relu"].split == (("D", 2),) and mapping["relu"].cores == (0, 2)
