"""The core-file fields of stream-dse 2.1.1: the full ``dma`` block, ``banks``, ``operand_precision``,
``operator_types`` on every aie2 core, ``utilization`` on compute tiles only."""

from __future__ import annotations

import pytest
import yaml
from aie_helpers import STREAM_AIE_TILE

from stream_core.errors import InputError
from stream_core.hardware import load_core_file

SHIM = {
    "name": "shim",
    "type": "aie2.shim",
    "max_object_fifo_depth": 48,
    "memory": {"capacity": 10**10, "bandwidth_min": 128, "bandwidth_max": 128},
    "dma": {"mm2s": 2, "s2mm": 2, "channel_bits": 64, "buffer_descriptors": 16, "iterations": 64},
}
MEM_TILE = {**SHIM, "name": "mem", "type": "aie2.memory", "dma": {"mm2s": 6, "s2mm": 6, "channel_bits": 64}}


def load(tmp_path, data, aie_plugins):
    path = tmp_path / "core.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path, load_core_file(path, aie_plugins)


def problems_of(tmp_path, data, aie_plugins) -> dict[str, str]:
    with pytest.raises(InputError) as info:
        load(tmp_path, data, aie_plugins)
    return {p.field: p.message for p in info.value.problems}


def test_every_211_field_on_a_compute_tile(tmp_path, aie_plugins):
    data = {
        **STREAM_AIE_TILE,
        "utilization": 61.8,
        "banks": {"count": 8, "width": 16, "stripe": 512},
        "operand_precision": {"input": "bf16", "accumulator": "fp32"},
        "operator_types": ["MatMul", "Gemm"],
        "dma": {"mm2s": 2, "s2mm": 2, "channel_bits": 64},
    }
    _path, core = load(tmp_path, data, aie_plugins)
    desc = core.description
    assert desc.utilization == 61.8 and (desc.mm2s, desc.s2mm, desc.channel_bits) == (2, 2, 64)
    assert dict(desc.banks) == {"count": 8, "width": 16, "stripe": 512}
    assert dict(desc.operand_precision) == {"input": "bf16", "accumulator": "fp32"}
    assert core.summary.operator_types == ("MatMul", "Gemm")
    assert core.summary.can_run("Gemm") and not core.summary.can_run("Softmax")
    notes = " | ".join(desc.notes)
    assert "banks: reported only" in notes and "operand_precision: reported only" in notes
    assert "are no DMA port rates here" in notes and "dma.iterations" not in notes
    # reported-only fields do not change what a cost depends on; operator_types does
    _p, plain = load(tmp_path, {**data, "banks": None, "operand_precision": None}, aie_plugins)
    assert plain.description.fingerprint() == desc.fingerprint() and plain.description.notes != desc.notes


def test_shim_dma_descriptors_and_iterations_are_reported_only(tmp_path, aie_plugins):
    _path, core = load(tmp_path, SHIM, aie_plugins)
    desc = core.description
    assert (desc.dma_buffer_descriptors, desc.dma_iterations) == (16, 64)
    assert desc.buffer_descriptors == 16  # our BD cap: its own field, the AMD default for a shim
    assert any(n.startswith("dma.buffer_descriptors/dma.iterations: reported only") for n in desc.notes)
    assert desc.utilization is None


def test_extension_fields_on_memory_tiles_and_shims(tmp_path, aie_plugins):
    extras = {"banks": {"count": 16, "width": 16}, "operand_precision": {"input": "int8"}, "operator_types": []}
    _path, core = load(tmp_path, {**MEM_TILE, **extras}, aie_plugins)
    assert dict(core.description.banks) == {"count": 16, "width": 16, "stripe": 1}
    assert core.summary.operator_types == ()


def test_architecture_default_stream_width_without_dma(tmp_path, aie_plugins):
    _path, core = load(tmp_path, {**STREAM_AIE_TILE, "architecture": "aie-ml-v2"}, aie_plugins)
    assert core.description.channel_bits == 64 and core.description.notes == ()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {**MEM_TILE, "utilization": 50},
            {"utilization": "only aie2.compute cores take a utilization (as in Stream 2.1.1), not aie2.memory"},
        ),
        (
            {**STREAM_AIE_TILE, "dma": {"mm2s": 2, "s2mm": 2}},
            {"dma.channel_bits": "missing required field (a positive integer of bits/cycle)"},
        ),
        (
            {**SHIM, "dma": {"mm2s": 0, "s2mm": 2, "channel_bits": 64, "iterations": 0}},
            {
                "dma.mm2s": "expected an integer >= 1 of channels, got 0 (an integer)",
                "dma.iterations": "expected an integer >= 1, got 0 (an integer)",
            },
        ),
        (
            {**STREAM_AIE_TILE, "banks": {"count": 0, "stripe": 2, "rows": 4}},
            {
                "banks.rows": "unknown field; known keys: count, width, stripe",
                "banks.count": "expected an integer >= 1 of banks, got 0 (an integer)",
                "banks.width": "missing required field (an integer >= 1 of bytes)",
            },
        ),
        (
            {**STREAM_AIE_TILE, "operand_precision": {"input": "bf17", "output": "int8"}},
            {
                "operand_precision.input": "expected an element type (int4, int8, uint8, int16, int24, bf16, "
                "fp16, int32, fp32), got 'bf17'",
                "operand_precision.output": "unknown field; known keys: input, accumulator",
            },
        ),
        (
            {**SHIM, "operator_types": "MatMul"},
            {"operator_types": "expected a list of operator type names, got 'MatMul'"},
        ),
    ],
)
def test_bad_211_fields(tmp_path, aie_plugins, data, expected):
    assert problems_of(tmp_path, data, aie_plugins) == expected
