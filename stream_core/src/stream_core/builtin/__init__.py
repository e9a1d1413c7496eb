"""The core's own plugin: built-in defaults registered through the same hooks as any plugin."""

from __future__ import annotations

from collections.abc import Iterator

from stream_core.hookspecs import hookimpl
from stream_core.plugins import lazy
from stream_core.records import AllocatorRecord, CostModelRecord, ExporterRecord, MapperRecord, SettingRecord
from stream_core.tiling import MEMORY_LIMIT_MB, MEMORY_SETTING

_PKG = "stream_core.builtin"


@hookimpl
def stream_register_cost_models() -> Iterator[CostModelRecord]:
    yield CostModelRecord(
        name="roofline",
        description="MACs over peak MACs/cycle vs bits over memory bandwidth; energy per MAC and per bit",
        factory=lazy(f"{_PKG}.roofline", "RooflineCostModel"),
    )


@hookimpl
def stream_register_allocators() -> Iterator[AllocatorRecord]:
    yield AllocatorRecord(
        name="greedy",
        description="list scheduler: earliest-finish core, link contention, memory capacity (fast baseline)",
        factory=lazy(f"{_PKG}.greedy", "GreedyAllocator"),
        priority=0,
    )


@hookimpl
def stream_register_mappers() -> Iterator[MapperRecord]:
    yield MapperRecord(
        name="whole-layer",
        description="one tile per node, candidate cores by operator_types, one group (baseline)",
        factory=lazy(f"{_PKG}.mapper", "WholeLayerMapper"),
        priority=0,
    )


@hookimpl
def stream_register_exporters() -> Iterator[ExporterRecord]:
    yield ExporterRecord(
        name="summary",
        description="summary.json and summary.yaml: latency, energy, EDP, utilisation, per-node rows",
        factory=lazy(f"{_PKG}.exporters", "SummaryExporter"),
        default_enabled=True,
    )
    yield ExporterRecord(
        name="perfetto",
        description="trace.json in Chrome/Perfetto trace format, one track per core and per link",
        factory=lazy(f"{_PKG}.exporters", "TraceExporter"),
        default_enabled=True,
    )
    yield ExporterRecord(
        name="gantt",
        description="gantt.png: schedule per core and link (Pillow)",
        factory=lazy(f"{_PKG}.exporters", "GanttExporter"),
        default_enabled=True,
    )


@hookimpl
def stream_register_settings() -> Iterator[SettingRecord]:
    yield SettingRecord(
        name=MEMORY_SETTING,
        description="MiB one node's tile list may take; a tiling estimated above it is refused",
        default=str(MEMORY_LIMIT_MB),
    )
