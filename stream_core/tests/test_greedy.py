"""The greedy allocator end to end on tiny cases whose schedules are computed by hand.

Toy cores (tests/fixtures/example_plugin): ``toy-cost`` latency = ceil(work / 4 MACs per cycle),
energy = work x 0.5 pJ; memories cost 0.1 pJ/bit (compute core) and 1.0 pJ/bit (DRAM). One bus of
8 bits/cycle: moving 8 int8 elements (64 bits) takes 8 cycles.
"""

from __future__ import annotations

import attrs
import pytest
from core_test_support import TOY_COMPUTE

from stream_core import RunOptions, run
from stream_core.errors import InfeasibleError
from stream_core.ir import (
    AffineExpr,
    FusedGroup,
    LoopDim,
    Mapping,
    Node,
    NodeKind,
    NodeMapping,
    Operand,
    TensorSpec,
    Workload,
)
from stream_core.report import summary_dict
from stream_core.testing import check_schedule, conv_node, relu_chain
from stream_core.testing import matmul_workload as matmul

A = AffineExpr.of


def spans(result):
    tiles = [(t.node, t.core, t.start, t.end) for t in result.tiles]
    transfers = [(t.tensor, t.src, t.dst, t.start, t.end, t.reason) for t in result.transfers]
    return tiles, transfers


def test_relu_chain_on_one_core(toy_plugins, toy_hardware):
    outcome = run(relu_chain(8, length=2), toy_hardware(n=1), plugins=toy_plugins)
    result = outcome.result
    tiles, transfers = spans(result)
    # t0 arrives [0,8); relu_0 [8,10); relu_1 reads it in place [10,12); t2 written back [12,20)
    assert tiles == [("relu_0", 0, 8, 10), ("relu_1", 0, 10, 12)]
    assert transfers == [("t0", 1, 0, 0, 8, "operand"), ("t2", 0, 1, 12, 20, "writeback")]
    assert result.totals.latency == 20
    assert result.totals.compute_energy_pj == 2 * 8 * 0.5
    # each 64-bit transfer reads one memory and writes the other: 64 x (1.0 + 0.1) pJ
    assert result.totals.memory_energy_pj == pytest.approx(2 * 64 * 1.1)
    assert result.totals.utilisation == {0: 4 / 20}
    assert check_schedule(result, outcome.problem) == []


def test_spill_when_memory_is_full(toy_plugins, toy_hardware):
    """x -> A -> y -> C -> z and x2 -> B -> y2 on one core holding 160 bits.

    A: x [0,8), A [8,10). B needs 128 new bits next to y (64): 192 > 160, so y is spilled [10,18),
    x2 fetched [18,26), B [26,28), y2 written back [28,36). C reads y back from DRAM once memory
    frees (36): [36,44), C [44,46), z written back [46,54).
    """
    t = {n: TensorSpec(n, (8,), "int8") for n in ("x", "y", "z", "x2", "y2")}

    def relu(name, src, dst):
        return Node(
            name,
            "Relu",
            [LoopDim("D0", 8)],
            [Operand("input", src, 8, (A("D0"),)), Operand("output", dst, 8, (A("D0"),))],
        )

    workload = Workload(
        "spill",
        [relu("A", "x", "y"), relu("B", "x2", "y2"), relu("C", "y", "z")],
        t,
        inputs=["x", "x2"],
        outputs=["z", "y2"],
    )
    whole = whole_layers(workload, core=0)
    outcome = run(workload, toy_hardware(n=1, compute={**TOY_COMPUTE, "memory_bits": 160}), whole, plugins=toy_plugins)
    tiles, transfers = spans(outcome.result)
    assert tiles == [("A", 0, 8, 10), ("B", 0, 26, 28), ("C", 0, 44, 46)]
    assert transfers == [
        ("x", 1, 0, 0, 8, "operand"),
        ("y", 0, 1, 10, 18, "spill"),
        ("x2", 1, 0, 18, 26, "operand"),
        ("y2", 0, 1, 28, 36, "writeback"),
        ("y", 1, 0, 36, 44, "operand"),
        ("z", 0, 1, 46, 54, "writeback"),
    ]
    assert max(bits for _, bits in outcome.result.memory[0]) <= 160
    assert check_schedule(outcome.result, outcome.problem) == []


def test_split_matmul_runs_parts_on_pinned_cores(tmp_path, toy_plugins, toy_hardware):
    from core_test_support import write_yaml

    hw = toy_hardware(n=2, bandwidth=64)
    mapping = write_yaml(
        tmp_path / "map.yaml",
        {"layers": [{"name": "mm", "core_allocation": [[0, 1]], "inter_core_tiling": [[{"dim": "D2", "split": 2}]]}]},
    )
    outcome = run(matmul(4, 4, 8), hw, mapping, plugins=toy_plugins)
    tiles, transfers = spans(outcome.result)
    # each part: 4x4x4 = 64 MACs -> 16 cycles; its inputs: a (128 bits, 2 cycles) + half of w (128 bits, 2 cycles).
    # Both parts read all of a: part 1 receives part 0's fetch over the bus too (arriving at 2, before a
    # fetch of its own could, [4,6)), so a is read off-chip once and written to both cores
    assert tiles == [("mm", 0, 4, 20), ("mm", 1, 6, 22)]
    assert [(tr[0], tr[2], tr[3], tr[4], tr[5]) for tr in transfers if tr[5] != "writeback"] == [
        ("a", 0, 0, 2, "operand (multicast to cores 0, 1)"),
        ("w", 0, 2, 4, "operand"),
        ("w", 1, 4, 6, "operand"),
    ]
    assert outcome.result.totals.latency == 24  # y halves (128 bits each) written back [20,22) and [22,24)
    # memory: a 128 bits read once (1.0 pJ/bit) and written twice (0.1), w 256 and y 256 bits read and written once
    assert outcome.result.totals.memory_energy_pj == pytest.approx(128 * 1.2 + 512 * 1.1)
    assert check_schedule(outcome.result, outcome.problem) == []


def test_tile_too_big_for_every_core_is_explained(toy_plugins, toy_hardware):
    hw = toy_hardware(n=1, compute={**TOY_COMPUTE, "memory_bits": 100})
    workload = relu_chain(8)
    with pytest.raises(InfeasibleError) as info:
        run(
            workload, hw, whole_layers(workload, core=0), plugins=toy_plugins, options=RunOptions(cost_model="roofline")
        )
    assert "node 'relu_0' on core 0: tile needs 128 bits of on-core memory" in str(info.value)
    assert "holds 100 bits" in str(info.value)


def test_the_baseline_mapper_tiles_a_layer_that_does_not_fit(toy_plugins, toy_hardware):
    # 8 int8 elements in and out: 128 bits; half of a 100-bit memory is 50 -> halve twice to 2 elements (32 bits)
    outcome = run(relu_chain(8), toy_hardware(n=1, compute={**TOY_COMPUTE, "memory_bits": 100}), plugins=toy_plugins)
    assert outcome.problem.mapping.groups[0].tiles == (("relu_0", "D0", 2),)
    assert [t.index for t in outcome.result.tiles] == [0, 1, 2, 3]
    assert check_schedule(outcome.result, outcome.problem) == []


def whole_layers(workload, core: int) -> Mapping:
    """Every node whole, on ``core``, in one group."""
    nodes = {n.name: NodeMapping(n.name, (core,)) for n in workload.nodes}
    return Mapping(nodes, (FusedGroup("g", tuple(n.name for n in workload.nodes)),))


def test_reduction_tiles_accumulate_in_order(tmp_path, toy_plugins, toy_hardware):
    """mm (D=4, C=4, K=8) tiled C=2 on one core, bus 64 bits/cycle: two tiles of 64 MACs (16 cycles).

    Tile 0: a (64 bits) [0,1), w (128 bits) [1,3), runs [3,19). Tile 1 accumulates onto tile 0's
    partial sums (same core: no transfer): its a/w are prefetched once tile 0 starts: [3,4), [4,6);
    runs [19,35). Only the completed y (256 bits) is written back: [35,39).
    """
    workload = matmul(4, 4, 8)
    mapping = Mapping({"mm": NodeMapping("mm", (0,))}, (FusedGroup("g", ("mm",), (("mm", "C", 2),)),))
    outcome = run(workload, toy_hardware(n=1, bandwidth=64), mapping, plugins=toy_plugins)
    tiles, transfers = spans(outcome.result)
    assert tiles == [("mm", 0, 3, 19), ("mm", 0, 19, 35)]
    assert transfers == [
        ("a", 1, 0, 0, 1, "operand"),
        ("w", 1, 0, 1, 3, "operand"),
        ("a", 1, 0, 3, 4, "operand"),
        ("w", 1, 0, 4, 6, "operand"),
        ("y", 0, 1, 35, 39, "writeback"),
    ]
    assert check_schedule(outcome.result, outcome.problem) == []


def test_parallel_links_carry_transfers_side_by_side(toy_plugins, toy_hardware):
    """Two 8-bit/cycle links join core 0 and DRAM; an Add reads x and x2 (64 bits each). Both arrive at
    once, one per link, [0,8); the Add runs [8,10); y is written back [10,18). Latency 18; with the
    second link unused it would be 26 (x2 [8,16), Add [16,18), y [18,26))."""
    t = {n: TensorSpec(n, (8,), "int8") for n in ("x", "x2", "y")}
    add = Node(
        "add",
        "Add",
        [LoopDim("D0", 8)],
        [
            Operand("input", "x", 8, (A("D0"),)),
            Operand("input", "x2", 8, (A("D0"),)),
            Operand("output", "y", 8, (A("D0"),)),
        ],
    )
    workload = Workload("pair", [add], t, inputs=["x", "x2"], outputs=["y"])
    links = [{"cores": [0, 1], "bandwidth": 8}, {"cores": [0, 1], "bandwidth": 8}]
    outcome = run(workload, toy_hardware(n=1, links=links), whole_layers(workload, core=0), plugins=toy_plugins)
    transfers = [(t.tensor, t.links, t.start, t.end) for t in outcome.result.transfers]
    assert transfers == [("x", (0,), 0, 8), ("x2", (1,), 0, 8), ("y", (0,), 10, 18)]
    assert outcome.result.totals.latency == 18
    assert check_schedule(outcome.result, outcome.problem) == []


def test_a_core_listed_twice_runs_its_parts_one_after_the_other(toy_plugins, toy_hardware):
    """relu_chain(16) split in two halves, both on core 0: each half (64 bits) arrives in 8 cycles and
    runs 8 / 4 = 2. Half 0: in [0,8), relu [8,10), back [10,18); half 1 waits for the bus: in [18,26),
    relu [26,28), back [28,36). The core never runs both halves at once."""
    mapping = Mapping({"relu_0": NodeMapping("relu_0", (0, 0), (("D0", 2),))}, (FusedGroup("g", ("relu_0",)),))
    outcome = run(relu_chain(16), toy_hardware(n=1), mapping, plugins=toy_plugins)
    tiles, transfers = spans(outcome.result)
    assert tiles == [("relu_0", 0, 8, 10), ("relu_0", 0, 26, 28)]
    assert [(t, start, end) for t, _, _, start, end, _ in transfers] == [
        ("t0", 0, 8),
        ("t1", 10, 18),
        ("t0", 18, 26),
        ("t1", 28, 36),
    ]
    assert check_schedule(outcome.result, outcome.problem) == []
    first, second = outcome.result.tiles
    overlapping = attrs.evolve(outcome.result, tiles=(first, attrs.evolve(second, start=9, end=11)))
    assert check_schedule(overlapping, outcome.problem) == [
        "core 0 double-booked: relu_0[0] [8,10) and relu_0[1] [9,11)"
    ]


def test_layout_node_energy_is_shown_apart_from_what_stream_counts(toy_plugins, toy_hardware):
    """A Reshape (data movement) between two relus: Stream 2.1.1 folds it into its reader and prices
    no node for it, so its tiles' energy is the ``layout_nodes`` part, and the Stream-comparable
    energy is the rest (tiles of the relus, transfers and memory)."""
    workload = relu_chain(8, length=3)
    nodes = list(workload.nodes)
    nodes[1] = attrs.evolve(nodes[1], op_type="Reshape", kind=NodeKind.DATA_MOVEMENT)
    workload = attrs.evolve(workload, nodes=nodes)
    outcome = run(workload, toy_hardware(n=1), plugins=toy_plugins)
    totals = outcome.result.totals
    layout = sum(t.energy_pj for t in outcome.result.tiles if t.node == "relu_1")
    assert layout > 0
    assert totals.energy_not_in_stream_pj == {"layout_nodes": pytest.approx(layout)}
    assert totals.stream_comparable_energy_pj == pytest.approx(totals.energy_pj - layout)
    summary = summary_dict(outcome.result, outcome.problem.accelerator)
    assert summary["energy_not_in_stream_pj"] == {"layout_nodes": pytest.approx(layout)}
    assert summary["energy_stream_comparable_pj"] == pytest.approx(totals.energy_pj - layout)


@pytest.mark.parametrize(("kind", "latency"), [("link", 28), ("bus", 36)])
def test_opposite_directions_share_a_link_but_not_a_bus(toy_plugins, toy_hardware, kind, latency):
    """A: x -> y on core 0, B: x2 -> y2 on core 1, C: y -> z on core 1, D: y2 -> z2 on core 0; each
    core has its own 8-bit/cycle link to DRAM (core 2), and cores 0 and 1 are joined by a link or a
    two-core bus. x and x2 arrive [0,8), A and B run [8,10). y goes 0->1 [10,18); y2 goes 1->0 at the
    same time over the link (full duplex), C and D run [18,20) and z, z2 are written back [20,28).
    Over the bus y2 waits for y: [18,26), D runs [26,28), z2 is written back [28,36)."""
    t = {n: TensorSpec(n, (8,), "int8") for n in ("x", "y", "z", "x2", "y2", "z2")}

    def relu(name, src, dst):
        return Node(
            name,
            "Relu",
            [LoopDim("D0", 8)],
            [Operand("input", src, 8, (A("D0"),)), Operand("output", dst, 8, (A("D0"),))],
        )

    nodes = [relu("A", "x", "y"), relu("B", "x2", "y2"), relu("C", "y", "z"), relu("D", "y2", "z2")]
    workload = Workload("cross", nodes, t, inputs=["x", "x2"], outputs=["z", "z2"])
    cores = {"A": 0, "B": 1, "C": 1, "D": 0}
    mapping = Mapping({n: NodeMapping(n, (c,)) for n, c in cores.items()}, (FusedGroup("g", tuple(cores)),))
    links = [
        {"type": "link", "cores": [0, 2], "bandwidth": 8},
        {"type": "link", "cores": [1, 2], "bandwidth": 8},
        {"type": kind, "cores": [0, 1], "bandwidth": 8},
    ]
    outcome = run(workload, toy_hardware(n=2, links=links), mapping, plugins=toy_plugins)
    between = [(t.tensor, t.src, t.dst, t.start, t.end) for t in outcome.result.transfers if t.links == (2,)]
    y2 = (10, 18) if kind == "link" else (18, 26)
    assert between == [("y", 0, 1, 10, 18), ("y2", 1, 0, *y2)]
    assert outcome.result.totals.latency == latency
    assert check_schedule(outcome.result, outcome.problem) == []


def test_halo_rows_of_a_split_conv_are_read_off_chip_once(toy_plugins, toy_hardware):
    """A 3x3 conv (pad 1, one channel) over an 8x4 int8 input, split by output rows over cores 0 and 1.

    Each half reads 5 input rows (its 4 and one halo row; the padding row is not read): rows 0-4 and
    3-7, 5 x 4 x 8 = 160 bits each, 320 apart. Their hull, rows 0-7, is 256 bits: core 0's fetch of x
    covers both and is multicast to core 1. On the 8 bits/cycle bus w (72 bits, the same box for both)
    goes [0,9), x [9,41); each part (4 x 4 x 9 = 144 MACs) runs 36 cycles [41,77); the y halves
    (128 bits each) go back [77,93) and [93,109).
    """
    tensors = {n: TensorSpec(n, shape, "int8") for n, shape in (("x", (1, 1, 8, 4)), ("w", (1, 1, 3, 3)))}
    tensors["y"] = TensorSpec("y", (1, 1, 8, 4), "int8")
    workload = Workload("halo", [conv_node(c=1, k=1, oy=8, ox=4)], tensors, inputs=["x", "w"], outputs=["y"])
    mapping = Mapping({"conv": NodeMapping("conv", (0, 1), (("OY", 2),))}, (FusedGroup("g", ("conv",)),))
    outcome = run(workload, toy_hardware(n=2), mapping, plugins=toy_plugins)
    tiles, transfers = spans(outcome.result)
    assert tiles == [("conv", 0, 41, 77), ("conv", 1, 41, 77)]
    assert transfers == [
        ("w", 2, 0, 0, 9, "operand (multicast to cores 0, 1)"),
        ("x", 2, 0, 9, 41, "operand (multicast to cores 0, 1)"),
        ("y", 0, 2, 77, 93, "writeback"),
        ("y", 1, 2, 93, 109, "writeback"),
    ]
    assert [t.bits for t in outcome.result.transfers if t.tensor == "x"] == [256]
    # x: 256 bits read from DRAM (1.0 pJ/bit), each core written with the 160 it keeps (0.1);
    # w: 72 read, written twice; y: 2 x 128 bits read on-core and written to DRAM
    memory = 256 * 1.0 + 2 * 160 * 0.1 + 72 * 1.0 + 2 * 72 * 0.1 + 256 * 1.1
    assert outcome.result.totals.memory_energy_pj == pytest.approx(memory)
    assert max(bits for _, bits in outcome.result.memory[1]) == 160 + 72 + 128  # x's half, w, y's half
    assert check_schedule(outcome.result, outcome.problem) == []
