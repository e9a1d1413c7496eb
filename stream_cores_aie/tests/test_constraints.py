"""The AIE constraint families inside TETRA: a limit that makes a known allocation infeasible, and the
relaxed limit (or the family switched off) that makes it feasible again.

The allocation: a 64x64x64 bf16 GEMM on one column, N split over the four tiles, 32-wide tiles, so
every tile receives A and B (two S2MM channels) and double-buffers A, B and Y (2 + 2 + 2 = 6
buffers, 6 buffer descriptors).
"""

from __future__ import annotations

import re

import pytest
import yaml

from stream_core.context import RunOptions
from stream_core.errors import InfeasibleError
from stream_core.pipeline import run
from stream_cores_aie import workloads

pytest.importorskip("stream_tetra", reason="the constraints are a stream-tetra hook")
pytest.importorskip("stream_onnx", reason="reading ONNX workloads needs stream-onnx")


@pytest.fixture
def gemm_run(tmp_path, hardware_copy, stream_plugins):
    model = workloads.gemm(tmp_path / "gemm.onnx", 64, 64, 64)
    mapping = tmp_path / "gemm.mapping.yaml"
    mapping.write_text(yaml.safe_dump(workloads.gemm_mapping("single_col", tile=32)))

    def go(settings: dict | None = None):
        options = RunOptions(allocator="tetra", use_cache=False, settings=settings or {})
        return run(model, hardware_copy.file("single_col"), mapping, plugins=stream_plugins, options=options)

    return go


@pytest.mark.parametrize(
    ("change", "tight", "relaxed", "family", "unit"),
    [
        ("dma", {"s2mm": 1}, {"s2mm": 2}, "dma_in", "S2MM channels"),
        # object FIFOs count what transfers deliver (A and B double-buffered), not C's own output ring,
        # as Stream 2.1.1 counts them
        ("max_object_fifo_depth", 3, 4, "object_fifo_depth", "buffers"),
        ("buffer_descriptors", 5, 6, "buffer_descriptors", "BDs"),
    ],
)
def test_tight_limit_is_infeasible_and_relaxed_one_feasible(
    gemm_run, hardware_copy, change, tight, relaxed, family, unit
):
    hardware_copy.edit("aie_tile.yaml", **{change: tight})
    with pytest.raises(InfeasibleError) as info:
        gemm_run()
    text = str(info.value)
    limit = tight["s2mm"] if isinstance(tight, dict) else tight
    needed = {"dma": 2, "max_object_fifo_depth": 4}.get(change, 6)
    # TETRA's report: the core, the family's capacity name, the smallest demand and the limit
    assert re.search(rf"core 2 \(aie_tile\): {family} needs at least {needed} {unit}\b.*\b{limit} {unit}", text)
    hardware_copy.edit("aie_tile.yaml", **{change: relaxed})
    assert gemm_run().result.totals.latency > 0


def test_switching_a_family_off_lifts_its_limit(gemm_run, hardware_copy):
    hardware_copy.edit("aie_tile.yaml", max_object_fifo_depth=2)
    with pytest.raises(InfeasibleError, match="object_fifo_depth"):
        gemm_run()
    assert gemm_run({"aie.object_fifo_depth": False}).result.totals.latency > 0


def test_a_tighter_depth_changes_the_chosen_reuse(gemm_run, hardware_copy):
    roomy = gemm_run().result
    hardware_copy.edit("aie_tile.yaml", max_object_fifo_depth=4)
    tight = gemm_run().result
    # with 16 buffers the MILP may keep more tiles resident (more reuse); 4 only allows double
    # buffering of the two delivered inputs, so its optimum (the uniform schedule's latency) is worse
    # and it buffers less
    roomy_stats, tight_stats = dict(roomy.groups[0].stats), dict(tight.groups[0].stats)
    assert tight_stats["milp_latency"] > roomy_stats["milp_latency"]
    assert tight_stats["buffering"] < roomy_stats["buffering"]
    # the realised schedule (list schedule, modes refined under the same limits) is never better
    assert tight.totals.latency >= roomy.totals.latency


def test_bad_setting_value(gemm_run):
    from stream_core.errors import InputError

    with pytest.raises(InputError, match=r"aie\.dma_channels: expected true or false, got 'maybe'"):
        gemm_run({"aie.dma_channels": "maybe"})
