"""One off-chip fetch for readers of a tensor whose cores the solver still chooses (a node listing
candidate cores without a split): the earlier reader's input activity gets a shared mode per pair of
their cores (the same core too), the later one a served mode per core of its own, and a MILP row per
core ties the two (``steady._share_across``).

Workload ``twins``: ``r1: x -> a`` and ``r2: x -> b``, Relu on 8 int8 elements (64 bits), both
graph outputs, each allowed on cores 0 and 1. tetratoy cores (0.1 pJ per bit read or written), DRAM
as core 2 (1.0 pJ per bit).
"""

from __future__ import annotations

import pytest
from stream_tetra.settings import TetraSettings
from stream_tetra.steady import build_steady
from test_multicast import LINKS
from tetra_helpers import core
from tetra_workloads import elementwise

from stream_core import RunOptions, run
from stream_core.ir import FusedGroup, Mapping, NodeMapping, TensorSpec, Workload
from stream_core.testing import check_schedule

OWN = RunOptions(settings={"tetra.greedy": False})  # TETRA's own schedule


def twins() -> tuple[Workload, Mapping]:
    tensors = {t: TensorSpec(t, (8,), "int8") for t in ("x", "a", "b")}
    nodes = [elementwise("r1", "Relu", "x", "a", 8, 8), elementwise("r2", "Relu", "x", "b", 8, 8)]
    workload = Workload("twins", nodes, tensors, inputs=["x"], outputs=["a", "b"])
    either = {n: NodeMapping(n, (0, 1), ()) for n in ("r1", "r2")}
    return workload, Mapping(either, (FusedGroup("g", ("r1", "r2")),))


def test_readers_placed_on_one_core_share_its_fetch(plugins, hardware):
    """One 8 bit/cycle bus; core 0 runs 0.5 ops/cycle (16 cycles a Relu), core 1 4 (2 cycles). Both on
    core 1 with one fetch: x [0,8), r1 [8,10), r2 [10,12), a [10,18), b [18,26): 26 cycles. Two fetches
    keep the bus busy 4 x 8 = 32 cycles; r2 on core 0 ends at 8 + 16 = 24 and b at 32. Memory energy:
    x 64 x (1.0 + 0.1) = 70.4, a and b 2 x 64 x (0.1 + 1.0) = 140.8: 211.2 pJ; 64 bits read off-chip."""
    workload, mapping = twins()
    acc = hardware([core("slow", rate=0.5), core("fast")])
    outcome = run(workload, acc, mapping, plugins=plugins, options=OWN)
    assert check_schedule(outcome.result, outcome.problem) == []
    assert sorted((t.node, t.core) for t in outcome.result.tiles) == [("r1", 1), ("r2", 1)]
    assert [(t.src, t.dst, t.start, t.end, t.bits) for t in outcome.result.transfers if t.tensor == "x"] == [
        (2, 1, 0, 8, 64)
    ]
    assert outcome.result.totals.latency == 26
    assert outcome.result.totals.memory_energy_pj == pytest.approx(211.2)


def test_readers_placed_on_two_cores_share_one_multicast(plugins, hardware):
    """DRAM on its own 8 bit/cycle link to each core, both cores 1 op/cycle (8 cycles a Relu) with 160
    bits of memory: one core cannot hold x and both outputs (3 x 64 bits), so r1 and r2 run on one core
    each. x [0,8) to both, r1 and r2 [8,16), a and b back at once [16,24): 24 cycles, as with a fetch
    each over its own link; the second objective, off-chip traffic, takes the one multicast (64 bits
    read, not 128): x 64 x (1.0 + 0.1 + 0.1) = 76.8, a and b 2 x 64 x 1.1 = 140.8: 217.6 pJ (two
    fetches: 281.6)."""
    workload, mapping = twins()
    acc = hardware([core("a", rate=1, memory_bits=160), core("b", rate=1, memory_bits=160)], LINKS)
    outcome = run(workload, acc, mapping, plugins=plugins, options=OWN)
    assert check_schedule(outcome.result, outcome.problem) == []
    assert sorted(t.core for t in outcome.result.tiles) == [0, 1]
    x = [(t.src, t.start, t.end, t.bits, t.reason) for t in outcome.result.transfers if t.tensor == "x"]
    assert x == [(2, 0, 8, 64, "input (multicast to cores 0, 1)")]
    assert outcome.result.totals.latency == 24
    assert outcome.result.totals.memory_energy_pj == pytest.approx(217.6)


def test_a_shared_mode_per_pair_of_cores_and_a_served_mode_per_core(plugins, hardware):
    """r1's input activity: a fetch per core of r1, then a shared mode per (r1's core, r2's core), four;
    r2's: a fetch per core, then a served mode per core, each needing r2 there."""
    workload, mapping = twins()
    outcome = run(workload, hardware([core("a"), core("b")]), mapping, plugins=plugins, options=OWN)
    steady = build_steady(outcome.problem, outcome.problem.mapping.groups[0], TetraSettings())
    first, second = (a for a in steady.activities if a.kind == "input")
    shared = [(m.dst_cores, m.serves_on) for m in first.modes if m.serves]
    assert sorted(shared) == [((0, 0), (0,)), ((0, 1), (1,)), ((1, 0), (0,)), ((1, 1), (1,))]
    served = [(m.dst_cores, m.needs) for m in second.modes if m.served_by]
    assert served == [((0,), (("r2", 0),)), ((1,), (("r2", 1),))]
