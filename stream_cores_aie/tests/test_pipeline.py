"""Whole runs (in-process) on the bundled hardware with the aie cost model, and the aie-usage exporter."""

from __future__ import annotations

import json

import pytest
import yaml
from stream_cores_aie.caps import tile_caps
from stream_cores_aie.examples import write_examples
from stream_cores_aie.usage import AieUsageExporter

from stream_core.context import RunOptions
from stream_core.ir import Accelerator, Core
from stream_core.pipeline import run
from stream_core.testing import check_schedule
from stream_cores_aie import hardware_file, workloads

pytest.importorskip("stream_onnx", reason="reading ONNX workloads needs stream-onnx")


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    return write_examples(tmp_path_factory.mktemp("examples"), tile=64)[0].parent


def test_small_gemm_on_one_column_with_greedy(examples, stream_plugins):
    outcome = run(
        examples / "gemm_64x64x64.onnx",
        hardware_file("single_col"),
        examples / "gemm_64x64x64.single_col.mapping.yaml",
        plugins=stream_plugins,
        options=RunOptions(allocator="greedy", use_cache=False),
    )
    result = outcome.result
    assert check_schedule(result, outcome.problem) == []
    # N split over the 4 tiles: 64x16x64 = 65536 MACs per tile at 128 x 80 % = 102.4 MAC/cycle
    # -> 640 cycles + 32 call overhead
    assert sorted((t.core, t.duration) for t in result.tiles) == [(c, 672) for c in (2, 3, 4, 5)]
    assert {t.cost_model for t in result.tiles} == {"aie"}
    assert result.warnings == ()  # the example mapping gives the kernel utilization


def test_small_gemm_without_mapping_warns_about_the_default_efficiency(examples, stream_plugins):
    outcome = run(
        examples / "gemm_64x64x64.onnx",
        hardware_file("single_tile"),
        plugins=stream_plugins,
        options=RunOptions(allocator="greedy", mapper="whole-layer", use_cache=False),
    )
    # one 64x64x64 tile: 262144 MACs / 102.4 = 2560 cycles + 32
    assert [t.duration for t in outcome.result.tiles] == [2592]
    assert any("default kernel efficiency (80 % MAC ops" in w for w in outcome.result.warnings)


def test_swiglu_on_one_column_with_tetra_reports_aie_usage(examples, stream_plugins, tmp_path):
    pytest.importorskip("stream_tetra")
    outcome = run(
        examples / "swiglu_64x128x256.onnx",
        hardware_file("single_col"),
        examples / "swiglu_64x128x256.single_col.mapping.yaml",
        plugins=stream_plugins,
        options=RunOptions(allocator="tetra", use_cache=False),
        output=tmp_path / "out",
    )
    result = outcome.result
    assert check_schedule(result, outcome.problem) == []
    # silu: 64x256 split over 4 tiles in N, 32x32 tiles: 1024 points x 4 ops / (16 lanes x 50 %) + 32
    assert {t.duration for t in result.tiles if t.node == "silu"} == {544}
    assert "aie (stream-cores-aie" in result.provenance["cost models"]
    usage = json.loads((tmp_path / "out" / "aie_usage.json").read_text())
    assert usage["totals"]["compute"] == {"used": 4, "total": 4}
    assert usage["over_dma_caps"] == []
    tiles = [r for r in usage["cores"] if r["type"] == "aie2.compute"]
    # every group reads two tensors into each tile (its operands) and writes one; 32-wide tiles per
    # core: gate and up 64x64x128 -> 2x2x4, silu and mul 64x64 -> 2x2, down 64x32x256 -> 2x1x8
    assert {(r["s2mm_channels_used"], r["mm2s_channels_used"], r["tiles"]) for r in tiles} == {(2, 1, 56)}


def test_kernel_library_of_the_accelerator_prices_the_gemm(examples, stream_plugins, hardware_copy):
    # our 'mm' kernel measured at 3000 cycles for 64^3: the one 64x64x64 tile takes exactly that (its
    # memory time, 2 x 64*64*16 bits / 512 = 256 cycles, is shorter; no call overhead is added)
    (hardware_copy.root / "kernels.toml").write_text(
        '[family.matmul]\nops_per_cycle = 100\n[kernel.mm]\nfamily = "matmul"\n'
        'dims = [{name = "m"}, {name = "k"}, {name = "n"}]\ncycles = [{m = 64, k = 64, n = 64, cycles = 3000}]\n'
    )
    hardware = hardware_copy.file("single_tile")
    hardware.write_text(hardware.read_text() + "kernel_library: kernels.toml\n")
    outcome = run(
        examples / "gemm_64x64x64.onnx",
        hardware,
        examples / "gemm_64x64x64.single_tile.mapping.yaml",
        plugins=stream_plugins,
        options=RunOptions(allocator="greedy", use_cache=False),
    )
    assert [t.duration for t in outcome.result.tiles] == [3000]
    assert any(
        "utilization is not applied to cycles taken from the kernel library" in w for w in outcome.result.warnings
    )


def test_usage_reports_the_reconfiguration_between_groups(examples, stream_plugins, hardware_copy, tmp_path):
    hardware = hardware_copy.file("single_col")
    hardware.write_text(hardware.read_text() + "reconfiguration: {cycles_per_column: 100, reset_cycles: 7}\n")
    run(
        examples / "swiglu_64x128x256.onnx",
        hardware,
        examples / "swiglu_64x128x256.single_col.mapping.yaml",
        plugins=stream_plugins,
        options=RunOptions(allocator="greedy", use_cache=False),
        output=tmp_path / "out",
    )
    reconf = json.loads((tmp_path / "out" / "aie_usage.json").read_text())["reconfiguration"]
    # five groups (gate, up, silu, mul, down), each on the one column: 5 x 1 x 100 + 7
    assert reconf["group_columns"] == {g: [0] for g in ("gate", "up", "silu", "mul", "down")}
    assert (reconf["dispatch_cycles"], reconf["in_latency"]) == (507, False)


def test_swiglu_with_sigmoid_silu_on_one_tile(tmp_path, stream_plugins):
    model = workloads.swiglu(tmp_path / "swiglu.onnx", 64, 128, 256, silu="sigmoid")
    mapping = tmp_path / "swiglu.mapping.yaml"
    mapping.write_text(yaml.safe_dump(workloads.swiglu_mapping("single_tile", 32, silu="sigmoid")))
    options = RunOptions(allocator="greedy", use_cache=False)
    outcome = run(model, hardware_file("single_tile"), mapping, plugins=stream_plugins, options=options)
    assert check_schedule(outcome.result, outcome.problem) == []
    durations = {(t.node, t.duration) for t in outcome.result.tiles if t.node in ("sigmoid", "silu")}
    # 32x32 tiles at 16 bf16 lanes x 50 %: sigmoid 1024 x 4 ops / 8 + 32, the Mul 1024 / 8 + 32
    assert durations == {("sigmoid", 544), ("silu", 160)}


def test_offchip_shim_caps_are_the_sum_over_all_shims(aie_plugins):
    from stream_core.hardware import load_accelerator

    acc = load_accelerator(hardware_file("whole_array"), aie_plugins)
    offchip, other_shim, mem, tile = (acc.cores[i] for i in (0, 6, 1, 2))
    assert tile_caps(acc, offchip) == tile_caps(acc, offchip).__class__(8, 8, 64, 16)
    assert (tile_caps(acc, other_shim).mm2s, tile_caps(acc, other_shim).buffer_descriptors) == (2, 16)
    assert (tile_caps(acc, mem).s2mm, tile_caps(acc, mem).buffer_descriptors) == (6, 48)
    assert (tile_caps(acc, tile).s2mm, tile_caps(acc, tile).max_object_fifo_depth) == (2, 16)


def test_usage_exporter_writes_nothing_without_aie_cores(tmp_path):
    acc = Accelerator(name="other", cores={0: Core(0, "toy.compute", description=object())}, links=())
    problem = type("Problem", (), {"accelerator": acc})()
    assert AieUsageExporter().export(None, problem, tmp_path, None) == []
    assert list(tmp_path.iterdir()) == []


def test_example_mappings_split_over_every_compute_tile(examples):
    mapping = yaml.safe_load((examples / "gemm_256x8192x2048.whole_array_strix.mapping.yaml").read_text())
    [layer] = mapping["layers"]
    assert len(layer["core_allocation"][0]) == 32
    assert layer["inter_core_tiling"] == [[{"dim": "D0", "split": 4}, {"dim": "D1", "split": 8}]]
    assert workloads.GEMM_BIG == (256, 8192, 2048)
