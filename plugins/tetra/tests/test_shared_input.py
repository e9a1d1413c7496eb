"""One fetch of a tensor serves every reader of a fused group, on the same cores or on others.

Workload: ``x`` (8 int8 = 64 bits) read by ``relu_a -> ya`` and ``relu_b -> yb``, one group, no
tiling. Hardware: tetratoy cores (4 ops/cycle, 0.1 pJ per bit read or written), DRAM as the last
core (1.0 pJ per bit), one 8 bit/cycle bus.
"""

from __future__ import annotations

import pytest
from tetra_helpers import core
from tetra_workloads import elementwise

from stream_core import RunOptions, run
from stream_core.ir import TensorSpec, Workload
from stream_core.testing import check_schedule


def two_readers() -> Workload:
    tensors = {name: TensorSpec(name, (8,), "int8") for name in ("x", "ya", "yb")}
    nodes = [elementwise("relu_a", "Relu", "x", "ya", 8), elementwise("relu_b", "Relu", "x", "yb", 8)]
    return Workload("two_readers", nodes, tensors, inputs=["x"], outputs=["ya", "yb"])


def solve(plugins, hardware, write_mapping, cores: tuple[int, int]):
    acc = hardware([core("a"), core("b")])
    mapping = {
        "layers": [
            {"name": "relu_a", "core_allocation": [[cores[0]]]},
            {"name": "relu_b", "core_allocation": [[cores[1]]]},
        ],
        "fused_groups": [{"name": "g", "layers": ["relu_a", "relu_b"]}],
    }
    options = RunOptions(settings={"tetra.greedy": False})  # TETRA's own schedule
    outcome = run(two_readers(), acc, write_mapping(mapping), plugins=plugins, options=options)
    assert check_schedule(outcome.result, outcome.problem) == []
    return outcome.result


def test_readers_on_one_core_share_one_fetch(plugins, hardware, write_mapping):
    """x over the bus once: [0, 8); relu_a [8, 10), relu_b [10, 12); ya back [10, 18), yb [18, 26).
    Memory energy: 3 x 64 bits x (DRAM 1.0 + core 0.1) = 211.2 pJ (two fetches would be 281.6)."""
    result = solve(plugins, hardware, write_mapping, (0, 0))
    inputs = [(t.tensor, t.src, t.dst, t.start, t.end, t.bits) for t in result.transfers if t.tensor == "x"]
    assert inputs == [("x", 2, 0, 0, 8, 64)]
    assert sorted((t.node, t.start, t.end) for t in result.tiles) == [("relu_a", 8, 10), ("relu_b", 10, 12)]
    assert result.totals.latency == 26
    assert result.totals.memory_energy_pj == pytest.approx(211.2)
    assert dict(result.groups[0].stats)["slots"]["0"] == ["input:relu_a:x#0"]


def test_readers_on_two_cores_share_one_multicast_fetch(plugins, hardware, write_mapping):
    """On cores 0 and 1 the readers no longer fetch x each (what this test asserted before the shared
    delivery mode): x is read once from DRAM and multicast over the bus to both cores, [0, 8), each
    keeping its copy; relu_a [8, 10), relu_b [10, 12) (its slot follows relu_a's); ya back
    [10, 18), yb [18, 26): 26 cycles, where two fetches keep the one bus busy 4 x 8 = 32 cycles.
    Memory energy: x 64 x (1.0 + 0.1 + 0.1) + ya, yb 2 x 64 x (0.1 + 1.0) = 76.8 + 140.8 = 217.6 pJ
    (two fetches: 281.6); off-chip bits 3 x 64 = 192 (two fetches: 256)."""
    result = solve(plugins, hardware, write_mapping, (0, 1))
    inputs = [(t.tensor, t.src, t.start, t.end, t.bits, t.reason) for t in result.transfers if t.tensor == "x"]
    assert inputs == [("x", 2, 0, 8, 64, "input (multicast to cores 0, 1)")]
    tiles = sorted((t.node, t.core, t.start, t.end) for t in result.tiles)
    assert tiles == [("relu_a", 0, 8, 10), ("relu_b", 1, 10, 12)]
    assert result.totals.latency == 26
    assert result.totals.memory_energy_pj == pytest.approx(217.6)
    assert sum(t.bits for t in result.transfers) == 192
    choices = dict(result.groups[0].stats)["choices"]
    assert choices["input:relu_b:x#0"] == "[]->[1], plan 0, served by input:relu_a:x#0"
