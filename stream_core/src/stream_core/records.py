"""Typed records that plugins return from the registration hooks.

Every record has a selection ``name`` (lower-cased, stripped), a one-line ``description`` and a lazy
zero-argument ``factory`` that imports the heavy implementation only when the record is used, so
listing plugins and ``--help`` stay fast. What the factory returns is the kind's protocol in
:mod:`stream_core.protocols` (``CostModelRecord.factory: Callable[[], CostModel]``). New fields
always get defaults, so records written against an older core keep constructing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

import attrs

from stream_core.protocols import (
    Allocator,
    CodeGenerator,
    Command,
    CoreType,
    CostModel,
    Exporter,
    Frontend,
    Mapper,
    Solver,
    WorkloadParser,
)

T = TypeVar("T")


def normalise_name(name: str) -> str:
    return str(name).strip().lower()


def _name_set(items: Iterable[str]) -> frozenset[str]:
    return frozenset(items)


def _text_tuple(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


def _schemes(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(item).strip().lower().rstrip(":") for item in items)


def _suffixes(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(x.lower() for x in items)


@attrs.frozen(kw_only=True)
class PluginRecord(Generic[T]):
    """Base of every record: ``factory`` returns the implementation, of type ``T``."""

    name: str = attrs.field(converter=normalise_name)
    description: str = ""
    factory: Callable[[], T] = attrs.field(eq=False, repr=False)

    @name.validator
    def _non_empty(self, _attribute: Any, value: str) -> None:
        if not value:
            raise ValueError(f"{type(self).__name__} needs a non-empty name")

    def load(self) -> T:
        """Call the factory: returns the implementation object (imports happen here)."""
        return self.factory()


@attrs.frozen(kw_only=True)
class CoreTypeRecord(PluginRecord[CoreType]):
    """A core-type namespace (the part before the dot in ``type: zigzag.compute``): the factory
    returns a :class:`~stream_core.protocols.CoreType`. ``kinds`` lists the kinds it reads;
    ``default_cost_model`` costs this namespace's compute cores unless the user picks another."""

    kinds: frozenset[str] = attrs.field(
        default=frozenset({"compute", "memory", "shim", "offchip"}), converter=_name_set
    )
    default_cost_model: str | None = None


@attrs.frozen(kw_only=True)
class CostModelRecord(PluginRecord[CostModel]):
    """A cost model: the factory returns a :class:`~stream_core.protocols.CostModel` (a
    :class:`~stream_core.protocols.CacheableCostModel` enables the persistent cost cache).
    ``core_types`` lists the core-type namespaces it can cost (empty: any core with a summary)."""

    core_types: frozenset[str] = attrs.field(default=frozenset(), converter=_name_set)


@attrs.frozen(kw_only=True)
class WorkloadParserRecord(PluginRecord[WorkloadParser]):
    """Reads workload files with the given ``suffixes``: the factory returns a
    :class:`~stream_core.protocols.WorkloadParser`. ``schemes`` (lower case, no colon) are reference
    prefixes it also reads where no such file exists, e.g. ``block`` for ``block:llama?d=64``; the
    parser gets the reference as the path."""

    suffixes: tuple[str, ...] = attrs.field(converter=_suffixes)
    schemes: tuple[str, ...] = attrs.field(default=(), converter=_schemes)


@attrs.frozen(kw_only=True)
class FrontendRecord(PluginRecord[Frontend]):
    """Turns in-memory model objects into workloads: the factory returns a
    :class:`~stream_core.protocols.Frontend`. ``object_types`` are the qualified names of the classes
    it accepts (``"torch.export.ExportedProgram"``), matched against the source's class and its
    bases without importing them."""

    object_types: tuple[str, ...] = attrs.field(converter=_text_tuple)

    def accepts(self, source: object) -> bool:
        """Whether ``source`` is an instance of (a subclass of) one of ``object_types``."""
        names = {f"{cls.__module__}.{cls.__qualname__}" for cls in type(source).__mro__}
        return not names.isdisjoint(self.object_types)


@attrs.frozen(kw_only=True)
class MapperRecord(PluginRecord[Mapper]):
    """Produces a mapping when the user gives none: the factory returns a
    :class:`~stream_core.protocols.Mapper`. The highest ``priority`` is the default."""

    priority: int = 0


@attrs.frozen(kw_only=True)
class AllocatorRecord(PluginRecord[Allocator]):
    """Schedules a costed, mapped workload: the factory returns an
    :class:`~stream_core.protocols.Allocator`. The highest ``priority`` is the default."""

    priority: int = 0


@attrs.frozen(kw_only=True)
class SolverRecord(PluginRecord[Solver]):
    """An LP/MILP solver: the factory returns a :class:`~stream_core.ir.lp.Solver`.
    ``problem_classes`` lists what it solves (``lp``, ``milp``); the highest ``priority`` is the default."""

    priority: int = 0
    problem_classes: frozenset[str] = attrs.field(default=frozenset({"lp", "milp"}), converter=_name_set)


@attrs.frozen(kw_only=True)
class ExporterRecord(PluginRecord[Exporter]):
    """Writes report files from a run's result: the factory returns an
    :class:`~stream_core.protocols.Exporter`. Exporters with ``default_enabled`` run on every
    ``stream run`` that has an output directory."""

    default_enabled: bool = False


@attrs.frozen(kw_only=True)
class CodeGeneratorRecord(PluginRecord[CodeGenerator]):
    """Generates a hardware project (``stream compile``): the factory returns a
    :class:`~stream_core.protocols.CodeGenerator`; the core writes the files it returns."""


@attrs.frozen(kw_only=True)
class TargetRecord(PluginRecord[Path | str]):
    """A named hardware target (``stream compile --target NAME``). The factory returns the path of
    its hardware file; ``code_generator`` names the code generator used by default."""

    code_generator: str | None = None


@attrs.frozen(kw_only=True)
class CommandRecord(PluginRecord[Command]):
    """A ``stream`` sub-command: the factory returns a :class:`~stream_core.protocols.Command`."""


def _default_of(record: SettingRecord) -> Callable[[], str | None]:
    return lambda: record.default


@attrs.frozen(kw_only=True)
class SettingRecord(PluginRecord[str | None]):
    """A ``--set`` key a plugin reads, named ``"<plugin>.<key>"``. ``choices`` lists the accepted
    values when they are fixed; ``default`` is the value used when the key is not set (as text, for
    ``stream plugins``). The factory is optional and returns ``default``."""

    factory: Callable[[], str | None] = attrs.field(
        default=attrs.Factory(_default_of, takes_self=True), eq=False, repr=False
    )
    choices: tuple[str, ...] = attrs.field(default=(), converter=_text_tuple)
    default: str | None = None
