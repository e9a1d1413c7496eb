"""One off-chip fetch shared by readers pinned to different cores, or separate fetches when memory
is tight (the MILP chooses; ``steady._share_across``).

Workload ``lagging`` (int8, 4 elements per tensor, tiled one element per step):
``smooth1: x -> s1`` and ``smooth2: s1 -> s2`` (each element from its neighbours: a halo of one, so
smooth2 runs one iteration after smooth1) on core 0, ``add: x, s2 -> y`` on core 1. add reads
``x[i]`` in iteration ``i + 1``: inside what smooth1's fetch of x delivered (the whole of x, or
``x[i-1..i+1]`` per step), not equal to it. tetratoy cores (4 ops/cycle, 0.1 pJ per bit read or
written), DRAM as core 2 (1.0 pJ per bit), one 8 bit/cycle bus.

Core 1 holds add's output ring and s2's ring (2 x 8 bits each, double buffered) and its x:

* shared: the whole x at once (32 bits), or per step the part of ``x[i-1..i+1]`` add reads, which
  it keeps one iteration longer (blocks 1, 2, 3 hold x[0], x[1], x[2..3]: up to 16 bits, ring of 2):
  64 bits in all either way;
* its own fetch: one element per step just before add reads it (ring of 2 x 8 bits): 48 bits.
"""

from __future__ import annotations

import pytest
from tetra_helpers import core
from tetra_workloads import A

from stream_core import RunOptions, run
from stream_core.ir import AffineExpr, LoopDim, Node, Operand, TensorSpec, Workload
from stream_core.testing import check_schedule


def smooth(name: str, src: str, dst: str, n: int) -> Node:
    """``dst[i]`` from ``src[i-1..i+1]`` (zero padded): loops D0 (n) and T (3)."""
    window = AffineExpr((("D0", 1), ("T", 1)), -1)
    reads = [Operand("input", src, 8, (window,)), Operand("output", dst, 8, (A("D0"),))]
    return Node(name, "Conv", [LoopDim("D0", n), LoopDim("T", 3)], reads)


def lagging(n: int = 4) -> Workload:
    tensors = {t: TensorSpec(t, (n,), "int8") for t in ("x", "s1", "s2", "y")}
    operands = [Operand("input", "x", 8, (A("D0"),)), Operand("input", "s2", 8, (A("D0"),))]
    add = Node("add", "Add", [LoopDim("D0", n)], [*operands, Operand("output", "y", 8, (A("D0"),))])
    nodes = [smooth("smooth1", "x", "s1", n), smooth("smooth2", "s1", "s2", n), add]
    return Workload("lagging", nodes, tensors, inputs=["x"], outputs=["y"])


def solve(plugins, hardware, write_mapping, memory_bits: int):
    acc = hardware([core("a"), core("b", memory_bits=memory_bits)])
    mapping = {
        "layers": [{"name": n, "core_allocation": [[c]]} for n, c in (("smooth1", 0), ("smooth2", 0), ("add", 1))],
        "fused_groups": [
            {"name": "g", "layers": ["smooth1", "smooth2", "add"], "intra_core_tiling": [{"dim": "add.D0", "tile": 1}]}
        ],
    }
    options = RunOptions(settings={"tetra.greedy": False})  # TETRA's own schedule
    outcome = run(lagging(), acc, write_mapping(mapping), plugins=plugins, options=options)
    assert check_schedule(outcome.result, outcome.problem) == []
    return outcome.result


def fetches(result) -> list[tuple[int, int, int, int, str]]:
    return [(t.dst, t.start, t.end, t.bits, t.reason) for t in result.transfers if t.tensor == "x"]


def test_a_roomy_memory_takes_one_multicast_fetch(plugins, hardware, write_mapping):
    """x read once (32 bits over the bus, [0, 4)) for both cores. Memory energy: x 32 x (1.0 + 0.1 +
    0.1) = 38.4, s2 4 x 8 x (0.1 + 0.1) = 6.4, y 32 x (0.1 + 1.0) = 35.2: 80.0 pJ; off-chip bits 64;
    17 cycles; core 1 holds 64 bits."""
    result = solve(plugins, hardware, write_mapping, 4096)
    assert fetches(result) == [(0, 0, 4, 32, "input (multicast to cores 0, 1)")]
    assert result.totals.memory_energy_pj == pytest.approx(80.0)
    assert sum(t.bits for t in result.transfers if 2 in (t.src, t.dst)) == 64
    assert result.totals.latency == 17
    assert max(bits for _, bits in _occupancy(result, 1)) == 64


def test_a_tight_memory_keeps_the_fetches_apart(plugins, hardware, write_mapping):
    """63 bits on core 1: a shared delivery needs 64, add's own fetch 48. x comes whole to core 0
    (32 bits, [0, 4)) and one element at a time to core 1 (4 x 8 bits). Memory energy: x 2 x 32 x 1.1
    = 70.4, s2 6.4, y 35.2: 112.0 pJ; off-chip bits 96; 19 cycles (two more bus cycles for x)."""
    result = solve(plugins, hardware, write_mapping, 63)
    assert [(dst, bits) for dst, _, _, bits, _ in fetches(result)] == [(0, 32)] + [(1, 8)] * 4
    assert result.totals.memory_energy_pj == pytest.approx(112.0)
    assert sum(t.bits for t in result.transfers if 2 in (t.src, t.dst)) == 96
    assert result.totals.latency == 19
    assert max(bits for _, bits in _occupancy(result, 1)) == 48


def _occupancy(result, core_id: int) -> list[tuple[int, int]]:
    """(time, bits held) after each change of core ``core_id``'s memory."""
    held, out = 0, []
    for time, change in sorted(result.memory[core_id]):
        held += change
        out.append((time, held))
    return out
