"""Greedy keeps a box of an off-chip tensor a memory received for the later tiles there that read a box
inside it, drops it when memory runs short, and delivers a fetch to another core's later readers.

Toy cores (tests/fixtures/example_plugin): latency = ceil(work / 4 MACs per cycle), one element of an
elementwise node is one unit of work; memories cost 0.1 pJ/bit (compute core) and 1.0 pJ/bit (DRAM),
one bus of 8 bits/cycle: 8 int8 elements (64 bits) take 8 cycles, 4 take 4.
"""

from __future__ import annotations

import pytest
from core_test_support import TOY_COMPUTE

from stream_core import run
from stream_core.ir import AffineExpr, FusedGroup, LoopDim, Mapping, Node, NodeMapping, Operand, TensorSpec, Workload
from stream_core.testing import check_schedule

A = AffineExpr.of


def elementwise(name: str, op: str, reads: list[tuple[str, int]], out: str, size: int) -> Node:
    """``out[d] = op(read[start + d], ...)`` for ``d < size``; each read is (tensor, start)."""
    operands = [Operand("input", tensor, 8, (A("D0", offset=start),)) for tensor, start in reads]
    return Node(name, op, [LoopDim("D0", size)], [*operands, Operand("output", out, 8, (A("D0"),))])


def schedule(toy_plugins, toy_hardware, nodes, sizes, inputs, outputs, cores, memory_bits=4096):
    tensors = {name: TensorSpec(name, (size,), "int8") for name, size in sizes.items()}
    workload = Workload("resident", nodes, tensors, inputs=inputs, outputs=outputs)
    mapping = Mapping({n: NodeMapping(n, (c,)) for n, c in cores.items()}, (FusedGroup("g", tuple(cores)),))
    hardware = toy_hardware(n=max(cores.values()) + 1, compute={**TOY_COMPUTE, "memory_bits": memory_bits})
    outcome = run(workload, hardware, mapping, plugins=toy_plugins)
    assert check_schedule(outcome.result, outcome.problem) == []
    result = outcome.result
    tiles = [(t.node, t.core, t.start, t.end) for t in result.tiles]
    transfers = [(t.tensor, t.dst, t.start, t.end, t.bits, t.reason) for t in result.transfers]
    return result, tiles, transfers


def three_nodes(x_of_d: int) -> list[Node]:
    """A: y = relu(x) (8), B: z = relu(y) (8), D: w = z[0:4] + x[s:s+4], s = ``x_of_d``."""
    return [
        elementwise("A", "Relu", [("x", 0)], "y", 8),
        elementwise("B", "Relu", [("y", 0)], "z", 8),
        elementwise("D", "Add", [("z", 0), ("x", x_of_d)], "w", 4),
    ]


SIZES = {"x": 8, "y": 8, "z": 8, "w": 4}


def test_a_later_tile_reads_a_kept_box_holding_its_own(toy_plugins, toy_hardware):
    """x [0,8) (64 bits), A [8,10), B reads y in place [10,12); D's x[2:6] lies inside the x core 0
    received, kept for it: no second read, D [12,13) (4 elements), w (32 bits) written back [13,17).
    Memory: x, w read once from DRAM (1.0 pJ/bit) and written once (0.1); x held until D ends."""
    result, tiles, transfers = schedule(
        toy_plugins, toy_hardware, three_nodes(2), SIZES, ["x"], ["w"], {"A": 0, "B": 0, "D": 0}
    )
    assert tiles == [("A", 0, 8, 10), ("B", 0, 10, 12), ("D", 0, 12, 13)]
    assert transfers == [("x", 0, 0, 8, 64, "operand"), ("w", 1, 13, 17, 32, "writeback")]
    assert result.totals.latency == 17
    assert result.totals.memory_energy_pj == pytest.approx((64 + 32) * 1.1)
    # at [10,12): x, y and z (64 each); y leaves when B ends, x and z when D does
    assert max(bits for _, bits in result.memory[0]) == 64 + 64 + 64
    assert dict(result.memory[0])[13] == 32  # x, z freed when D ends


def test_memory_pressure_drops_the_kept_box_and_its_reader_fetches_again(toy_plugins, toy_hardware):
    """The same on a 160-bit memory. B needs y (64, in place) and z (64) beside the kept x (64): 192
    bits do not fit, so x is dropped when A ends (10) and B runs [10,12). D waits for y to leave (12)
    and fetches x[2:6] (32 bits) again [12,16), runs [16,17); w goes back [17,21)."""
    result, tiles, transfers = schedule(
        toy_plugins, toy_hardware, three_nodes(2), SIZES, ["x"], ["w"], {"A": 0, "B": 0, "D": 0}, memory_bits=160
    )
    assert tiles == [("A", 0, 8, 10), ("B", 0, 10, 12), ("D", 0, 16, 17)]
    assert transfers == [
        ("x", 0, 0, 8, 64, "operand"),
        ("x", 0, 12, 16, 32, "operand"),
        ("w", 1, 17, 21, 32, "writeback"),
    ]
    assert result.totals.memory_energy_pj == pytest.approx((64 + 32 + 32) * 1.1)
    assert max(bits for _, bits in result.memory[0]) <= 160


def test_a_box_not_inside_what_the_core_holds_fetches_only_what_it_lacks(toy_plugins, toy_hardware):
    """A reads only x[0:4] (its 4 elements): [0,4), A [4,5), B [5,6). D's x[2:6] is not inside it, so
    nothing is kept for D past A; but x[0,4), closed when A ends (5), is still there when D's prefetch
    starts (B's start, 5): D holds it on and fetches only x[4,6) (16 bits) [5,7), D [7,8); w back
    [8,12). (Before greedy fetched the missing part alone, D fetched x[2,6) whole: [5,9), D [9,10).)"""
    nodes = [
        elementwise("A", "Relu", [("x", 0)], "y", 4),
        elementwise("B", "Relu", [("y", 0)], "z", 4),
        elementwise("D", "Add", [("z", 0), ("x", 2)], "w", 4),
    ]
    sizes = {"x": 8, "y": 4, "z": 4, "w": 4}
    result, tiles, transfers = schedule(toy_plugins, toy_hardware, nodes, sizes, ["x"], ["w"], {"A": 0, "B": 0, "D": 0})
    assert tiles == [("A", 0, 4, 5), ("B", 0, 5, 6), ("D", 0, 7, 8)]
    assert transfers == [
        ("x", 0, 0, 4, 32, "operand"),
        ("x", 0, 5, 7, 16, "operand"),
        ("w", 1, 8, 12, 32, "writeback"),
    ]
    assert result.totals.memory_energy_pj == pytest.approx((32 + 16 + 32) * 1.1)


def test_a_fetch_is_delivered_to_a_later_reader_on_another_core(toy_plugins, toy_hardware):
    """A: y = relu(x) on core 0, E: y2 = relu(x2) on core 1, D: w = x + y2 on core 1.

    x's fetch [0,8) is written to core 1 too (D reads it there later, and core 1 has room): A [8,10),
    y back [10,18); x2 waits for the bus [18,26), E [26,28); D reads both in place [28,30), w back
    [30,38). Fetching x for D instead would start once E starts (26): [26,34), D [34,36), w [36,44).
    x is read from DRAM once and written to both cores."""
    nodes = [
        elementwise("A", "Relu", [("x", 0)], "y", 8),
        elementwise("E", "Relu", [("x2", 0)], "y2", 8),
        elementwise("D", "Add", [("x", 0), ("y2", 0)], "w", 8),
    ]
    sizes = {name: 8 for name in ("x", "y", "x2", "y2", "w")}
    result, tiles, transfers = schedule(
        toy_plugins, toy_hardware, nodes, sizes, ["x", "x2"], ["y", "w"], {"A": 0, "E": 1, "D": 1}
    )
    assert tiles == [("A", 0, 8, 10), ("E", 1, 26, 28), ("D", 1, 28, 30)]
    assert transfers == [
        ("x", 0, 0, 8, 64, "operand (multicast to cores 0, 1)"),
        ("y", 2, 10, 18, 64, "writeback"),
        ("x2", 1, 18, 26, 64, "operand"),
        ("w", 2, 30, 38, 64, "writeback"),
    ]
    assert result.totals.latency == 38
    # x: 64 bits read (1.0) and written twice (0.1); x2, y, w: read and written once
    assert result.totals.memory_energy_pj == pytest.approx(64 * 1.2 + 3 * 64 * 1.1)
    assert dict(result.memory[1])[0] == 64  # x held on core 1 from its fetch


def delivered_early(toy_plugins, toy_hardware, memory_bits):
    """Core 1 has a link of its own to DRAM (16 bits/cycle: 64 bits in 4 cycles) beside the bus (8 bits/cycle)
    it shares with core 0. E1, E2, E3 on core 1 read x2, x3, x4 over that link (E1's from 0, the next ones
    from their predecessor's start): [0,4) E1 [4,6), [4,8) E2 [8,10), [8,12) E3 [12,14); y2, y3, y4 go back
    over it [6,10), [10,14), [14,18). A on core 0 then fetches x over the bus [0,8), A [8,10), y back [10,18);
    D on core 1 reads the same x later. The fetch starts (0) before core 1's latest start (12), so
    E3's planning stopped counting x2 (held [0,6) until E1 ended, before E2's start): the memory check
    counts it again, with every buffer held after 0 (y2, x3, y3, x4, y4: 320 bits), as if all were held
    at once: x fits when 64 + 64 + 320 = 448 bits do."""
    nodes = [
        elementwise("E1", "Relu", [("x2", 0)], "y2", 8),
        elementwise("E2", "Relu", [("x3", 0)], "y3", 8),
        elementwise("E3", "Relu", [("x4", 0)], "y4", 8),
        elementwise("A", "Relu", [("x", 0)], "y", 8),
        elementwise("D", "Relu", [("x", 0)], "w", 8),
    ]
    tensors = {name: TensorSpec(name, (8,), "int8") for name in ("x", "y", "x2", "y2", "x3", "y3", "x4", "y4", "w")}
    workload = Workload("early", nodes, tensors, ["x", "x2", "x3", "x4"], ["y", "y2", "y3", "y4", "w"])
    cores = {"E1": 1, "E2": 1, "E3": 1, "A": 0, "D": 1}
    mapping = Mapping({n: NodeMapping(n, (c,)) for n, c in cores.items()}, (FusedGroup("g", tuple(cores)),))
    links = [{"type": "bus", "cores": [0, 1, 2], "bandwidth": 8}, {"cores": [1, 2], "bandwidth": 16}]
    hardware = toy_hardware(n=2, links=links, compute={**TOY_COMPUTE, "memory_bits": memory_bits})
    outcome = run(workload, hardware, mapping, plugins=toy_plugins)
    assert check_schedule(outcome.result, outcome.problem) == []
    result = outcome.result
    tiles = [(t.node, t.core, t.start, t.end) for t in result.tiles]
    transfers = [(t.tensor, t.dst, t.links, t.start, t.end, t.reason) for t in result.transfers if t.tensor == "x"]
    assert tiles[:2] == [("E1", 1, 4, 6), ("A", 0, 8, 10)]
    assert tiles[2:4] == [("E2", 1, 8, 10), ("E3", 1, 12, 14)]
    assert result.totals.latency == 22  # w waits for y4 on core 1's link: [18,22)
    return result, tiles[4], transfers


def test_a_fetch_starting_before_the_readers_core_last_start_is_delivered_when_it_fits(toy_plugins, toy_hardware):
    """448 bits fit: x [0,8) is written to cores 0 and 1, D reads it in place once E3 ends: [14,16). x is
    read from DRAM once (64 x 1.0 pJ) and written twice (2 x 64 x 0.1); x2, x3, x4 and the five results
    move once: 8 x 64 x 1.1 pJ. Core 1 truly holds 320 bits at most (at [8,10): x, y2, x3, y3, x4)."""
    result, d, transfers = delivered_early(toy_plugins, toy_hardware, 448)
    assert d == ("D", 1, 14, 16)
    assert transfers == [("x", 0, (0,), 0, 8, "operand (multicast to cores 0, 1)")]
    assert result.totals.memory_energy_pj == pytest.approx(64 * 1.2 + 8 * 64 * 1.1)
    assert max(bits for _, bits in result.memory[1]) == 320
    assert dict(result.memory[1])[0] == 128  # x2 and x from 0


def test_a_delivery_is_refused_when_buffers_no_longer_counted_leave_no_room(toy_plugins, toy_hardware):
    """On a 447-bit memory x is not delivered (384 bits fit without x2, 448 not): D fetches x itself over
    core 1's link once E3 starts [12,16), D [16,18); x read from DRAM twice: 10 x 64 x 1.1 pJ."""
    result, d, transfers = delivered_early(toy_plugins, toy_hardware, 447)
    assert d == ("D", 1, 16, 18)
    assert transfers == [("x", 0, (0,), 0, 8, "operand"), ("x", 1, (1,), 12, 16, "operand")]
    assert result.totals.memory_energy_pj == pytest.approx(10 * 64 * 1.1)
