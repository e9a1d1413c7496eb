"""stream-core hook implementations of stream-tetra (lazy: nothing heavy is imported here)."""

from __future__ import annotations

from collections.abc import Iterator

import pluggy

from stream_core import hookimpl
from stream_core.plugins import lazy
from stream_core.records import AllocatorRecord, BackendRecord, MapperRecord

_PKG = "stream_tetra"


@hookimpl
def stream_add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    from stream_tetra import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def stream_register_allocators() -> Iterator[AllocatorRecord]:
    yield AllocatorRecord(
        name="tetra",
        description="layer-fused steady-state MILP (TETRA): reuse levels, routes, cores, overlap; time-limited",
        factory=lazy(f"{_PKG}.allocator", "TetraAllocator"),
        priority=10,
    )


@hookimpl
def stream_register_mappers() -> Iterator[MapperRecord]:
    yield MapperRecord(
        name="fused",
        description="Stream's auto-mapping: fusion cut points, operator_types cores, gcd splits, capacity tiling",
        factory=lazy(f"{_PKG}.mapper", "FusedMapper"),
        priority=10,
    )


@hookimpl
def stream_register_backends() -> Iterator[BackendRecord]:
    yield BackendRecord(
        name="mapping-yaml",
        description="mapping.yaml: the run's mapping in Stream's format (feed it back with --mapping)",
        factory=lazy(f"{_PKG}.mapping_yaml", "MappingExporter"),
        default_enabled=True,
    )
