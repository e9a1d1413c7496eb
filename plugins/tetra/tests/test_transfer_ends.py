"""Each end of a transfer priced at its operand's memory (Stream 2.1.1's ``PortRegistry.port_for``):
the source reads the producer's output memory (a graph input: the reader's role), each destination
writes the memory of the role its reader takes the tensor in; a write-back lands as an output.

tetratoy cores (0.1 pJ per bit read or written, unless a role's own memory says otherwise), DRAM as
the last core (1.0 pJ per bit), one 8 bit/cycle bus. Memory energy of a transfer = bits x (source
read + each destination's write).
"""

from __future__ import annotations

import pytest
from test_multicast import conv_rows
from tetra_helpers import core
from tetra_workloads import matmul, relu_chain

from stream_core import RunOptions, run
from stream_core.ir import FusedGroup, Mapping, NodeMapping
from stream_core.testing import check_schedule

OWN = RunOptions(settings={"tetra.greedy": False})  # TETRA's own schedule


def pinned(cores: dict[str, int]) -> Mapping:
    return Mapping({n: NodeMapping(n, (c,), ()) for n, c in cores.items()}, (FusedGroup("g", tuple(cores)),))


def test_weights_land_in_their_own_memory_and_outputs_leave_theirs(plugins, hardware):
    """mm = X[2,4] @ W[4,4] (int8) on core 0, whose weights live in a memory written at 0.05 pJ/bit and
    whose outputs are read at 0.3: x 64 x (1.0 + 0.1) = 70.4, w 128 x (1.0 + 0.05) = 134.4 (not 140.8
    at the default memory), y 64 x (0.3 + 1.0) = 83.2 (not 70.4): 288.0 pJ."""
    roles = {"weight": [0.05, 0.05], "output": [0.3, 0.3]}
    acc = hardware([{**core("a"), "role_energy": roles}])
    outcome = run(matmul(2, 4, 4), acc, pinned({"mm": 0}), plugins=plugins, options=OWN)
    assert check_schedule(outcome.result, outcome.problem) == []
    assert sorted((t.tensor, t.bits) for t in outcome.result.transfers) == [("w", 128), ("x", 64), ("y", 64)]
    assert outcome.result.totals.memory_energy_pj == pytest.approx(288.0)


def test_an_edge_reads_the_producers_output_and_writes_the_readers_input(plugins, hardware):
    """relu_0 on core 0 (outputs read at 0.3 pJ/bit), relu_1 on core 1 (inputs written at 0.2), 8 int8
    elements: t0 64 x (1.0 + 0.1) = 70.4, t1 64 x (0.3 + 0.2) = 32.0 (not 12.8 at the defaults),
    t2 64 x (0.1 + 1.0) = 70.4: 172.8 pJ."""
    cores = [{**core("a"), "role_energy": {"output": [0.3, 0.3]}}, {**core("b"), "role_energy": {"input": [0.2, 0.2]}}]
    outcome = run(relu_chain(8, 2), hardware(cores), pinned({"relu_0": 0, "relu_1": 1}), plugins=plugins, options=OWN)
    assert check_schedule(outcome.result, outcome.problem) == []
    assert sorted((t.tensor, t.src, t.dst, t.bits) for t in outcome.result.transfers) == [
        ("t0", 2, 0, 64),
        ("t1", 0, 1, 64),
        ("t2", 1, 2, 64),
    ]
    assert outcome.result.totals.memory_energy_pj == pytest.approx(172.8)


SPLIT = Mapping({"mm": NodeMapping("mm", (0, 1), (("K", 2),))}, (FusedGroup("g", ("mm",)),))


def test_disjoint_pieces_over_a_bus_are_a_scatter_each_written_once(plugins, hardware):
    """mm = X[2,4] @ W[4,4] (int8) split over cores 0 and 1 along its columns, one 8 bit/cycle bus: each
    core needs all of x (64 bits) and its own half of w (64 bits, columns 0-1 or 2-3). x goes once to
    both: 64 x (1.0 + 0.1 + 0.1) = 76.8. The w halves are disjoint: one bus record of their hull (128
    bits, 16 bus cycles, as the two halves) is read once and each core writes only its half:
    128 x 1.0 + 2 x 64 x 0.1 = 140.8 (not the whole w at both, 153.6). y's halves come back:
    2 x 32 x 1.1 = 70.4. 288.0 pJ."""
    outcome = run(matmul(2, 4, 4), hardware([core("a"), core("b")]), SPLIT, plugins=plugins, options=OWN)
    assert check_schedule(outcome.result, outcome.problem) == []
    inputs = sorted((t.tensor, t.bits, t.end - t.start, t.reason) for t in outcome.result.transfers if t.tensor != "y")
    assert inputs == [
        ("w", 128, 16, "input (multicast to cores 0, 1)"),
        ("x", 64, 8, "input (multicast to cores 0, 1)"),
    ]
    assert outcome.result.totals.memory_energy_pj == pytest.approx(288.0)


def test_overlapping_pieces_over_a_bus_each_write_their_own(plugins, hardware):
    """A 3x3 convolution (padding 1) of a 1x4x4 int8 x split by output rows over cores 0 and 1 on one
    bus: each part reads three rows (96 bits), their hull is all four (128). The hull crosses the bus
    once (128 x 1.0) and each core writes its three rows (2 x 96 x 0.1): 147.2 pJ (the hull at both:
    153.6). The weights (72 bits, the same for both): 72 x 1.2 = 86.4; the output halves back:
    2 x 64 x 1.1 = 140.8. 374.4 pJ."""
    workload, rows = conv_rows()
    outcome = run(workload, hardware([core("a"), core("b")]), rows, plugins=plugins, options=OWN)
    assert check_schedule(outcome.result, outcome.problem) == []
    x_records = [(t.bits, t.reason) for t in outcome.result.transfers if t.tensor == "x"]
    assert x_records == [(128, "input (multicast to cores 0, 1)")]
    assert outcome.result.totals.memory_energy_pj == pytest.approx(374.4)
