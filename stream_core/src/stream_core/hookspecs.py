"""Hook specifications: the only way a plugin extends stream-core.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names match the specs
below, made discoverable through an entry point in the group :data:`ENTRY_POINT_GROUP` whose name is
the plugin's distribution name::

    [project.entry-points."stream_core.plugins"]
    my-accelerator-plugin = "my_accelerator_plugin.plugin"

Each registration hook takes no arguments and returns (or yields) typed records; the core collects
them per kind, checks names for conflicts and loads the implementation lazily when selected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

if TYPE_CHECKING:
    from stream_core.records import (
        AllocatorRecord,
        CodeGeneratorRecord,
        CommandRecord,
        CoreTypeRecord,
        CostModelRecord,
        ExporterRecord,
        FrontendRecord,
        MapperRecord,
        PluginRecord,
        SettingRecord,
        SolverRecord,
        TargetRecord,
        WorkloadParserRecord,
    )

PROJECT_NAME = "stream_core"
ENTRY_POINT_GROUP = "stream_core.plugins"
#: Version of the hook API; plugins may depend on ``stream-core>=0.2,<1``.
HOOK_API_VERSION = "0.2"

#: A registration hook is named ``stream_register_<kind>``.
REGISTER_PREFIX = "stream_register_"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

F = TypeVar("F", bound=Callable[..., Any])
_KIND = "stream_core_kind"


def registration_hookspec(record_type: type[PluginRecord[Any]], label: str) -> Callable[[F], F]:
    """Declare a registration hook a plugin owns, in the hookspecs module it adds through
    :func:`stream_add_hookspecs`: the hook ``stream_register_<kind>`` returns ``record_type`` items,
    which the core collects, checks and lists as it does its own kinds (``label`` names one record
    in messages). Example: the ONNX plugin's ``op_parsers``.

    Added in 0.2.
    """

    def mark(function: F) -> F:
        if not function.__name__.startswith(REGISTER_PREFIX):
            raise ValueError(f"a registration hook is named {REGISTER_PREFIX}<kind>, not {function.__name__!r}")
        setattr(function, _KIND, (record_type, label))
        return hookspec(function)

    return mark


def declared_kind(caller: Any) -> tuple[type[PluginRecord[Any]], str] | None:
    """The (record type, label) of a hook declared with :func:`registration_hookspec`, else ``None``."""
    spec = getattr(caller, "spec", None)
    return getattr(spec.function, _KIND, None) if spec is not None else None


@hookspec
def stream_register_core_types() -> Iterable[CoreTypeRecord]:
    """Register core-type namespaces (``zigzag``, ``aie2``, ...) that read core description files.

    Returns: :class:`~stream_core.records.CoreTypeRecord` items.
    Added in 0.1.
    """
    return ()


@hookspec
def stream_register_cost_models() -> Iterable[CostModelRecord]:
    """Register cost models that estimate latency and energy of a (tile, core) pair.

    Returns: :class:`~stream_core.records.CostModelRecord` items.
    Added in 0.1.
    """
    return ()


@hookspec
def stream_register_workload_parsers() -> Iterable[WorkloadParserRecord]:
    """Register readers of workload file formats, chosen by file suffix.

    Returns: :class:`~stream_core.records.WorkloadParserRecord` items.
    Added in 0.1.
    """
    return ()


@hookspec
def stream_register_frontends() -> Iterable[FrontendRecord]:
    """Register frontends that turn in-memory model objects (``torch.export`` programs, ...) into
    workloads, chosen by the object's class.

    Returns: :class:`~stream_core.records.FrontendRecord` items.
    Added in 0.2.
    """
    return ()


@hookspec
def stream_register_mappers() -> Iterable[MapperRecord]:
    """Register mappers/tilers that build a mapping (cores, splits, fused groups, tiles) when the
    user supplies no mapping file.

    Returns: :class:`~stream_core.records.MapperRecord` items.
    Added in 0.1.
    """
    return ()


@hookspec
def stream_register_allocators() -> Iterable[AllocatorRecord]:
    """Register allocators (schedulers) that turn a costed mapping into a timed schedule.

    Returns: :class:`~stream_core.records.AllocatorRecord` items.
    Added in 0.1.
    """
    return ()


@hookspec
def stream_register_solvers() -> Iterable[SolverRecord]:
    """Register LP/MILP solvers usable by optimising plugins (allocation, FIFO sizing).

    Returns: :class:`~stream_core.records.SolverRecord` items.
    Added in 0.1.
    """
    return ()


@hookspec
def stream_register_exporters() -> Iterable[ExporterRecord]:
    """Register exporters that write a run's result as files (reports, traces, charts).

    Returns: :class:`~stream_core.records.ExporterRecord` items.
    Added in 0.2 (0.1 had them as ``role="exporter"`` backends).
    """
    return ()


@hookspec
def stream_register_code_generators() -> Iterable[CodeGeneratorRecord]:
    """Register code generators that turn a workload into a hardware project (``stream compile``).

    Returns: :class:`~stream_core.records.CodeGeneratorRecord` items.
    Added in 0.2 (0.1 had them as ``role="codegen"`` backends).
    """
    return ()


@hookspec
def stream_register_targets() -> Iterable[TargetRecord]:
    """Register named hardware targets for ``stream compile --target NAME``.

    Returns: :class:`~stream_core.records.TargetRecord` items.
    Added in 0.1.
    """
    return ()


@hookspec
def stream_register_commands() -> Iterable[CommandRecord]:
    """Register extra ``stream`` sub-commands (e.g. ``stream fifo-size``).

    Returns: :class:`~stream_core.records.CommandRecord` items.
    Added in 0.1.
    """
    return ()


@hookspec
def stream_register_settings() -> Iterable[SettingRecord]:
    """Register the ``--set`` keys a plugin reads (``"<plugin>.<key>"``), so the core can list them
    and warn about unknown keys.

    Returns: :class:`~stream_core.records.SettingRecord` items.
    Added in 0.2.
    """
    return ()


@hookspec(historic=True)
def stream_add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    """Let a plugin add hook specs of its own (call ``pluginmanager.add_hookspecs(module)``), so
    other plugins can extend it, e.g. the TETRA allocator's core-type-specific constraints.

    Called once per plugin, when it is registered. Returns nothing.
    Added in 0.1.
    """
