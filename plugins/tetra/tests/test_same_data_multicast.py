"""Destinations that need the same data from one source get it as one multicast over the union of
their routes (read once, each link crossed once), as an AIE object FIFO broadcasts a tile.

Workload: ``mm`` = X[2,4] @ W[4,4] (int8: x 64 bits, w 128, y 64) split over cores 0-3 by rows D and
columns K (part ``2d + k`` on core ``2d + k``): cores 0 and 1 read x's first row (32 bits), 2 and 3 its
second; cores 0 and 2 read w's left half (64 bits), 1 and 3 its right half. DRAM (core 4) has one
8 bit/cycle link into each "column", 4-0 and 4-2, and each column chains on, 0-1 and 2-3. tetratoy
cores: 0.1 pJ per bit read or written, DRAM 1.0.
"""

from __future__ import annotations

import pytest
from tetra_helpers import core
from tetra_workloads import matmul

from stream_core import RunOptions, run
from stream_core.ir import FusedGroup, Mapping, NodeMapping
from stream_core.testing import check_schedule

COLUMNS = [
    {"type": "link", "cores": [4, 0], "bandwidth": 8},
    {"type": "link", "cores": [0, 1], "bandwidth": 8},
    {"type": "link", "cores": [4, 2], "bandwidth": 8},
    {"type": "link", "cores": [2, 3], "bandwidth": 8},
]
GRID = Mapping({"mm": NodeMapping("mm", (0, 1, 2, 3), (("D", 2), ("K", 2)))}, (FusedGroup("g", ("mm",)),))


def test_each_row_of_x_goes_once_down_its_column(plugins, hardware):
    """x's first row goes 4 -> 0 -> 1 once (32 bits, 4 cycles), its second 4 -> 2 -> 3 at the same time:
    2 x 32 x (1.0 + 0.1 + 0.1) = 76.8 pJ; a unicast per core would send each row twice over the
    column's first link (8 cycles, 4 x 32 x 1.1 = 140.8 pJ), the hull of both rows to all four 64 bits
    over every link (8 cycles, 64 x 1.4 = 89.6 pJ). Each w half goes to its two columns once:
    2 x 64 x 1.2 = 153.6; y's quarters come back: 4 x 16 x 1.1 = 70.4. 300.8 pJ in all."""
    options = RunOptions(settings={"tetra.greedy": False})
    outcome = run(matmul(2, 4, 4), hardware([core(c) for c in "abcd"], COLUMNS), GRID, plugins=plugins, options=options)
    assert check_schedule(outcome.result, outcome.problem) == []
    x = sorted((t.src, t.bits, t.end - t.start, t.reason) for t in outcome.result.transfers if t.tensor == "x")
    assert x == [
        (4, 32, 4, "input (multicast to cores 0, 1)"),
        (4, 32, 4, "input (multicast to cores 2, 3)"),
    ]
    w = sorted((t.bits, t.reason) for t in outcome.result.transfers if t.tensor == "w")
    assert w == [(64, "input (multicast to cores 0, 2)"), (64, "input (multicast to cores 1, 3)")]
    assert outcome.result.totals.memory_energy_pj == pytest.approx(300.8)
