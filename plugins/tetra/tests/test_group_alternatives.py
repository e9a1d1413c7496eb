"""The fused mapper's search alternatives for a group: readers of one fetched tensor pinned to one
core (:func:`stream_tetra.mapper.pinned_candidates`) and a group with nothing to stream, its shared
columns tiled (:func:`stream_tetra.mapper.column_candidates`). TETRA's own schedules (greedy off), one
8 bit/cycle bus, tetratoy cores (4 ops/cycle unless said, 0.1 pJ per bit), DRAM 1.0 pJ per bit.
"""

from __future__ import annotations

import pytest
from stream_tetra.mapper import MapperSettings, column_candidates, node_mapping, pinned_candidates
from test_shared_input import two_readers
from tetra_helpers import core
from tetra_workloads import A

from stream_core import RunOptions, run
from stream_core.hardware import load_accelerator
from stream_core.ir import LoopDim, Node, Operand, TensorSpec, Workload
from stream_core.ir.mapping import FusedGroup
from stream_core.testing import check_schedule

TETRA_ONLY = RunOptions(settings={"tetra.greedy": False})


def row_relu(name: str, src: str, dst: str) -> Node:
    access = (A("D"), A("K"))
    loops = [LoopDim("D", 1), LoopDim("K", 8)]
    return Node(name, "Relu", loops, [Operand("input", src, 8, access), Operand("output", dst, 8, access)])


def row_chain() -> Workload:
    """x (1 x 8 int8) -> relu_a -> h -> relu_b -> y: one row, so no row to stream."""
    tensors = {t: TensorSpec(t, (1, 8), "int8") for t in ("x", "h", "y")}
    nodes = [row_relu("relu_a", "x", "h"), row_relu("relu_b", "h", "y")]
    return Workload("row_chain", nodes, tensors, inputs=["x"], outputs=["y"])


def alternatives(find, workload: Workload, acc) -> list:
    """``find``'s candidates for the whole workload as one untiled group, each node on its own cores."""
    nodes = {n.name: node_mapping(n, acc, "homogeneous") for n in workload.nodes}
    seed = FusedGroup("g", [n.name for n in workload.nodes])
    return find(workload, acc, MapperSettings(), nodes, seed)


def test_readers_of_one_fetch_are_pinned_to_each_core_they_share(plugins, hardware):
    """relu_a and relu_b both read x; cores a and b differ (rates 4 and 1), so each node may run on
    either and the allocator picks: one candidate per core pins both there. A chain (h read once) has
    no such reader and gets none."""
    acc = load_accelerator(hardware([core("a"), core("b", rate=1)]), plugins)
    found = alternatives(pinned_candidates, two_readers(), acc)
    assert [c.label for c in found] == ["on core 0, untiled", "on core 1, untiled"]
    assert [{n: m.cores for n, m in c.nodes.items()} for c in found] == [
        {"relu_a": (0,), "relu_b": (0,)},
        {"relu_a": (1,), "relu_b": (1,)},
    ]
    assert alternatives(pinned_candidates, row_chain(), acc) == []


def test_pinned_readers_share_one_fetch(plugins, hardware):
    """Left open, TETRA fetches x for each reader: x [0, 8) and [8, 16), relu_a [8, 10), relu_b
    [16, 18), ya back [16, 24), yb [24, 32): 32 cycles. Pinned to core 0 one fetch serves both: x
    [0, 8), relu_a [8, 10), relu_b [10, 12), ya [10, 18), yb [18, 26): 26 cycles, memory energy
    3 x 64 bits x (1.0 + 0.1) = 211.2 pJ instead of 4 x 70.4 = 281.6."""
    outcome = run(two_readers(), hardware([core("a"), core("b", rate=1)]), plugins=plugins, options=TETRA_ONLY)
    result = outcome.result
    assert check_schedule(result, outcome.problem) == []
    assert sorted((t.tensor, t.dst, t.start, t.end) for t in result.transfers if t.tensor == "x") == [("x", 0, 0, 8)]
    assert sorted((t.node, t.core, t.start, t.end) for t in result.tiles) == [
        ("relu_a", 0, 8, 10),
        ("relu_b", 0, 10, 12),
    ]
    assert result.totals.latency == 26
    assert result.totals.memory_energy_pj == pytest.approx(211.2)


def test_a_single_row_streams_its_shared_columns_in_two_tiles(plugins, hardware):
    """Whole: x [0, 8), relu_a [8, 10), relu_b [10, 12), y back [12, 20): 20 cycles. The column axis
    K, shared by both relus, in two tiles of 4 (32 bits): x [0, 4) and [4, 8), relu_a [4, 5) and
    [8, 9), relu_b [5, 6) and [9, 10), y [8, 12) and [12, 16) (the bus is busy with x until 8):
    16 cycles. The same bits move: x and y 64 bits each at 1.0 + 0.1 pJ per bit, 16 ops at 0.5 pJ,
    148.8 pJ either way."""
    path = hardware([core("a")])
    (found,) = alternatives(column_candidates, row_chain(), load_accelerator(path, plugins))
    assert found.groups[0].tiles == (("relu_a", "K", 4), ("relu_b", "K", 4))
    outcome = run(row_chain(), path, plugins=plugins, options=TETRA_ONLY)
    result = outcome.result
    assert check_schedule(result, outcome.problem) == []
    assert sorted((t.tensor, t.start, t.end, t.bits) for t in result.transfers) == [
        ("x", 0, 4, 32),
        ("x", 4, 8, 32),
        ("y", 8, 12, 32),
        ("y", 12, 16, 32),
    ]
    assert result.totals.latency == 16
    assert result.totals.energy_pj == pytest.approx(148.8)
