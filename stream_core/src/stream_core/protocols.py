"""What each plugin kind's implementation object must provide: one :class:`typing.Protocol` per kind.

A record's ``factory`` returns an object of its kind's protocol (``CostModelRecord.factory`` is a
``Callable[[], CostModel]``); the core calls nothing else on it. The protocols are
:func:`~typing.runtime_checkable`, so ``isinstance(obj, CostModel)`` checks that the methods exist
(not their signatures; a type checker such as mypy checks those). :class:`Solver` is the
protocol of :mod:`stream_core.ir.lp`, made runtime checkable.

Added in 0.2 (0.1 described the same contracts in the records' docstrings).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping as MappingOf
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from stream_core.ir import lp

if TYPE_CHECKING:
    from stream_core.context import RunContext
    from stream_core.ir import (
        Accelerator,
        AllocationProblem,
        CoreDescription,
        CostRequest,
        CostResult,
        Mapping,
        Result,
        Workload,
    )
    from stream_core.outputs import Generated

__all__ = [
    "Allocator",
    "CacheableCostModel",
    "CodeGenerator",
    "Command",
    "CoreType",
    "CostModel",
    "Exporter",
    "Frontend",
    "Mapper",
    "Solver",
    "WorkloadParser",
]


@runtime_checkable
class CoreType(Protocol):
    """Reads one core description file of its namespace (the ``zigzag`` in ``type: zigzag.compute``).

    ``data`` is the file's YAML mapping, ``kind`` the part after the dot, ``file`` its path for
    messages. Raises :class:`~stream_core.errors.InputError` listing every problem in the file."""

    def parse(self, data: MappingOf[str, Any], *, kind: str, file: str | None) -> CoreDescription: ...


@runtime_checkable
class CostModel(Protocol):
    """Estimates latency and energy of (tile, core) pairs: one result per request, in order."""

    def cost(self, requests: Sequence[CostRequest], context: RunContext) -> list[CostResult]: ...


@runtime_checkable
class CacheableCostModel(CostModel, Protocol):
    """A cost model whose results the core may keep in the persistent cost cache. ``cache_token``
    returns a string that changes whenever results could (settings, library versions), or ``None``
    to skip the cache for this run."""

    def cache_token(self, context: RunContext) -> str | None: ...


@runtime_checkable
class WorkloadParser(Protocol):
    """Reads a workload file of the suffixes its record lists."""

    def parse(self, path: Path, context: RunContext) -> Workload: ...


@runtime_checkable
class Frontend(Protocol):
    """Turns an in-memory model object (one of the types its record lists) into a workload."""

    def load(self, source: object, context: RunContext) -> Workload: ...


@runtime_checkable
class Mapper(Protocol):
    """Builds a mapping (cores, splits, fused groups, tiles) when the user supplies none."""

    def map(self, workload: Workload, accelerator: Accelerator, context: RunContext) -> Mapping: ...


@runtime_checkable
class Allocator(Protocol):
    """Schedules a costed, mapped workload: returns the timed result."""

    def allocate(self, problem: AllocationProblem, context: RunContext) -> Result: ...


@runtime_checkable
class Exporter(Protocol):
    """Writes files about a run's result into ``output_dir``; returns the paths it wrote.

    ``output_dir`` is an empty folder of the exporter's own, whose files the core then moves into the
    run's output folder (all of them, or none when ``export`` raises). For a large result the exporters
    run at the same time, some in forked processes: an exporter may only write its files and call
    ``context.warn``; any other change to ``context`` or ``result`` is lost."""

    def export(
        self, result: Result, problem: AllocationProblem, output_dir: Path, context: RunContext
    ) -> list[Path]: ...


@runtime_checkable
class CodeGenerator(Protocol):
    """Generates a hardware project for ``workload`` on the hardware file ``target``, in memory:
    the core writes :attr:`Generated.files <stream_core.outputs.Generated.files>`."""

    def generate(self, workload: Workload, target: Path, context: RunContext) -> Generated: ...


@runtime_checkable
class Solver(lp.Solver, Protocol):
    """An LP/MILP solver of the core's model API (:mod:`stream_core.ir.lp`): ``name`` says which
    solver answered; ``solve`` returns a :class:`~stream_core.ir.lp.Solution` whose status says
    whether it is optimal, feasible at a limit, infeasible, unbounded or failed."""


@runtime_checkable
class Command(Protocol):
    """A ``stream`` sub-command: declares its arguments, then runs; ``run`` returns the exit code."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, context: RunContext) -> int: ...


#: The protocol of each core plugin kind's implementation objects (kinds whose records have a factory
#: returning one; ``targets`` and ``settings`` have none).
PROTOCOL_OF_KIND: dict[str, type] = {
    "core_types": CoreType,
    "cost_models": CostModel,
    "workload_parsers": WorkloadParser,
    "frontends": Frontend,
    "mappers": Mapper,
    "allocators": Allocator,
    "solvers": Solver,
    "exporters": Exporter,
    "code_generators": CodeGenerator,
    "commands": Command,
}
