"""Hook implementations of stream-zigzag (imports nothing heavy: factories are lazy)."""

from __future__ import annotations

from collections.abc import Iterator

from stream_core import hookimpl
from stream_core.plugins import lazy
from stream_core.records import CoreTypeRecord, CostModelRecord, SettingRecord

_PKG = "stream_zigzag"


@hookimpl
def stream_register_core_types() -> Iterator[CoreTypeRecord]:
    yield CoreTypeRecord(
        name="zigzag",
        description="ZigZag/Stream core YAML (memories, ports, operational array, dataflows), both formats",
        factory=lazy(f"{_PKG}.core_type", "ZigZagCoreType"),
        kinds={"compute", "memory", "offchip"},
        default_cost_model="zigzag",
    )


@hookimpl
def stream_register_cost_models() -> Iterator[CostModelRecord]:
    yield CostModelRecord(
        name="zigzag",
        description="ZigZag-dse 3.9.1 (LOMA temporal mapping) per tile; roofline for ops ZigZag cannot cost",
        factory=lazy(f"{_PKG}.model", "ZigZagCostModel"),
        core_types={"zigzag"},
    )


@hookimpl
def stream_register_settings() -> Iterator[SettingRecord]:
    """Options of the ``zigzag`` cost model."""
    yield SettingRecord(name="zigzag.lpf_limit", description="LOMA loop prime factor limit", default="6")
    yield SettingRecord(
        name="zigzag.temporal_mapping",
        description="LOMA temporal mapping generator",
        choices=("uneven", "even"),
        default="uneven",
    )
    yield SettingRecord(
        name="zigzag.spatial_mappings",
        description="spatial mappings generated when dataflows leave array dimensions open",
        default="1",
    )
    yield SettingRecord(
        name="zigzag.precision",
        description="operand-width policy (see stream_zigzag.precision)",
        choices=("workload", "hardware"),
        default="workload",
    )
