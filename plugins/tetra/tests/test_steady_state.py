"""The steady-state analysis on a halo case, checked by hand.

Two 3x3 convolutions (padding 1) on 4x4 images, tiled one output row (OY) per tile: 4 steps each.
Conv2's row k reads conv1 rows k-1..k+1, so it can only run once conv1's row k+1 exists.
"""

from __future__ import annotations

import numpy as np
from stream_tetra.iteration_space import reuse_levels, ring_depth
from stream_tetra.settings import TetraSettings
from stream_tetra.steady import build_steady
from tetra_helpers import core
from tetra_workloads import two_conv

from stream_core.context import RunContext, RunOptions
from stream_core.pipeline import PipelineState, cost_stage, map_stage, parse_stage


def problem(plugins, workload, hardware_path, mapping_path):
    context = RunContext(plugins=plugins, options=RunOptions())
    state = PipelineState(workload, hardware_path, mapping_path)
    for stage in (parse_stage, map_stage, cost_stage):
        stage(state, context)
    return state.problem


MAPPING = {
    "layers": [{"name": "conv1", "core_allocation": [[0]]}, {"name": "conv2", "core_allocation": [[1]]}],
    "fused_groups": [
        {
            "name": "g",
            "layers": ["conv1", "conv2"],
            "intra_core_tiling": [{"dim": "conv1.D2", "tile": 1}, {"dim": "conv2.D2", "tile": 1}],
        }
    ],
}


def test_halo_lags_the_consumer_by_one_iteration(plugins, hardware, write_mapping):
    """conv1 fires rows 0..3 in iterations 0..3; conv2's row k needs conv1 row min(k+1, 3), so it
    fires in iterations 1, 2, 3, 4 (5 iterations in all). conv1 row m is last read by conv2 row m+1
    (iteration m+2; row 3 by row 3, in iteration 4): delivered [0,1,2,3], last read [2,3,4,4].
    Row f+d may take row f's buffer slot only if it arrives after that last read: d=2 fails
    (row 2 arrives in iteration 2, row 0 is read then), d=3 works (row 3 in iteration 3 > 2), one
    iteration apart. Double buffering adds a slot: 4 slots hold every row (nothing is overwritten)."""
    p = problem(plugins, two_conv(), hardware([core("a"), core("b")]), write_mapping(MAPPING))
    steady = build_steady(p, p.mapping.groups[0], TetraSettings())
    assert steady.nodes["conv1"].iterations.tolist() == [0, 1, 2, 3]
    assert steady.nodes["conv2"].iterations.tolist() == [1, 2, 3, 4]
    assert steady.iterations == 5 and steady.steady_iterations == 4
    edge = next(a for a in steady.activities if a.kind == "edge")
    assert (edge.rings[-1].depth, edge.rings[-1].distance) == (4, None)
    ring = ring_depth(np.array([0, 1, 2, 3]), np.array([2, 3, 4, 4]), double_buffer=False)
    assert (ring.depth, ring.distance) == (3, 1)
    assert (ring.writes.tolist(), ring.reads.tolist()) == ([3], [2])  # row 3 takes row 0's slot


def test_reuse_tables_follow_the_reference():
    """Loops innermost first: K (2 trips, irrelevant to the input), OY (4 trips, relevant).
    s=-1: reuse 1, tiles 1; s=0 (K): reuse 2, tiles 1, bds 2; s=1 (OY): reuse 2, tiles 4, bds 1."""
    from stream_tetra.iteration_space import Loop

    levels = reuse_levels((Loop("K", 2), Loop("OY", 4)), frozenset({"OY", "C"}))
    assert [(lv.level, lv.block, lv.reuse, lv.tiles, lv.bds) for lv in levels] == [
        (-1, 1, 1, 1, 1),
        (0, 2, 2, 1, 2),
        (1, 8, 2, 4, 1),
    ]
