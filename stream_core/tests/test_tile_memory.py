"""A node's tile list is estimated before it is built and refused above the run's memory bound."""

from __future__ import annotations

import gc
import time
import tracemalloc

import pytest

from stream_core.context import RunContext, RunOptions
from stream_core.errors import InputError
from stream_core.ir import NodeMapping
from stream_core.testing import conv_node as conv
from stream_core.testing import matmul_workload as matmul
from stream_core.tiling import MEMORY_LIMIT_MB, NodeTiling, memory_limit


def _peak_bytes(tiling: NodeTiling) -> int:
    """The peak memory tracemalloc sees while ``tiling`` builds its tile list."""
    gc.collect()
    tracemalloc.start()
    try:
        tiling.tiles()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("tiling", "count"),
    [
        # mm (D, C, K) = (1024, 8, 64), D in 1s, K in 16s: 1024 x 4 tiles of 3 loops
        (NodeTiling(matmul(1024, 8, 64).node("mm"), NodeMapping("mm", (0,)), {"D": 1, "K": 16}), 4096),
        # conv 7 loops, K split in 2 parts, OY and OX in 1s: 2 parts x 16 x 16 tiles
        (NodeTiling(conv(k=16, oy=16, ox=16), NodeMapping("conv", (0, 1), (("K", 2),)), {"OY": 1, "OX": 1}), 512),
    ],
)
def test_estimate_is_close_to_the_measured_peak(tiling, count):
    """parts x steps per part x (512 + 64 x loops) bytes; tracemalloc measures the real build."""
    loops = len(tiling.node.loop_names)
    assert tiling.tile_bytes == count * (512 + 64 * loops)
    assert 0.6 <= _peak_bytes(tiling) / tiling.tile_bytes <= 1.1
    assert len(tiling.tiles()) == count


def test_a_tiling_above_the_bound_is_refused_before_anything_is_built():
    """mm (2**20, 2**10, 2**10) in 1-element tiles: 2**40 tiles x 704 bytes = 704 x 2**20 MiB."""
    tiling = NodeTiling(matmul(2**20, 2**10, 2**10).node("mm"), NodeMapping("mm", (0,)), {"D": 1, "C": 1, "K": 1})
    start = time.perf_counter()
    with pytest.raises(InputError) as caught:
        tiling.tiles()
    assert time.perf_counter() - start < 0.5
    (problem,) = caught.value.problems
    assert problem.field == "node 'mm'"
    assert "1 part(s) x 1,099,511,627,776 tiles per part" in problem.message
    assert "tiles D=1 of 1048576, C=1 of 1024, K=1 of 1024; inter-core splits none" in problem.message
    assert f"about {704 * 2**20:,} MiB, above the bound of {MEMORY_LIMIT_MB:,} MiB" in problem.message
    assert "coarser intra_core_tiling tiles or fewer inter_core_tiling splits" in problem.message
    assert f"settings={{'core.memory_limit_mb': {704 * 2**20}}}" in problem.message


def test_the_bound_is_the_tilings_own():
    """4096 tiles x 704 bytes = 2.75 MiB: refused under a 2 MiB bound, built under a 3 MiB one."""
    node, mapping, tiles = matmul(1024, 8, 64).node("mm"), NodeMapping("mm", (0,)), {"D": 1, "K": 16}
    with pytest.raises(InputError, match="about 3 MiB, above the bound of 2 MiB"):
        NodeTiling(node, mapping, tiles, memory_limit=2 << 20, source="map.yaml").tiles()
    assert len(NodeTiling(node, mapping, tiles, memory_limit=3 << 20).tiles()) == 4096
    assert NodeTiling(node, mapping, tiles, memory_limit=1) == NodeTiling(node, mapping, tiles)


def test_memory_limit_reads_the_setting(toy_plugins):
    def limit(**settings):
        return memory_limit(RunContext(plugins=toy_plugins, options=RunOptions(settings=settings)))

    assert limit() == 2048 * 2**20
    assert limit(**{"core.memory_limit_mb": 1.5}) == 3 * 2**19
    for bad in (0, -1, "lots", True, float("nan"), float("inf")):
        with pytest.raises(InputError, match=r"core\.memory_limit_mb.*expected a positive number of MiB"):
            limit(**{"core.memory_limit_mb": bad})
