"""A reader whose tiles lie inside a block another reader fetches no later shares that fetch, even in
other iterations and when it comes first in the graph (attention's Q projection tiles I by rows,
K's reads I whole): the block stays on chip until its last reader.

Workload: ``x`` (8 int8 = 64 bits) read in two tiles of 4 by ``tiled`` (-> ``ya``) and whole by
``whole`` (-> ``yb``), one group on core 0. tetratoy cores (4 ops/cycle, 0.1 pJ per bit), DRAM as
core 1 (1.0 pJ per bit), one 8 bit/cycle bus.
"""

from __future__ import annotations

import pytest
from tetra_helpers import core
from tetra_workloads import elementwise

from stream_core import RunOptions, run
from stream_core.ir import TensorSpec, Workload
from stream_core.testing import check_schedule


def tiled_then_whole() -> Workload:
    tensors = {name: TensorSpec(name, (8,), "int8") for name in ("x", "ya", "yb")}
    nodes = [elementwise("tiled", "Relu", "x", "ya", 8), elementwise("whole", "Relu", "x", "yb", 8)]
    return Workload("tiled_then_whole", nodes, tensors, inputs=["x"], outputs=["ya", "yb"])


def test_row_tiles_read_from_a_whole_block_fetched_once(plugins, hardware, write_mapping):
    """x goes over the bus once (64 bits, 8 cycles) and serves both of tiled's steps and whole's:
    memory energy (64 in + 64 ya out + 64 yb out) x (1.0 + 0.1) = 211.2 pJ; a fetch of its own for
    tiled (64 bits in all, whatever its stop level) would add 64 x 1.1 = 70.4."""
    mapping = {
        "layers": [{"name": n, "core_allocation": [[0]]} for n in ("tiled", "whole")],
        "fused_groups": [
            {"name": "g", "layers": ["tiled", "whole"], "intra_core_tiling": [{"dim": "tiled.D0", "tile": 4}]}
        ],
    }
    options = RunOptions(settings={"tetra.greedy": False})
    outcome = run(tiled_then_whole(), hardware([core("a")]), write_mapping(mapping), plugins=plugins, options=options)
    result = outcome.result
    assert check_schedule(result, outcome.problem) == []
    assert sorted(t.index for t in result.tiles if t.node == "tiled") == [0, 1]
    assert [(t.src, t.dst, t.bits) for t in result.transfers if t.tensor == "x"] == [(1, 0, 64)]
    assert result.totals.memory_energy_pj == pytest.approx(211.2)
    slots = dict(result.groups[0].stats)["slots"]
    assert [key for keys in slots.values() for key in keys if key.startswith("input")] == ["input:whole:x#0"]
