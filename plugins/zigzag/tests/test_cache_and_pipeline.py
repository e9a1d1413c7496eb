"""Through stream-core's pipeline: persistent cache hits, invalidation on a changed core file or setting,
recovery from a corrupted entry, and the run summary's count of models used."""

from __future__ import annotations

import shutil

import pytest
from stream_zigzag import runner
from zz_helpers import DATA, A, gemm

import stream_core
from stream_core.builtin.mapper import WholeLayerMapper
from stream_core.context import RunContext, RunOptions
from stream_core.hardware import load_accelerator
from stream_core.ir import LoopDim, Node, Operand, TensorSpec, Workload
from stream_core.pipeline import build_tilings, compute_costs

HARDWARE = """\
name: two_cores
cores: {0: array16.yaml, 1: simd.yaml, 2: offchip.yaml}
offchip_core_id: 2
core_connectivity:
  - {type: link, cores: [0, 1], bandwidth: 64}
  - {type: bus, cores: [0, 1, 2], bandwidth: 128}
"""


def workload() -> Workload:
    """Gemm (64 x 64 -> 32) on the array core, then Relu on the SIMD core."""
    tensors = {
        n: TensorSpec(n, s, "int8") for n, s in (("a", (64, 64)), ("w", (64, 32)), ("y", (64, 32)), ("z", (64, 32)))
    }
    relu = Node(
        "relu",
        "Relu",
        [LoopDim("D", 64), LoopDim("K", 32)],
        [Operand("input", "y", 8, (A("D"), A("K"))), Operand("output", "z", 8, (A("D"), A("K")))],
    )
    mm = gemm(64, 64, 32)
    return Workload("mm_relu", [mm, relu], tensors, inputs=["a", "w"], outputs=["z"])


@pytest.fixture
def hardware(tmp_path):
    for name in ("array16", "simd", "offchip"):
        shutil.copy(DATA / f"{name}.yaml", tmp_path / f"{name}.yaml")
    path = tmp_path / "hw.yaml"
    path.write_text(HARDWARE)
    return path


@pytest.fixture
def calls(monkeypatch):
    seen: list[str] = []
    evaluate = runner.evaluate

    def counting(*args):
        seen.append(args[1].op_type)
        return evaluate(*args)

    monkeypatch.setattr(runner, "evaluate", counting)
    return seen


def costs(plugins, hardware, cache_dir, **settings):
    options = RunOptions(jobs=1, cache_dir=cache_dir, settings={"zigzag.lpf_limit": 2, **settings})
    context = RunContext(plugins=plugins, options=options)
    accelerator = load_accelerator(hardware, plugins)
    wl = workload()
    tilings = build_tilings(wl, WholeLayerMapper().map(wl, accelerator, context))
    return compute_costs(tilings, accelerator, context)


def stats(table):
    return {k: table.stats[k] for k in ("requests", "unique", "cache_hits", "computed")}


def test_cache_hit_miss_and_invalidation(zz_plugins, hardware, tmp_path, calls):
    cache = tmp_path / "cache"
    cold = costs(zz_plugins, hardware, cache)
    assert stats(cold) == {"requests": 2, "unique": 2, "cache_hits": 0, "computed": 2}
    assert calls == ["Gemm", "Relu"]  # a one-input op is costed by ZigZag too
    assert cold.models_used() == {"zigzag": 2}

    warm = costs(zz_plugins, hardware, cache)
    assert stats(warm) == {"requests": 2, "unique": 2, "cache_hits": 2, "computed": 0}
    assert calls == ["Gemm", "Relu"]
    assert dict(warm.items()) == dict(cold.items())

    core_file = hardware.parent / "array16.yaml"  # a changed core file invalidates its entries only
    core_file.write_text(core_file.read_text().replace("r_cost: 50", "r_cost: 60"))
    changed = costs(zz_plugins, hardware, cache)
    assert stats(changed) == {"requests": 2, "unique": 2, "cache_hits": 1, "computed": 1}
    assert calls == ["Gemm", "Relu", "Gemm"]
    gemm_before = cold.get("mm", 0, (64, 64, 32))
    gemm_after = changed.get("mm", 0, (64, 64, 32))
    assert gemm_after.energy_pj > gemm_before.energy_pj and gemm_after.latency == gemm_before.latency

    setting = costs(zz_plugins, hardware, cache, **{"zigzag.lpf_limit": 3})  # a changed setting: a new token
    assert stats(setting)["computed"] == 2 and calls == ["Gemm", "Relu", "Gemm", "Gemm", "Relu"]


def test_corrupted_entry_is_recomputed(zz_plugins, hardware, tmp_path, calls):
    cache = tmp_path / "cache"
    costs(zz_plugins, hardware, cache)
    entries = [p for p in cache.rglob("*.json") if '"compute_cycles"' in p.read_text()]
    assert len(entries) == 2
    relu = next(p for p in entries if "sram_128KB_2rw" in p.read_text())  # the SIMD core's memory
    relu.write_text('{"format": 1, "key": ')
    again = costs(zz_plugins, hardware, cache)
    assert stats(again) == {"requests": 2, "unique": 2, "cache_hits": 1, "computed": 1}
    assert calls == ["Gemm", "Relu", "Relu"]
    assert stats(costs(zz_plugins, hardware, cache))["cache_hits"] == 2


def test_full_run_counts_models(zz_plugins, hardware, tmp_path):
    options = RunOptions(jobs=1, cache_dir=tmp_path / "cache", settings={"zigzag.lpf_limit": 2})
    outcome = stream_core.run(workload(), hardware, options=options, plugins=zz_plugins)
    assert outcome.result.stats["cost_models"] == {"zigzag": 2}
    assert outcome.result.totals.latency > 0


def test_an_answers_warnings_are_shown_again_when_it_comes_from_the_cache(zz_plugins, tmp_path, calls):
    """A request with a mapping hint the model does not use: the first run computes the answer and warns;
    a second run takes it from the persistent cache (ZigZag does not run) and warns the same, because the
    warning travels in the answer's ``warnings`` detail."""
    from zz_helpers import core_data, gemm, make_core

    from stream_core.costing import cost_tiles
    from stream_core.ir import CostRequest

    request = CostRequest(gemm(16, 16, 16), make_core(zz_plugins, core_data("array16")), hints=(("no_such_hint", 1),))
    said = []
    for _ in range(2):
        options = RunOptions(jobs=1, cache_dir=tmp_path / "cache", settings={"zigzag.lpf_limit": 2})
        context = RunContext(plugins=zz_plugins, options=options)
        [result] = cost_tiles([request], context)
        said.append(context.warnings)
    warning = "zigzag: mapping hints no_such_hint are not used by the zigzag cost model"
    assert said == [[warning], [warning]] and calls == ["Gemm"]
    assert list(result.detail("warnings")) == [warning]
