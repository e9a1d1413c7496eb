"""Reading AIE core files (Stream's literally, ours with every field), errors, and the bundled hardware."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from aie_helpers import STREAM_AIE_TILE
from stream_cores_aie.description import AieCore

from stream_core.errors import InputError
from stream_core.hardware import load_accelerator, load_core_file
from stream_cores_aie import HARDWARE, HARDWARE_DIR, hardware_file

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, data: dict, name: str = "core.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_stream_aie_tile_file_is_read_unmodified_with_amd_defaults(tmp_path, aie_plugins):
    core = load_core_file(write(tmp_path, STREAM_AIE_TILE), aie_plugins)
    desc = core.description
    assert isinstance(desc, AieCore) and core.type == "aie2.compute"
    assert (desc.capacity_bits, desc.bandwidth_min, desc.bandwidth_max) == (524288, 512, 512)
    assert desc.max_object_fifo_depth == 12 and desc.utilization is None
    assert desc.architecture == "aie-ml"
    assert dict(desc.peak_macs) == {"int8": 256, "int16": 64, "bf16": 128, "fp32": 21}
    assert (desc.mm2s, desc.s2mm, desc.channel_bits, desc.buffer_descriptors) == (2, 2, 32, 16)
    summary = core.summary
    assert summary.memory_bits == 524288 and summary.peak_macs_per_cycle == 128
    assert summary.read_energy_pj_per_bit == pytest.approx(1.25 / 8)


def test_stream_mem_tile_with_dma_block_and_scientific_capacity(tmp_path, aie_plugins):
    mem = {
        "name": "mem_tile",
        "type": "aie2.memory",
        "max_object_fifo_depth": 48,
        "memory": {"capacity": 4194304, "bandwidth_min": 128, "bandwidth_max": 768},
        "dma": {"mm2s": 6, "s2mm": 6, "channel_bits": 32},
    }
    desc = load_core_file(write(tmp_path, mem), aie_plugins).description
    assert (desc.mm2s, desc.s2mm, desc.buffer_descriptors) == (6, 6, 48)
    # PyYAML reads 1e10 as a string; Stream's shim writes the capacity that way
    (tmp_path / "shim.yaml").write_text(
        "name: shim\ntype: aie2.shim\nmax_object_fifo_depth: 48\n"
        "memory: {capacity: 1e10, bandwidth_min: 128, bandwidth_max: 128}\n"
    )
    shim = load_core_file(tmp_path / "shim.yaml", aie_plugins).description
    assert shim.capacity_bits == 10**10 and (shim.mm2s, shim.s2mm, shim.buffer_descriptors) == (2, 2, 16)


def test_overrides_of_every_constant(tmp_path, aie_plugins):
    data = {
        **STREAM_AIE_TILE,
        "architecture": "aie-ml-v2",
        "utilization": 61.8,
        "peak_macs_per_cycle": {"bf16": 32},
        "vector_lanes": {"bf16": 32},
        "dma": {"mm2s": 8, "s2mm": 8, "channel_bits": 64},  # Stream 2.1.1: all three when dma is given
        "buffer_descriptors": 12,
        "kernel_call_overhead": 0,
        "reserved_bytes": 0,
        "double_buffer": False,
        "energy": {"mac_pj": {"bf16": 0.5}, "byte_pj": 0.1},
    }
    desc = load_core_file(write(tmp_path, data), aie_plugins).description
    assert desc.peak("bf16") == 32 and desc.peak("int8") == 512  # override + v2 default
    assert desc.lanes("bf16") == 32 and desc.channel_bits == 64
    assert (desc.mm2s, desc.s2mm, desc.buffer_descriptors, desc.kernel_call_overhead) == (8, 8, 12, 0)
    assert desc.usable_bits == 524288 and desc.double_buffer is False and desc.utilization == 61.8
    assert desc.mac_energy("bf16") == 0.5 and desc.mac_energy("fp32") == 12.2 and desc.byte_pj == 0.1


def test_bad_core_file_reports_every_problem_with_file_and_field(tmp_path, aie_plugins):
    data = {
        "name": "bad",
        "type": "aie2.compute",
        "memory": {"capacity": -5, "bandwidth_min": 512, "bandwidth_max": "fast"},
        "utilisation": 50,
    }
    path = write(tmp_path, data)
    with pytest.raises(InputError) as info:
        load_core_file(path, aie_plugins)
    problems = {p.field: p.message for p in info.value.problems}
    assert all(p.file == str(path) for p in info.value.problems)
    assert problems == {
        "utilisation": "unknown field; did you mean 'utilization'?",
        "memory.capacity": "expected a positive integer number of bits, got -5 (an integer)",
        "memory.bandwidth_max": "expected a positive number of bits/cycle, got 'fast' (a string)",
        "max_object_fifo_depth": "missing required field (an integer >= 1)",
    }


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"max_object_fifo_depth": 2.5}, "max_object_fifo_depth", "expected an integer >= 1, got 2.5"),
        ({"max_object_fifo_depth": 0}, "max_object_fifo_depth", "expected an integer >= 1, got 0"),
        ({"utilization": 120}, "utilization", "expected a percentage in (0, 100], got 120"),
        ({"architecture": "aie-ml-v3"}, "architecture", "expected one of aie-ml, aie-ml-v2, got 'aie-ml-v3'"),
        ({"peak_macs_per_cycle": {"fp8": 512}}, "peak_macs_per_cycle.fp8", "unknown data type; expected one of"),
        ({"dma": {"channel_bits": 0}}, "dma.channel_bits", "expected a positive integer of bits/cycle, got 0"),
        ({"dma": {"mm2": 6}}, "dma.mm2", "unknown field; did you mean 'mm2s'?"),
        ({"energy": {"mac_pj": {"bf16": -1}}}, "energy.mac_pj.bf16", "expected a number >= 0 of pJ, got -1"),
        ({"memory": [1, 2]}, "memory", "expected a mapping, got a list"),
        ({"reserved_bytes": 65536}, "reserved_bytes", "65536 bytes leave nothing of memory.capacity"),
        ({"double_buffer": "yes"}, "double_buffer", "expected true or false, got 'yes'"),
    ],
)
def test_each_bad_field(tmp_path, aie_plugins, change, field, expected):
    path = write(tmp_path, {**STREAM_AIE_TILE, **change})
    with pytest.raises(InputError) as info:
        load_core_file(path, aie_plugins)
    [problem] = [p for p in info.value.problems if p.field == field]
    assert problem.message.startswith(expected) and problem.file == str(path)


def test_bandwidth_max_below_min(tmp_path, aie_plugins):
    data = {**STREAM_AIE_TILE, "memory": {"capacity": 8, "bandwidth_min": 64, "bandwidth_max": 32}}
    with pytest.raises(InputError, match=r"memory\.bandwidth_max: must be >= bandwidth_min \(64\), got 32"):
        load_core_file(write(tmp_path, data), aie_plugins)


def test_offchip_kind_is_not_an_aie_kind(tmp_path, aie_plugins):
    with pytest.raises(InputError, match="unknown kind 'offchip' for core type 'aie2'; expected one of: compute"):
        load_core_file(write(tmp_path, {**STREAM_AIE_TILE, "type": "aie2.offchip"}), aie_plugins)


def test_fingerprint_follows_cost_relevant_fields_only(tmp_path, aie_plugins):
    base = load_core_file(write(tmp_path, STREAM_AIE_TILE, "a.yaml"), aie_plugins).description
    same = load_core_file(write(tmp_path, {**STREAM_AIE_TILE, "name": "aie_tile"}, "b.yaml"), aie_plugins)
    other = load_core_file(write(tmp_path, {**STREAM_AIE_TILE, "kernel_call_overhead": 10}, "c.yaml"), aie_plugins)
    assert base.fingerprint() == same.description.fingerprint() != other.description.fingerprint()
    assert len(base.fingerprint()) == 32


@pytest.mark.parametrize(
    ("name", "cores", "links", "compute"),
    [
        ("single_tile", 2, 1, 1),
        # per column: shim-mem, mem-4 tiles, 3 vertical = 8 links
        ("single_col", 6, 8, 4),
        # 4 x 8 + east-west (4 tile rows x 3 + 3 mem + 2 shim) + 3 DDR links to shims 1..3
        ("whole_array", 24, 32 + 12 + 3 + 2 + 3, 16),
        ("whole_array_strix", 48, 64 + 28 + 7 + 6 + 7, 32),
    ],
)
def test_bundled_hardware(aie_plugins, name, cores, links, compute):
    acc = load_accelerator(hardware_file(name), aie_plugins)
    assert (len(acc.cores), len(acc.links), len(acc.compute_cores)) == (cores, links, compute)
    assert acc.offchip_core.type == "aie2.shim" and acc.offchip_core.coordinates == (0, 0)
    for core in acc.cores.values():
        _col, row = core.coordinates
        assert core.kind == {0: "shim", 1: "memory"}.get(row, "compute")
    bits = 64 if name == "whole_array_strix" else 32
    assert {link.bandwidth for link in acc.links} == {bits}
    assert {c.description.channel_bits for c in acc.cores.values()} == {bits}


def test_bundled_files_are_what_the_generator_writes():
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_hardware.py"), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    assert sorted(p.stem for p in HARDWARE_DIR.glob("*.yaml")) == sorted(HARDWARE)
