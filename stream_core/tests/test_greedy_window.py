"""Greedy fetches only the part of a box of an off-chip tensor its memory does not hold yet, when that
part is one box (a sliding window one column on), and the whole box when it is not or memory is short.

Toy cores (tests/fixtures/example_plugin): latency = ceil(work / 4 MACs per cycle), one element of an
elementwise node is one unit of work (0.5 pJ); memories cost 0.1 pJ/bit (compute core) and 1.0 pJ/bit
(DRAM), one bus of 8 bits/cycle: 4 int8 elements (32 bits) take 4 cycles, one takes 1.
"""

from __future__ import annotations

import pytest
from core_test_support import TOY_COMPUTE

from stream_core import run
from stream_core.builtin.greedy import _missing
from stream_core.ir import AffineExpr, FusedGroup, LoopDim, Mapping, Node, NodeMapping, Operand, TensorSpec, Workload
from stream_core.testing import check_schedule

A = AffineExpr.of


def window(name: str, start: int, size: int, out: str) -> Node:
    """``out[d] = relu(x[start + d])`` for ``d < size``."""
    operands = [Operand("input", "x", 8, (A("D0", offset=start),)), Operand("output", out, 8, (A("D0"),))]
    return Node(name, "Relu", [LoopDim("D0", size)], operands)


def schedule(toy_plugins, toy_hardware, windows, memory_bits=4096):
    """Each window (start, size) read by a node of its own on core 0, its result written back."""
    nodes = [window(f"N{i}", start, size, f"y{i}") for i, (start, size) in enumerate(windows)]
    tensors = {"x": TensorSpec("x", (8,), "int8")}
    tensors |= {f"y{i}": TensorSpec(f"y{i}", (size,), "int8") for i, (_, size) in enumerate(windows)}
    workload = Workload("window", nodes, tensors, inputs=["x"], outputs=[f"y{i}" for i in range(len(windows))])
    names = tuple(n.name for n in nodes)
    mapping = Mapping({n: NodeMapping(n, (0,)) for n in names}, (FusedGroup("g", names),))
    hardware = toy_hardware(n=1, compute={**TOY_COMPUTE, "memory_bits": memory_bits})
    outcome = run(workload, hardware, mapping, plugins=toy_plugins)
    assert check_schedule(outcome.result, outcome.problem) == []
    result = outcome.result
    tiles = [(t.node, t.start, t.end) for t in result.tiles]
    transfers = [(t.tensor, t.start, t.end, t.bits) for t in result.transfers]
    return result, tiles, transfers


def test_missing_is_the_one_box_a_held_box_lacks():
    rows = ((0, 2),)
    assert _missing(((0, 4), *rows), ((1, 5), *rows)) == ((4, 5), *rows)  # one column on
    assert _missing(((2, 6), *rows), ((1, 5), *rows)) == ((1, 2), *rows)  # one column back
    assert _missing(((0, 4), (0, 1)), ((1, 5), (0, 2))) is None  # short on two axes
    assert _missing(((1, 3),), ((0, 4),)) is None  # lacks both ends: two boxes
    assert _missing(((0, 4),), ((4, 8),)) is None  # no overlap
    assert _missing(((0, 4),), ((1, 3),)) is None  # holds it all: nothing to fetch
    assert _missing(None, ((1, 3),)) is None


def test_the_next_window_fetches_only_its_new_column(toy_plugins, toy_hardware):
    """N0 reads x[0:4], N1 x[1:5]. x[0,4) (32 bits) [0,4), N0 [4,5), y0 back [5,9). N1, prefetched from
    N0's start (4), holds x[0,4) on and fetches only x[4,5) (8 bits) in the bus's gap [4,5): N1 [5,6),
    y1 back [9,13); 13 cycles. Fetching x[1,5) whole would wait for the bus [9,13): N1 [13,14), y1
    [14,18). x is read from DRAM 40 bits (not 64): memory 40 x 1.1 + 2 x 32 x 1.1 = 114.4 pJ; compute
    2 x 4 x 0.5 pJ, 118.4 pJ in all; x[0,4) held until N1 ends (6)."""
    result, tiles, transfers = schedule(toy_plugins, toy_hardware, [(0, 4), (1, 4)])
    assert tiles == [("N0", 4, 5), ("N1", 5, 6)]
    assert transfers == [("x", 0, 4, 32), ("x", 4, 5, 8), ("y0", 5, 9, 32), ("y1", 9, 13, 32)]
    assert result.totals.latency == 13
    assert result.totals.memory_energy_pj == pytest.approx(114.4)
    assert result.totals.compute_energy_pj == pytest.approx(4.0)
    assert result.totals.transfer_energy_pj == 0  # the toy bus costs nothing per bit
    assert result.totals.energy_pj == pytest.approx(118.4)
    # at [5,6): x[0,4), x[4,5), y0 (until written back) and y1
    assert dict(result.memory[0])[5] == 32 + 8 + 32 + 32
    assert dict(result.memory[0])[6] == 32 + 32  # both copies of x leave when N1 ends


def test_a_window_reads_every_copy_it_overlaps(toy_plugins, toy_hardware):
    """N2 reads x[2:6] after N0 (x[0:4]) and N1 (x[1:5]): x[0,4) lacks [4,6) of it, x[4,5) then lacks
    [5,6), the only part fetched (8 bits), once the bus is free after y1 [9,13): [13,14), N2 [14,15),
    y2 back [15,19). x is read 48 bits, not 96."""
    result, tiles, transfers = schedule(toy_plugins, toy_hardware, [(0, 4), (1, 4), (2, 4)])
    assert tiles == [("N0", 4, 5), ("N1", 5, 6), ("N2", 14, 15)]
    assert [t for t in transfers if t[0] == "x"] == [("x", 0, 4, 32), ("x", 4, 5, 8), ("x", 13, 14, 8)]
    assert result.totals.latency == 19
    assert result.totals.memory_energy_pj == pytest.approx((48 + 3 * 32) * 1.1)


def test_memory_short_fetches_the_whole_window(toy_plugins, toy_hardware):
    """On a 64-bit memory N1 cannot hold x[0,4) on beside x[4,5) and y1 (72 bits): it fetches x[1,5)
    whole once x[0,4) and y0 have left (9): [9,13), N1 [13,14), y1 [14,18). x is read 64 bits."""
    result, tiles, transfers = schedule(toy_plugins, toy_hardware, [(0, 4), (1, 4)], memory_bits=64)
    assert tiles == [("N0", 4, 5), ("N1", 13, 14)]
    assert transfers == [("x", 0, 4, 32), ("y0", 5, 9, 32), ("x", 9, 13, 32), ("y1", 14, 18, 32)]
    assert result.totals.memory_energy_pj == pytest.approx(4 * 32 * 1.1)
    assert max(bits for _, bits in result.memory[0]) == 64


def test_a_box_lacking_both_ends_is_fetched_whole(toy_plugins, toy_hardware):
    """N0 reads x[1:3], N1 x[0:4]: what x[1,3) lacks of x[0,4) is two boxes, so N1 fetches x[0,4)
    (32 bits) once N0 starts: x[1,3) [0,2), N0 [2,3), y0 (16 bits) back [3,5), x[0,4) [5,9), N1
    [9,10), y1 [10,14)."""
    result, tiles, transfers = schedule(toy_plugins, toy_hardware, [(1, 2), (0, 4)])
    assert tiles == [("N0", 2, 3), ("N1", 9, 10)]
    assert transfers == [("x", 0, 2, 16), ("y0", 3, 5, 16), ("x", 5, 9, 32), ("y1", 10, 14, 32)]
    assert result.totals.memory_energy_pj == pytest.approx((16 + 32 + 16 + 32) * 1.1)
