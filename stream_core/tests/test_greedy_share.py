"""Greedy reads a box once where it can: a tile on a core sharing a memory reads a box an earlier fetch
left there, and a producer tile's output several cores read leaves its memory once, as a multicast.

Toy cores (tests/fixtures/example_plugin): latency = ceil(work / 4 MACs per cycle), one element of an
elementwise node is one unit of work; memories cost 0.1 pJ/bit (compute core) and 1.0 pJ/bit (DRAM).
8 int8 elements (64 bits) take 8 cycles on a link of 8 bits/cycle.
"""

from __future__ import annotations

import pytest
import yaml

from stream_core import run
from stream_core.ir import AffineExpr, FusedGroup, LoopDim, Mapping, Node, NodeMapping, Operand, TensorSpec, Workload
from stream_core.testing import check_schedule

A = AffineExpr.of


def relu(name: str, src: str, dst: str) -> Node:
    return Node(
        name, "Relu", [LoopDim("D0", 8)], [Operand("input", src, 8, (A("D0"),)), Operand("output", dst, 8, (A("D0"),))]
    )


def schedule(toy_plugins, hardware, nodes, inputs, outputs, cores):
    tensors = {t: TensorSpec(t, (8,), "int8") for n in nodes for t in (n.reads[0].tensor, n.output.tensor)}
    workload = Workload("share", nodes, tensors, inputs=inputs, outputs=outputs)
    mapping = Mapping({n: NodeMapping(n, c) for n, c in cores.items()}, (FusedGroup("g", tuple(cores)),))
    outcome = run(workload, hardware, mapping, plugins=toy_plugins)
    assert check_schedule(outcome.result, outcome.problem) == []
    result = outcome.result
    tiles = [(t.node, t.core, t.start, t.end) for t in result.tiles]
    transfers = [(t.tensor, t.src, t.dst, t.links, t.start, t.end, t.reason) for t in result.transfers]
    return result, tiles, transfers


def test_a_core_reads_the_box_a_fetch_left_in_the_memory_it_shares(toy_plugins, toy_hardware):
    """Cores 0 and 1 share a memory (core 1 reached through core 0's link to DRAM, 8 bits/cycle); core 2
    has its own link to DRAM of 4 bits/cycle. A: y = relu(x) on core 0, B: z = relu(x) on core 1 or 2
    (not a known core, so x is not kept for it). x [0,8) lands in the shared memory, A [8,10), y back
    [10,18) (the link is full duplex). B on core 1 reads that x in place (held on past A's end): [8,10);
    z back [18,26). Fetching x again instead, B would run [16,18) on core 1 (x [8,16)) or core 2 (x
    over its slower link [0,16)), x read off-chip twice. Memory: 3 x 64 bits x (1.0 + 0.1) pJ, against
    4 x 64 x 1.1."""
    links = [{"cores": [0, 3], "bandwidth": 8}, {"cores": [2, 3], "bandwidth": 4}]
    path = toy_hardware(n=3, links=links)
    data = yaml.safe_load(path.read_text())
    data["core_memory_sharing"] = ["0, 1"]
    path.write_text(yaml.safe_dump(data))
    result, tiles, transfers = schedule(
        toy_plugins, path, [relu("A", "x", "y"), relu("B", "x", "z")], ["x"], ["y", "z"], {"A": (0,), "B": (1, 2)}
    )
    assert tiles == [("A", 0, 8, 10), ("B", 1, 8, 10)]
    assert transfers == [
        ("x", 3, 0, (0,), 0, 8, "operand"),
        ("y", 0, 3, (0,), 10, 18, "writeback"),
        ("z", 1, 3, (0,), 18, 26, "writeback"),
    ]
    assert result.totals.latency == 26
    assert result.totals.memory_energy_pj == pytest.approx(3 * 64 * 1.1)


def test_a_producer_tile_read_on_two_cores_leaves_its_memory_once(toy_plugins, toy_hardware):
    """P: y = relu(x) on core 0; B: z1 = relu(y) on core 1, C: z2 = relu(y) on core 2. Core 0 has a link
    to DRAM (3) and one to each of cores 1 and 2; cores 1 and 2 each a link to DRAM (8 bits/cycle).
    x [0,8), P [8,10); y to core 1 [10,18) over link 1, B [18,20); C receives that transfer too, its
    link 2 added to the tree over the same span (two unicasts would end at 18 as well): one read of
    y, C [18,20). z1, z2 back in parallel [20,28). Memory: x 64 x (1.0 + 0.1), y 64 x (0.1 + 2 x 0.1),
    z1 and z2 64 x (0.1 + 1.0) each: 230.4 pJ (y read twice: 236.8)."""
    links = [{"cores": pair, "bandwidth": 8} for pair in ([0, 3], [0, 1], [0, 2], [1, 3], [2, 3])]
    nodes = [relu("P", "x", "y"), relu("B", "y", "z1"), relu("C", "y", "z2")]
    result, tiles, transfers = schedule(
        toy_plugins, toy_hardware(n=3, links=links), nodes, ["x"], ["z1", "z2"], {"P": (0,), "B": (1,), "C": (2,)}
    )
    assert tiles == [("P", 0, 8, 10), ("B", 1, 18, 20), ("C", 2, 18, 20)]
    assert transfers == [
        ("x", 3, 0, (0,), 0, 8, "operand"),
        ("y", 0, 1, (1, 2), 10, 18, "operand (multicast to cores 1, 2)"),
        ("z1", 1, 3, (3,), 20, 28, "writeback"),
        ("z2", 2, 3, (4,), 20, 28, "writeback"),
    ]
    assert result.totals.latency == 28
    assert result.totals.memory_energy_pj == pytest.approx(64 * 1.1 + 64 * 0.3 + 2 * 64 * 1.1)
