"""Hook implementations of stream-zigzag (imports nothing heavy: factories are lazy)."""

from __future__ import annotations

from collections.abc import Iterator

from stream_core import hookimpl
from stream_core.plugins import lazy
from stream_core.records import CoreTypeRecord, CostModelRecord

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
