"""Pipelining models on a chain whose core and bus are used twice per iteration.

``relu_0`` (core 0) -> ``relu_1`` (core 1) -> ``relu_2`` (core 0), 8 int8 elements in 4 tiles of 2;
hardware as in test_schedules (core-to-core over link0, DRAM over the bus, all 8 bits/cycle).
Tight slots: in 2 (bus), relu_0 1, t1 2 (link), relu_1 1, t2 2 (link), relu_2 1, out 2 (bus):
period P = 11, slot starts 0, 2, 3, 5, 6, 8, 9.
"""

from __future__ import annotations

import pytest
from tetra_helpers import core
from tetra_workloads import relu_chain

from stream_core import RunOptions, run
from stream_core.testing import check_schedule

LINKS = [{"type": "link", "cores": [0, 1], "bandwidth": 8}, {"type": "bus", "cores": [0, 1, 2], "bandwidth": 8}]
MAPPING = {
    "layers": [
        {"name": "relu_0", "core_allocation": [[0]]},
        {"name": "relu_1", "core_allocation": [[1]]},
        {"name": "relu_2", "core_allocation": [[0]]},
    ],
    "fused_groups": [
        {
            "name": "g",
            "layers": ["relu_0", "relu_1", "relu_2"],
            "intra_core_tiling": [{"dim": f"relu_{i}.D0", "tile": 2} for i in range(3)],
        }
    ],
}


@pytest.fixture
def chain(plugins, hardware, write_mapping):
    acc = hardware([core("a"), core("b")], LINKS, name="two_core_link")
    mapping = write_mapping(MAPPING)

    def solve(**settings):
        """TETRA's own schedules (greedy's on the same mapping is shorter here: test_greedy_baseline.py)."""
        options = RunOptions(settings={"tetra.max_levels": 0, "tetra.greedy": False, **settings})
        outcome = run(relu_chain(8, 3), acc, mapping, plugins=plugins, options=options)
        assert check_schedule(outcome.result, outcome.problem) == []
        return outcome.result, dict(outcome.result.groups[0].stats)

    return solve


def test_span_rule_cannot_overlap_when_the_bus_opens_and_closes_each_iteration(chain):
    """interleave 0 (Stream's SPAN): the bus is busy in the first and the last slot, so no iteration
    may start before the previous one ends: II = P = 11, T = 4 x 11 = 44."""
    result, stats = chain(**{"tetra.interleave": 0})
    assert (stats["interval"], result.totals.latency) == (11, 44)


def test_occupancy_bound_is_not_reachable(chain):
    """OCCUPANCY: idle time per iteration is bus 7, link0 9 each way (t1 0->1, t2 1->0: full duplex),
    core 0 9, core 1 10, so O = 7 and T = 4 x 11 - 3 x 7 = 23. A uniform schedule with these slots
    needs II = 7: core 0 runs relu_0 in [2, 3) and relu_2 in [8, 9), so the next relu_0 goes after
    (II >= 7) or before (II <= 5); the bus needs 2 II >= 11. So T = 3 x 7 + 11 = 32; the list schedule
    (26, below) is kept, and the run warns."""
    result, stats = chain(**{"tetra.pipelining": "occupancy"})
    assert stats["milp_latency"] == 23
    assert (stats["interval"], stats["uniform_latency"]) == (7, 32)
    assert (stats["schedule"], result.totals.latency) == ("list", 26)
    assert any("OCCUPANCY latency 23 is not reachable" in w and "takes 26 cycles" in w for w in result.warnings)


def test_interleaving_beats_both_and_is_exact(chain):
    """The separation model (MILP latency == its uniform schedule's length) lands between the bound
    and SPAN, and letting iterations i+2 interleave too can only help."""
    one, stats_one = chain()
    two, stats_two = chain(**{"tetra.interleave": 2})
    assert stats_one["milp_latency"] == stats_one["uniform_latency"]
    assert stats_two["milp_latency"] == stats_two["uniform_latency"]
    assert 23 < stats_two["uniform_latency"] <= stats_one["uniform_latency"] < 32
    assert one.totals.latency <= stats_one["uniform_latency"] and two.totals.latency <= stats_two["uniform_latency"]


def test_list_schedule_fills_the_gaps_the_uniform_interval_leaves(chain):
    """Every firing as early as it may (interleave 1: a firing may go before one of the previous
    iteration, not of an older one). link0 is full duplex: t1 crosses it 0->1, t2 1->0, each
    direction its own resource. Iteration 0: input (bus) [0, 2), relu_0 [2, 3), t1 [3, 5), relu_1
    [5, 6), t2 [6, 8), relu_2 [8, 9), out (bus) [9, 11). Iteration 1: input [2, 4), relu_0 [4, 5), t1
    [5, 7) (t2's [6, 8) runs the other way), relu_1 [7, 8), t2 [8, 10), relu_2 [10, 11), out [11, 13).
    Iteration 2 may no longer precede iteration 0: its input goes after out 0 and out 1 on the bus,
    [13, 15); relu_0 [15, 16), t1 [16, 18), relu_1 [18, 19), t2 [19, 21), relu_2 [21, 22), out [22, 24).
    Iteration 3: input [15, 17), relu_0 [17, 18), t1 [18, 20), relu_1 [20, 21), t2 [21, 23), relu_2
    [23, 24), out after out 2: [24, 26): T = 26 (28 when both directions were one resource), against 30
    for the best uniform interval."""
    result, stats = chain()
    assert stats["uniform_latency"] == 30
    assert (stats["schedule"], result.totals.latency) == ("list", 26)
    on_link = sorted((t.tensor, t.start, t.end) for t in result.transfers if t.links == (0,))
    assert [x for x in on_link if x[0] == "t1"] == [("t1", 3, 5), ("t1", 5, 7), ("t1", 16, 18), ("t1", 18, 20)]
    assert [x for x in on_link if x[0] == "t2"] == [("t2", 6, 8), ("t2", 8, 10), ("t2", 19, 21), ("t2", 21, 23)]
