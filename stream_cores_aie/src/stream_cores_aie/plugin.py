"""Hook implementations of stream-cores-aie (lazy: listing plugins imports nothing heavy)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stream_core import hookimpl
from stream_core.plugins import lazy
from stream_core.records import CommandRecord, CoreTypeRecord, CostModelRecord, ExporterRecord, SettingRecord

_PKG = "stream_cores_aie"


@hookimpl
def stream_register_core_types() -> Iterator[CoreTypeRecord]:
    yield CoreTypeRecord(
        name="aie2",
        description="AMD AIE-ML/AIE2 tiles (Stream's AIE core YAML): compute tile, memory tile, shim",
        factory=lazy(f"{_PKG}.core_type", "AieCoreType"),
        kinds={"compute", "memory", "shim"},
        default_cost_model="aie",
    )


@hookimpl
def stream_register_cost_models() -> Iterator[CostModelRecord]:
    yield CostModelRecord(
        name="aie",
        description="AIE tile: kernel-library cycles, else MACs / (peak per dtype x efficiency) + call overhead",
        factory=lazy(f"{_PKG}.cost", "AieCostModel"),
        core_types={"aie2"},
    )


@hookimpl
def stream_register_exporters() -> Iterator[ExporterRecord]:
    yield ExporterRecord(
        name="aie-usage",
        description="aie_usage.json: AIE tiles, mem tiles, shims and DMA channels a run used (AIE arrays only)",
        factory=lazy(f"{_PKG}.usage", "AieUsageExporter"),
        default_enabled=True,
    )


@hookimpl
def stream_register_commands() -> Iterator[CommandRecord]:
    yield CommandRecord(
        name="aie-examples",
        description="write the AIE example workloads (GEMMs, SwiGLU) and mappings; list the AIE hardware files",
        factory=lazy(f"{_PKG}.examples", "ExamplesCommand"),
    )


@hookimpl(optionalhook=True)  # declared by stream-tetra; dormant without it
def tetra_register_constraints() -> Iterator[Any]:
    """AIE constraint families for the TETRA allocator (a hook stream-tetra adds; called only when
    stream-tetra is installed, so its public API is imported here and nowhere else)."""
    from stream_cores_aie.constraints import families

    yield from families()


@hookimpl
def stream_register_settings() -> Iterator[SettingRecord]:
    """Switches of the AIE constraint families for the TETRA allocator (``false`` turns one off)."""
    for family, what in (
        ("object_fifo_depth", "resident tiles per aie2 tile <= max_object_fifo_depth"),
        ("buffer_descriptors", "buffer descriptors per aie2 tile <= its BD count"),
        ("dma_channels", "transfers per aie2 tile <= its DMA channels"),
    ):
        yield SettingRecord(name=f"aie.{family}", description=f"constraint family: {what}", default="true")
