"""Transfers sharing a link's bandwidth within a cycle, as Stream shares a link between its transfers.

tetratoy cores on one bus of 10,000 bits/cycle with DRAM (core 8 unless stated). A record alone keeps
its links for ``ceil(bits / bandwidth)`` cycles; records sharing links go one after another or, when
that is shorter, all at once for ``ceil(bits on the busiest link / its bandwidth)`` cycles, each at
``bits / cycles`` per cycle, so no link carries more than its bandwidth in any cycle.
"""

from __future__ import annotations

import attrs
import numpy as np
from stream_tetra.transfer_records import RecordSpec, busy, layout
from tetra_helpers import core
from tetra_workloads import relu_chain

from stream_core import RunOptions, run
from stream_core.hardware import load_accelerator
from stream_core.ir import FusedGroup, Mapping, NodeMapping
from stream_core.testing import check_schedule

BUS = [{"type": "bus", "cores": list(range(9)), "bandwidth": 10_000}]
OWN = RunOptions(settings={"tetra.greedy": False})  # TETRA's own schedule


def eight_cores(hardware, **fields):
    return hardware([core(f"c{i}", memory_bits=8192) for i in range(8)], BUS, **fields)


def gather(acc, *bits: list[int]) -> list[RecordSpec]:
    """One record per source core 0, 1, ... to DRAM (core 8), with its bits per firing."""
    return [RecordSpec(src, (8,), acc.path(src, 8), np.array(b), acc) for src, b in enumerate(bits)]


def test_eight_small_pieces_over_a_wide_link_take_one_cycle_not_eight(plugins, hardware):
    """8 x 1,000 bits = 8,000 <= 10,000: one cycle for all eight, not a cycle each."""
    acc = load_accelerator(eight_cores(hardware), plugins)
    records = layout(gather(acc, *[[1000]] * 8))
    assert [(r.offset, r.max_cycles) for r in records] == [(0, 1)] * 8
    assert busy(records) == {("link", acc.path(0, 8)[0].id): (0, 1)}


def test_a_bundle_lasts_its_bits_over_the_bandwidth(plugins, hardware):
    """Two records of 15,000 bits take 2 cycles each alone, 4 one after the other, and
    ceil(30,000 / 10,000) = 3 together; at a firing of 5,000 bits each, ceil(10,000 / 10,000) = 1."""
    acc = load_accelerator(eight_cores(hardware), plugins)
    records = layout(gather(acc, [15_000, 5_000], [15_000, 5_000]))
    assert [(r.offset, r.firing_timing()[0].tolist()) for r in records] == [(0, [3, 1])] * 2


def test_records_go_one_after_another_when_a_bundle_is_no_shorter(plugins, hardware):
    """Two records of 10,000 bits: 1 cycle each alone, 2 in sequence, and 2 together: in sequence."""
    acc = load_accelerator(eight_cores(hardware), plugins)
    records = layout(gather(acc, [10_000], [10_000]))
    assert [(r.offset, r.max_cycles, r.hold) for r in records] == [(0, 1, None), (1, 1, None)]


def test_records_from_a_core_of_measured_bandwidth_go_one_after_another(plugins, hardware):
    """Core 0 measured at 2,000 bits/cycle: its 1,000 bits take 1 cycle; with core 1's 1,000 they go in
    sequence (a measured rate is for one transfer), 2 cycles."""
    acc = load_accelerator(eight_cores(hardware, bandwidth={0: {"ceiling": 2000, "contiguous": 2000}}), plugins)
    records = layout(gather(acc, [1000], [1000]))
    assert sorted((r.offset, r.max_cycles) for r in records) == [(0, 1), (1, 1)]


def test_a_gathered_writeback_shares_the_bus_and_passes_check_schedule(plugins, hardware):
    """relu_0 on 1,000 int8 elements split over cores 0-7 (125 each): each writes back 1,000 bits, 8,000
    in all over the bus: one cycle for the eight at once, not 8 one after another. check_schedule
    accepts it and rejects a ninth transfer of 4,000 bits in that cycle (12,000 bits/cycle), but not
    the same ninth transfer over two cycles (8,000 + 2,000, then 2,000 bits/cycle)."""
    relu = Mapping({"relu_0": NodeMapping("relu_0", tuple(range(8)), (("D0", 8),))}, (FusedGroup("g", ("relu_0",)),))
    outcome = run(relu_chain(1000, 1), eight_cores(hardware), relu, plugins=plugins, options=OWN)
    result = outcome.result
    assert check_schedule(result, outcome.problem) == []
    back = [t for t in result.transfers if t.tensor == "t1"]
    assert sorted(t.src for t in back) == list(range(8))
    assert {(t.dst, t.bits, t.end - t.start) for t in back} == {(8, 1000, 1)}
    (start,) = {t.start for t in back}
    assert result.totals.latency == start + 1
    extra = attrs.evolve(back[0], bits=4000)
    assert check_schedule(attrs.evolve(result, transfers=(*result.transfers, extra)), outcome.problem) == [
        f"link {back[0].links[0]} carries 12000 bits/cycle in [{start},{start + 1}); bandwidth 10000"
    ]
    slower = attrs.evolve(extra, end=start + 2)
    longer = attrs.evolve(result.totals, latency=start + 2)
    assert (
        check_schedule(attrs.evolve(result, transfers=(*result.transfers, slower), totals=longer), outcome.problem)
        == []
    )
