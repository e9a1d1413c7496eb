"""Typed records that plugins return from the registration hooks.

Every record has a selection ``name`` (lower-cased, stripped), a one-line ``description`` and a lazy
zero-argument ``factory`` that imports the heavy implementation only when the record is used, so
listing plugins and ``--help`` stay fast. New fields always get defaults, so records written against
an older core keep constructing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs


def normalise_name(name: str) -> str:
    return str(name).strip().lower()


@attrs.frozen(kw_only=True)
class PluginRecord:
    name: str = attrs.field(converter=normalise_name)
    description: str = ""
    factory: Callable[[], Any] = attrs.field(eq=False, repr=False)

    @name.validator
    def _non_empty(self, _attribute: Any, value: str) -> None:
        if not value:
            raise ValueError(f"{type(self).__name__} needs a non-empty name")

    def load(self) -> Any:
        """Call the factory: returns the implementation object (imports happen here)."""
        return self.factory()


@attrs.frozen(kw_only=True)
class CoreTypeRecord(PluginRecord):
    """A core-type namespace (the part before the dot in ``type: zigzag.compute``).

    The factory returns an object with ``parse(data: dict, *, kind: str, file: str | None)`` that
    returns a :class:`~stream_core.ir.accelerator.CoreDescription` or raises
    :class:`~stream_core.errors.InputError` listing every problem in the core file.
    ``default_cost_model`` costs this namespace's compute cores unless the user picks another.
    """

    kinds: frozenset[str] = attrs.field(
        default=frozenset({"compute", "memory", "shim", "offchip"}), converter=frozenset
    )
    default_cost_model: str | None = None


@attrs.frozen(kw_only=True)
class CostModelRecord(PluginRecord):
    """A cost model. The factory returns an object with
    ``cost(requests: Sequence[CostRequest], context: RunContext) -> list[CostResult]`` and optionally
    ``cache_token(context) -> str | None`` (a string enables the persistent cost cache; it must change
    whenever results could change: settings, library versions).
    ``core_types`` lists the core-type namespaces it can cost (empty: any core with a summary)."""

    core_types: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)


@attrs.frozen(kw_only=True)
class WorkloadParserRecord(PluginRecord):
    """Reads a workload file format. The factory returns an object with
    ``parse(path: Path, context: RunContext) -> Workload`` and ``suffixes`` handled."""

    suffixes: tuple[str, ...] = attrs.field(converter=lambda s: tuple(x.lower() for x in s))


@attrs.frozen(kw_only=True)
class OpParserRecord(PluginRecord):
    """Turns one operator type of a domain (``""`` = the default ONNX domain) into workload nodes.

    The factory returns a callable ``(node_proto, graph_view) -> list[Node]`` (see the ONNX plugin's
    documentation for the graph view). ``name`` is ``"<domain or ai.onnx>:<op_type>"``.
    """

    domain: str = ""
    op_type: str


def op_parser_name(domain: str, op_type: str) -> str:
    return f"{domain or 'ai.onnx'}:{op_type}"


@attrs.frozen(kw_only=True)
class MapperRecord(PluginRecord):
    """Produces a mapping when the user gives none. The factory returns an object with
    ``map(workload, accelerator, context) -> Mapping``. The highest ``priority`` is the default."""

    priority: int = 0


@attrs.frozen(kw_only=True)
class AllocatorRecord(PluginRecord):
    """Schedules a costed, mapped workload. The factory returns an object with
    ``allocate(problem: AllocationProblem, context: RunContext) -> Result``.
    The highest ``priority`` is the default."""

    priority: int = 0


@attrs.frozen(kw_only=True)
class SolverRecord(PluginRecord):
    """An LP/MILP solver; the factory returns the solver object defined by the solver API the
    optimising plugins share. ``problem_classes`` lists what it solves (``lp``, ``milp``)."""

    priority: int = 0
    problem_classes: frozenset[str] = attrs.field(default=frozenset({"lp", "milp"}), converter=frozenset)


@attrs.frozen(kw_only=True)
class ExporterRecord(PluginRecord):
    """Writes report files from a run's result. The factory returns an object with
    ``export(result, problem, output_dir: Path, context) -> list[Path]``. Exporters with
    ``default_enabled`` run on every ``stream run`` that has an output directory."""

    default_enabled: bool = False


@attrs.frozen(kw_only=True)
class CodeGeneratorRecord(PluginRecord):
    """Generates a hardware project (``stream compile``). The factory returns an object with
    ``generate(workload, target: Path, context) -> stream_core.outputs.Generated``: the files in
    memory and a summary; the core writes them."""


@attrs.frozen(kw_only=True)
class TargetRecord(PluginRecord):
    """A named hardware target (``stream compile --target NAME``). The factory returns the path of
    its hardware file; ``code_generator`` names the code generator used by default."""

    code_generator: str | None = None


@attrs.frozen(kw_only=True)
class SettingRecord(PluginRecord):
    """A ``--set`` key a plugin reads, named ``"<plugin>.<key>"``. ``choices`` lists the accepted
    values when they are fixed; ``default`` is the value used when the key is not set (as text, for
    ``stream plugins``). The factory is optional and returns ``default``."""

    factory: Callable[[], Any] = attrs.field(
        default=attrs.Factory(lambda self: lambda: self.default, takes_self=True), eq=False, repr=False
    )
    choices: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    default: str | None = None


@attrs.frozen(kw_only=True)
class CommandRecord(PluginRecord):
    """A ``stream`` sub-command. The factory returns an object with ``add_arguments(parser)`` and
    ``run(args, context) -> int`` (the exit code)."""
