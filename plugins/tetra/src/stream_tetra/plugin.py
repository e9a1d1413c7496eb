"""stream-core hook implementations of stream-tetra (lazy: nothing heavy is imported here)."""

from __future__ import annotations

from collections.abc import Iterator

import pluggy

from stream_core import hookimpl
from stream_core.plugins import lazy
from stream_core.records import AllocatorRecord, ExporterRecord, MapperRecord, SettingRecord

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
def stream_register_exporters() -> Iterator[ExporterRecord]:
    yield ExporterRecord(
        name="mapping-yaml",
        description="mapping.yaml: the run's mapping in Stream's format (feed it back with --mapping)",
        factory=lazy(f"{_PKG}.mapping_yaml", "MappingExporter"),
        default_enabled=True,
    )


@hookimpl
def stream_register_settings() -> Iterator[SettingRecord]:
    """The ``fused.*`` keys of the fused mapper and the ``tetra.*`` keys of the allocator."""
    yield SettingRecord(name="fused.per_layer", description="one layer per fusion group", default="false")
    yield SettingRecord(name="fused.cut_points", description="extra layers that start a new fusion group (list)")
    yield SettingRecord(
        name="fused.split",
        description="inter-core split of a layer over its candidate cores",
        choices=("homogeneous", "all", "none"),
        default="homogeneous",
    )
    yield SettingRecord(
        name="fused.memory_fraction", description="share of a core's top memory a group's tiles may use", default="0.5"
    )
    yield SettingRecord(
        name="fused.effort",
        description="mapping search: fast keeps the mapper's own mapping; normal and high score more candidates",
        choices=("fast", "normal", "high"),
        default="fast",
    )
    yield SettingRecord(
        name="fused.objective",
        description="what the mapping search minimises (ties: latency, then energy)",
        choices=("latency", "energy", "edp"),
        default="latency",
    )
    yield SettingRecord(
        name="fused.energy_tolerance",
        description="latency objective: most extra energy over the mapper's own mapping (none: no limit)",
        default="0.0025",
    )
    yield SettingRecord(
        name="tetra.pipelining",
        description="separation: exact overlap of iterations; occupancy: Stream's bound (needs double buffering)",
        choices=("separation", "occupancy"),
        default="separation",
    )
    yield SettingRecord(
        name="tetra.interleave", description="later iterations allowed in a resource's idle gaps", default="1"
    )
    yield SettingRecord(
        name="tetra.double_buffering", description="one more buffer slot for re-used buffers", default="true"
    )
    yield SettingRecord(name="tetra.paths", description="candidate routes per (source, destination) pair", default="2")
    yield SettingRecord(
        name="tetra.transfers",
        description="exact: move what each part reads; stream: what Stream's transfer nodes move",
        choices=("exact", "stream"),
        default="exact",
    )
    yield SettingRecord(name="tetra.max_levels", description="limit of stop levels offered per input (none: no limit)")
    yield SettingRecord(
        name="tetra.greedy",
        description="also schedule each group with the greedy list scheduler and keep the shorter schedule",
        default="true",
    )
    yield SettingRecord(name="tetra.max_tiles", description="tiles recorded per group", default="50000")
    yield SettingRecord(
        name="tetra.refine_firings", description="firings the transfer-mode refinement may schedule", default="2000000"
    )
    yield SettingRecord(
        name="tetra.latency_tolerance",
        description="fraction of latency a group may give up for less off-chip traffic or energy (0: latency first)",
        default="0.02",
    )
    yield SettingRecord(name="tetra.threads", description="solver threads (1 keeps results reproducible)", default="1")
    yield SettingRecord(
        name="tetra.explain",
        description="ask the solver which constraint groups conflict when infeasible",
        default="true",
    )
