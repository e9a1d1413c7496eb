"""A point-to-point link is full duplex: its two directions are separate resources; a bus is one
resource for all its cores. Hardware of test_pipelining: tetratoy cores 0 and 1, DRAM core 2,
link0 joining cores 0 and 1, bus1 joining all three, 8 bits/cycle each."""

from __future__ import annotations

import attrs
import numpy as np
from stream_tetra.transfer_records import RecordSpec, busy, layout
from test_pipelining import LINKS, MAPPING
from tetra_helpers import core
from tetra_workloads import relu_chain

from stream_core import RunOptions, run
from stream_core.hardware import load_accelerator
from stream_core.testing import check_schedule


def test_opposite_directions_overlap_on_a_link_but_not_on_a_bus(plugins, hardware):
    """16 bits from core 0 to core 1 and 16 back take ceil(16 / 8) = 2 cycles each. Over link0 both
    go at offset 0, one per direction; over bus1 they go one after the other, [0, 2) and [2, 4)
    (together they would take ceil(32 / 8) = 4 cycles too)."""
    acc = load_accelerator(hardware([core("a"), core("b")], LINKS), plugins)

    def both_ways(link_id: int) -> list[RecordSpec]:
        via = (acc.link(link_id),)
        return layout([RecordSpec(src, (1 - src,), via, np.array([16]), acc) for src in (0, 1)])

    records = both_ways(0)
    assert [(r.src, r.offset, r.max_cycles) for r in records] == [(0, 0, 2), (1, 0, 2)]
    assert busy(records) == {("link", 0): (0, 2), ("link<", 0): (0, 2)}
    records = both_ways(1)
    assert [(r.src, r.offset, r.max_cycles) for r in records] == [(0, 0, 2), (1, 2, 2)]
    assert busy(records) == {("link", 1): (0, 4)}


def test_check_schedule_counts_a_link_per_direction_and_a_bus_as_one(plugins, hardware, write_mapping):
    """TETRA's list schedule of the relu chain sends t1's first tile, 16 bits, from core 0 to core 1
    over link0 in [3, 5): 8 bits/cycle, the link's bandwidth. A copy going back from core 1 to core 0
    at the same time uses the other direction: valid. A second copy going the same way makes
    16 bits/cycle on direction 0->1: an overload. t0's first tile comes from DRAM over bus1 in [0, 2);
    a copy going the other way (core 0 to DRAM) at the same time overloads the bus (16 bits/cycle).
    The copies carry no energy, so the totals still add up."""
    acc = hardware([core("a"), core("b")], LINKS, name="two_core_link")
    options = RunOptions(settings={"tetra.max_levels": 0, "tetra.greedy": False})
    outcome = run(relu_chain(8, 3), acc, write_mapping(MAPPING), plugins=plugins, options=options)
    result, problem = outcome.result, outcome.problem
    assert check_schedule(result, problem) == []
    t0, t1 = (min((t for t in result.transfers if t.tensor == name), key=lambda t: t.start) for name in ("t0", "t1"))
    assert (t1.src, t1.dst, t1.links, t1.start, t1.end, t1.bits) == (0, 1, (0,), 3, 5, 16)
    assert (t0.src, t0.dst, t0.links, t0.start, t0.end, t0.bits) == (2, 0, (1,), 0, 2, 16)

    def with_copy(tr, src: int, dst: int) -> list[str]:
        extra = attrs.evolve(tr, src=src, dst=dst, energy_pj=0.0)
        return check_schedule(attrs.evolve(result, transfers=(*result.transfers, extra)), problem)

    assert with_copy(t1, 1, 0) == []
    assert with_copy(t1, 0, 1) == ["link 0 0->1 carries 16 bits/cycle in [3,5); bandwidth 8"]
    assert with_copy(t0, 0, 2) == ["link 1 carries 16 bits/cycle in [0,2); bandwidth 8"]
