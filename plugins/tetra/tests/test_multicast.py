"""One read at the source per memory that receives a piece, one multicast where it costs less, and one
scatter where small pieces would each take a cycle.

Workload: ``mm`` = X[2,4] @ W[4,4] (int8: x 64 bits, w 128, y 64) split over cores 0 and 1 along its
output columns K, so both cores need all of x and half of w each (64 bits), and each writes back
half of y (32 bits). tetratoy cores (4 ops/cycle, 0.1 pJ per bit read or written), DRAM as core 2
(1.0 pJ per bit). Memory energy of a transfer = bits x (source read + each destination's write).
"""

from __future__ import annotations

import pytest
from stream_tetra.settings import TetraSettings
from stream_tetra.steady import build_steady
from tetra_helpers import core
from tetra_workloads import conv, matmul, relu_chain

from stream_core import RunOptions, run
from stream_core.ir import FusedGroup, Mapping, NodeMapping, TensorSpec, Workload
from stream_core.testing import check_schedule

SPLIT = Mapping({"mm": NodeMapping("mm", (0, 1), (("K", 2),))}, (FusedGroup("g", ("mm",)),))
OWN = RunOptions(settings={"tetra.greedy": False})  # TETRA's own schedule
LINKS = [{"type": "link", "cores": [0, 2], "bandwidth": 8}, {"type": "link", "cores": [1, 2], "bandwidth": 8}]


def inputs(result) -> list[tuple]:
    return sorted((t.tensor, t.src, t.dst, t.bits, t.links, t.reason) for t in result.transfers if t.tensor != "y")


def test_the_same_piece_for_two_point_to_point_routes_is_read_once(plugins, hardware):
    """DRAM has its own 8 bit/cycle link to each core. x goes to both at once over both links
    (one read: 64 x (1.0 + 0.1 + 0.1) = 76.8 pJ, not 2 x 64 x 1.1 = 140.8); the w halves differ and go
    one per link (2 x 64 x 1.1 = 140.8), y's halves come back (2 x 32 x 1.1 = 70.4): 288.0 pJ."""
    outcome = run(matmul(2, 4, 4), hardware([core("a"), core("b")], LINKS), SPLIT, plugins=plugins, options=OWN)
    assert check_schedule(outcome.result, outcome.problem) == []
    (*w_records, x_record) = inputs(outcome.result)
    assert x_record[:4] == ("x", 2, 0, 64) and set(x_record[4]) == {0, 1}
    assert x_record[5] == "input (multicast to cores 0, 1)"
    assert [(r[0], r[2], r[3], len(r[4])) for r in w_records] == [("w", 0, 64, 1), ("w", 1, 64, 1)]
    assert outcome.result.totals.memory_energy_pj == pytest.approx(288.0)


def test_cores_sharing_a_memory_receive_its_pieces_once(plugins, hardware):
    """Cores 0 and 1 share one memory (owner 0, on an 8 bit/cycle link to DRAM): x arrives once
    (64 bits), and both w halves once as their hull, the whole w (128 bits): 192 x 1.1 = 211.2 pJ in,
    y's halves out 64 x 1.1 = 70.4: 281.6 pJ (a copy per core would be 352.0)."""
    acc = hardware([core("a"), core("b")], [{"cores": [0, 2], "bandwidth": 8}], core_memory_sharing=["0, 1"])
    outcome = run(matmul(2, 4, 4), acc, SPLIT, plugins=plugins, options=OWN)
    assert check_schedule(outcome.result, outcome.problem) == []
    assert [(r[0], r[1], r[2], r[3]) for r in inputs(outcome.result)] == [("w", 2, 0, 128), ("x", 2, 0, 64)]
    assert outcome.result.totals.memory_energy_pj == pytest.approx(281.6)


def conv_rows() -> tuple[Workload, Mapping]:
    """A 3x3 convolution (padding 1) of a 1x4x4 int8 x, split over cores 0 and 1 by output rows: each
    part reads three rows of x (96 bits; rows 0-2 and 1-3), their hull is all four (128)."""
    tensors = {"x": TensorSpec("x", (1, 1, 4, 4), "int8"), "w": TensorSpec("w", (1, 1, 3, 3), "int8")}
    tensors["y"] = TensorSpec("y", (1, 1, 4, 4), "int8")
    workload = Workload("conv", [conv("conv", "x", "w", "y", 1, 1, 4)], tensors, inputs=["x", "w"], outputs=["y"])
    return workload, Mapping({"conv": NodeMapping("conv", (0, 1), (("OY", 2),))}, (FusedGroup("g", ("conv",)),))


def test_overlapping_pieces_go_as_their_hull_when_that_is_cheaper_and_no_slower(plugins, hardware):
    """DRAM (core 2) reaches core 1 through core 0 (8 bits/cycle links): x's two pieces would follow each
    other over DRAM's link (12 + 12 cycles), their hull goes to both at once in 16 and costs
    128 x 1.0 + 2 x 96 x 0.1 = 147.2 pJ (read once, each core writing the three rows it keeps) against
    2 x 96 x 1.1 = 211.2. The weights (9 bytes, the same for both) go once: 72 x 1.2 = 86.4; the output
    halves come back: 2 x 64 x 1.1 = 140.8. 374.4 pJ."""
    workload, rows = conv_rows()
    chain = [{"type": "link", "cores": [0, 2], "bandwidth": 8}, {"type": "link", "cores": [0, 1], "bandwidth": 8}]
    outcome = run(workload, hardware([core("a"), core("b")], chain), rows, plugins=plugins, options=OWN)
    assert check_schedule(outcome.result, outcome.problem) == []
    assert [(r[0], r[3], r[5]) for r in inputs(outcome.result)] == [
        ("w", 72, "input (multicast to cores 0, 1)"),
        ("x", 128, "input (multicast to cores 0, 1)"),
    ]
    assert outcome.result.totals.memory_energy_pj == pytest.approx(374.4)


def test_a_cheaper_but_slower_multicast_is_offered_and_the_faster_unicasts_kept(plugins, hardware):
    """With a link from DRAM to each core the two 96-bit pieces of x go at once in 12 cycles, the hull in
    16: the allocator gets both (each a transfer mode) and keeps the shorter schedule, at 2 x 96 x 1.1
    = 211.2 pJ for x: 211.2 + 86.4 + 140.8 = 438.4 pJ."""
    workload, rows = conv_rows()
    outcome = run(workload, hardware([core("a"), core("b")], LINKS), rows, plugins=plugins, options=OWN)
    assert check_schedule(outcome.result, outcome.problem) == []
    x_records = [(r[2], r[3], r[5]) for r in inputs(outcome.result) if r[0] == "x"]
    assert x_records == [(0, 96, "input"), (1, 96, "input")]
    assert outcome.result.totals.memory_energy_pj == pytest.approx(438.4)
    steady = build_steady(outcome.problem, outcome.problem.mapping.groups[0], TetraSettings())
    (x_input,) = [a for a in steady.activities if a.kind == "input" and a.tensor == "x"]
    assert sorted(len(m.records) for m in x_input.modes) == [1, 2]  # the hull multicast, the two unicasts


def test_small_pieces_leaving_over_one_link_go_as_one_scatter(plugins, hardware):
    """relu_0 on t0 (8 int8, 64 bits) split over cores 0 and 1, DRAM (core 2) linked to core 0 only and
    core 0 to core 1, both links 64 bits/cycle. Each half (32 bits) alone takes a cycle, the two one
    after the other over DRAM's link 2 cycles; as one scatter 64 / 64 = 1 cycle. The halves do not
    overlap, so their hull (the whole t0) saves no read and would cross core 0's link to core 1 whole:
    they stay two pieces, each destination writing only its own: t0 in 70.4 pJ, t1 out likewise:
    140.8 pJ."""
    links = [{"type": "link", "cores": [0, 2], "bandwidth": 64}, {"type": "link", "cores": [0, 1], "bandwidth": 64}]
    halves = Mapping({"relu_0": NodeMapping("relu_0", (0, 1), (("D0", 2),))}, (FusedGroup("g", ("relu_0",)),))
    outcome = run(relu_chain(8, 1), hardware([core("a"), core("b")], links), halves, plugins=plugins, options=OWN)
    assert check_schedule(outcome.result, outcome.problem) == []
    (record,) = [t for t in outcome.result.transfers if t.tensor == "t0"]
    assert (record.src, record.bits, record.end - record.start) == (2, 64, 1)
    assert record.reason == "input (scatter to cores 0, 1)"
    assert outcome.result.totals.memory_energy_pj == pytest.approx(140.8)
