"""The two flows of the core, which the CLI only wraps:

* :func:`run`: parse -> map/tile -> cost -> allocate -> export. Each stage is a small function over
  a :class:`PipelineState`; the plugins doing the work are chosen from the registries by the
  options. Exporters write into a temporary folder moved into place at the end (all or nothing,
  :class:`~stream_core.outputs.StagedOutput`); one exporter that raises is reported by name and
  distribution in :attr:`RunOutcome.export_failures`, its files removed, and the others still write.
* :func:`compile`: parse -> the target's code generator -> project files, the target resolved once
  (:func:`resolve_target`) and the files written all or nothing.

Nothing is approximated silently: every cost not given by the model that was asked (a
``fallback_reason``, or the roofline standing in for a core type without an installed cost model)
and every ``precision_fallback`` becomes a summary warning naming the nodes, and an error under
``strict_costs``; accelerator and mapping notes, and a hint when only a built-in mapper or
allocator was available, become summary notes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Mapping as MappingOf
from pathlib import Path
from typing import Any

import attrs

from stream_core.context import RunContext, RunOptions, TimeLimitExceeded, check_time
from stream_core.costing import choose_and_cost
from stream_core.errors import InfeasibleError, InputError, PluginError, Problem, UnknownPluginError, option
from stream_core.hardware import load_accelerator
from stream_core.ir.accelerator import Accelerator
from stream_core.ir.cost import CostRequest, CostResult
from stream_core.ir.mapping import Mapping
from stream_core.ir.problem import AllocationProblem, CostTable
from stream_core.ir.result import Result
from stream_core.ir.workload import Workload
from stream_core.mapping_io import load_mapping
from stream_core.outputs import Generated, StagedOutput, check_output_dir, write_each, write_files
from stream_core.plugins import BUILTIN_NAME, DISABLE_ENV, Plugins, load_plugins
from stream_core.reductions import lower_split_reductions
from stream_core.stage_cache import cached, code_stamp
from stream_core.tiling import MEMORY_LIMIT_MB, NodeTiling, memory_limit

log = logging.getLogger("stream_core")

#: Per kind: what its built-in did, what a plugin could do better and which one: hint text only (the
#: core imports no plugin and works without any).
BUILTIN_HINTS = {
    "mappers": (
        "mapped by the built-in whole-layer mapper (layer by layer, no fusion)",
        "a fusing mapper",
        "the fused mapper",
    ),
    "allocators": ("scheduled by the built-in greedy list scheduler", "an optimising allocator", "TETRA allocation"),
}
INSTALL_HINT = "pip install stream-tetra"
NAMES_SHOWN = 10
#: Exporters run at the same time from this many tiles and transfers on: below, starting a process
#: costs more than it saves (some 15 ms; the trace of 70,000 records takes 0.2-0.3 s).
CONCURRENT_EXPORT = 10_000
#: Exporters started first when exporting at the same time, longest first: the built-in ones whose
#: work grows with every tile and link crossing (the trace's 54 MB on the AIE gemm 256x8192x2048),
#: so that the processes end together instead of one taking the trace last.
LONG_EXPORTERS = ("perfetto", "gantt")
#: ``CostResult.details`` keys copied to a node's summary row.
COST_DETAILS = ("fallback_reason", "precision", "precision_fallback", "search_fallback")


@attrs.define
class PipelineState:
    workload_source: object  # a file, a Workload, or an object a frontend reads (see load_workload)
    hardware_source: str | Path | Accelerator
    mapping_source: str | Path | Mapping | None = None
    workload: Workload | None = None
    accelerator: Accelerator | None = None
    mapping: Mapping | None = None
    #: the workload and mapping as read, when split reductions were made explicit (stream_core.reductions)
    unlowered: tuple[Workload, Mapping] | None = None
    tilings: dict[str, NodeTiling] = attrs.field(factory=dict)
    costs: CostTable | None = None
    result: Result | None = None
    output_dir: Path | None = None
    exporters: list[str] = attrs.field(factory=list)  # names, chosen before the run starts
    export_failures: list[str] = attrs.field(factory=list)
    provenance: dict[str, str] = attrs.field(factory=dict)
    timings: dict[str, float] = attrs.field(factory=dict)
    notes: list[str] = attrs.field(factory=list)
    builtin_defaults: list[str] = attrs.field(factory=list)  # kinds that fell to a built-in default
    cache_hits: list[str] = attrs.field(factory=list)  # stages answered by the stage cache
    stamp: tuple[Any, ...] | None = None  # the code stamp of the stage cache, once computed

    @property
    def problem(self) -> AllocationProblem:
        assert self.workload and self.accelerator and self.mapping and self.costs is not None
        return AllocationProblem(
            self.workload, self.accelerator, self.mapping, self.tilings, self.costs, unlowered=self.unlowered
        )


@attrs.frozen
class RunOutcome:
    result: Result
    problem: AllocationProblem
    files: tuple[Path, ...]
    output_dir: Path | None
    #: One line per exporter that raised: ``exporter NAME (DISTRIBUTION VERSION) failed: REASON``.
    export_failures: tuple[str, ...] = ()


# -- stages -----------------------------------------------------------------------------------
def parse_stage(state: PipelineState, context: RunContext) -> None:
    if isinstance(state.hardware_source, Accelerator):
        state.accelerator = state.hardware_source
    else:
        state.accelerator = load_accelerator(state.hardware_source, context.plugins)
    context.accelerator = state.accelerator
    state.notes += state.accelerator.notes
    source = state.workload_source
    if isinstance(source, Workload):
        state.workload = source
    elif isinstance(source, str | Path):
        path = Path(source)
        state.workload, origin = _through_cache(
            state,
            context,
            "workload",
            lambda: (str(path.resolve()), path.read_bytes() if path.is_file() else None, context.options.settings),
            lambda: parse_workload(path, context),
        )
        state.provenance["workload parser"] = origin
    else:
        state.workload, origin = load_workload(source, context)
        state.provenance["workload frontend"] = origin


def check_options(context: RunContext) -> None:
    """Check a run's options before any work: ``settings`` keys against the registered settings
    (a warning with a did-you-mean, an error for strict plugins) and ``solver`` against the installed
    solvers (an unknown one is an error listing them)."""
    context.plugins.check_settings(context.options.settings)
    if context.options.solver:
        context.plugins.registry("solvers").get(context.options.solver)


def load_workload(source: object, context: RunContext) -> tuple[Workload, str]:
    """A workload from what the user gave: a :class:`Workload` as it is, a file (or a parser's scheme
    such as ``block:NAME?...``) through :func:`parse_workload`, any other object through the installed
    frontend that accepts it (e.g. a ``torch.export`` program). Returns it and the plugin used."""
    if isinstance(source, Workload):
        return source, "given"
    if isinstance(source, str | Path):
        return parse_workload(Path(source), context)
    registry = context.plugins.registry("frontends")
    for record in registry:
        if record.accepts(source):
            return record.load().load(source, context), context.plugins.origin("frontends", record.name)
    accepted = sorted({t for r in registry for t in r.object_types})
    raise InputError(
        Problem(
            f"no installed frontend reads a {type(source).__module__}.{type(source).__qualname__}; "
            f"accepted objects: {', '.join(accepted) or 'none (install a frontend plugin such as stream-torch)'}",
            field="workload",
        )
    )


def parse_workload(path: Path, context: RunContext) -> tuple[Workload, str]:
    """Parse a workload file with the parser registered for its suffix, or a reference in a scheme a
    parser registered (``block:llama?d=64`` when no such file exists); returns it and the plugin used."""
    registry = context.plugins.registry("workload_parsers")
    if not path.exists():
        scheme = str(path).partition(":")[0].lower() if ":" in str(path) else ""
        for record in registry:
            if scheme and scheme in record.schemes:
                return record.load().parse(path, context), context.plugins.origin("workload_parsers", record.name)
        raise InputError(Problem("file not found", file=str(path)))
    suffix = path.suffix.lower()
    for record in registry:
        if suffix in record.suffixes:
            return record.load().parse(path, context), context.plugins.origin("workload_parsers", record.name)
    known = sorted({s for r in registry for s in r.suffixes})
    raise InputError(
        Problem(
            f"no installed workload parser reads '{suffix or '(no suffix)'}' files; "
            f"readable: {', '.join(known) or 'none (install a workload parser plugin such as stream-onnx)'}",
            file=str(path),
        )
    )


def map_stage(state: PipelineState, context: RunContext) -> None:
    assert state.workload is not None and state.accelerator is not None
    source = state.mapping_source
    if isinstance(source, Mapping):
        state.mapping = source
        state.provenance["mapping"] = source.source or "given"
    elif source is not None:
        state.mapping = load_mapping(source, state.workload, state.accelerator)
        state.provenance["mapping"] = str(source)
    else:
        record = _select(state, context, "mappers", context.options.mapper)
        if record is None:
            raise PluginError("no mapper is installed and no mapping file was given")
        options = context.options
        state.mapping = _through_cache(
            state,
            context,
            "mapping",
            lambda: (
                state.workload,
                state.accelerator,
                record.name,
                context.plugins.origin("mappers", record.name),
                (options.cost_model, options.allocator, options.solver, options.time_limit, options.strict_costs),
                options.settings,
            ),
            lambda: record.load().map(state.workload, state.accelerator, context),
        )
    state.notes += state.mapping.notes
    lowered = lower_split_reductions(state.workload, state.mapping)
    state.notes += lowered.notes
    if lowered.workload is not state.workload:
        state.unlowered = (state.workload, state.mapping)
        state.workload, state.mapping = lowered.workload, lowered.mapping
    state.tilings = build_tilings(state.workload, state.mapping, memory_limit(context))


def _select(state: PipelineState, context: RunContext, kind: str, chosen: str | None) -> Any:
    """The record the user chose, else the kind's default; records its provenance and whether the
    default was a built-in (then :func:`builtin_hint` tells what a plugin could change)."""
    registry = context.plugins.registry(kind)
    record = registry.get(chosen) if chosen else registry.default()
    if record is None:
        return None
    key, keyword = {"mappers": ("mapping", "mapper"), "allocators": ("allocator", "allocator")}[kind]
    origin = context.plugins.origin(kind, record.name)
    state.provenance[key] = f"{origin}, selected with {option(keyword, chosen)}" if chosen else origin
    if not chosen and registry.entry(record.name).distribution == BUILTIN_NAME:
        state.builtin_defaults.append(kind)
    return record


def builtin_hint(kinds: list[str], plugins: Plugins) -> str:
    """A note saying that only built-ins of ``kinds`` were available and what could change the answer."""
    hints = [BUILTIN_HINTS[k] for k in kinds]
    done, offer = (" and ".join(h[i] for h in hints) for i in (0, 2))
    better, labels = " or ".join(h[1] for h in hints), " or ".join(k[:-1] for k in kinds)
    note = f"{done}: no other {labels} is installed; {better} can change the answer ({INSTALL_HINT} for {offer})"
    idle = [f"{i.distribution} ({i.status})" for i in plugins.infos() if i.status != "active"]
    if idle:
        note += f"; installed but not loaded: {', '.join(idle)} (see {DISABLE_ENV} and 'stream plugins')"
    return note


def build_tilings(workload: Workload, mapping: Mapping, limit: int = MEMORY_LIMIT_MB << 20) -> dict[str, NodeTiling]:
    """Each node's tiling; one's tile list may take ``limit`` bytes (:func:`stream_core.tiling.memory_limit`)."""
    tilings = {}
    for group in mapping.groups:
        check_time()
        for name in group.nodes:
            tilings[name] = NodeTiling(
                workload.node(name), mapping[name], group.tile_sizes(name), limit, mapping.source
            )
    return tilings


def cost_stage(state: PipelineState, context: RunContext) -> None:
    assert state.accelerator is not None
    state.costs = compute_costs(state.tilings, state.accelerator, context)
    used = state.costs.models_used()
    state.provenance["cost models"] = ", ".join(
        f"{context.plugins.origin('cost_models', name)}: {count} entries" for name, count in sorted(used.items())
    )
    if context.options.strict_costs:
        everywhere = {name: tiling.mapping.cores for name, tiling in state.tilings.items()}
        lines = fallback_lines(cost_entries(state.tilings, state.costs, everywhere))
        if lines:
            raise InputError(
                [
                    Problem(f"{line}; without {option('strict_costs')} this is a warning", field=option("strict_costs"))
                    for line in lines
                ]
            )


def compute_costs(tilings: dict[str, NodeTiling], accelerator: Accelerator, context: RunContext) -> CostTable:
    """Cost every (tile shape, candidate core) through :func:`stream_core.costing.choose_and_cost`
    (model choice, deduplication, cache) and check every node can run somewhere."""
    table = CostTable()
    if context.options.cost_model:
        record = context.plugins.get("cost_models", context.options.cost_model)
        namespaces = {c.namespace for c in accelerator.cores.values() if c.is_compute}
        if record.core_types and not (record.core_types & namespaces):
            raise PluginError(
                f"cost model {record.name!r} costs core types {sorted(record.core_types)}; "
                f"this accelerator has {sorted(namespaces)}"
            )
    slots: list[tuple[str, int, tuple[int, ...]]] = []
    requests: list[CostRequest] = []
    for name, tiling in tilings.items():
        context.check_time()
        for shape in tiling.shapes():
            tile = tiling.tile_node(shape)
            for core_id in dict.fromkeys(tiling.mapping.cores):
                requests.append(
                    CostRequest(tile, accelerator.cores[core_id], tiling.mapping.kernel, tiling.mapping.hints)
                )
                slots.append((name, core_id, shape))
    for (name, core_id, shape), (choice, result) in zip(
        slots, choose_and_cost(requests, context, stats=table.stats), strict=True
    ):
        table.add(name, core_id, shape, result, asked="" if choice.fallback_reason else choice.name)
    _check_feasible(tilings, table)
    return table


def cost_entries(
    tilings: dict[str, NodeTiling], costs: CostTable, cores: MappingOf[str, Iterable[int]]
) -> list[tuple[str, str, CostResult]]:
    """``(node, model asked, result)`` for every tile shape of every node on the given cores."""
    return [
        (name, costs.asked(name, core, shape), costs.get(name, core, shape))
        for name, tiling in tilings.items()
        for core in dict.fromkeys(cores[name])
        for shape in tiling.shapes()
    ]


def node_costs(entries: Iterable[tuple[str, str, CostResult]]) -> dict[str, dict[str, str]]:
    """Per node: the models that gave its costs and, when any says so, the fallback reasons,
    precisions and precision fallbacks (distinct values joined by ' | ')."""
    found: dict[str, dict[str, dict[str, None]]] = {}
    for name, _asked, result in entries:
        values = {"cost_model": result.model}
        values.update({k: str(result.detail(k)) for k in COST_DETAILS if result.detail(k)})
        for key, value in values.items():
            found.setdefault(name, {}).setdefault(key, {})[value] = None
    return {name: {k: " | ".join(sorted(v)) for k, v in keys.items()} for name, keys in found.items()}


def fallback_lines(entries: Iterable[tuple[str, str, CostResult]]) -> list[str]:
    """One line per distinct fallback (model asked, model used, reason), per distinct precision
    fallback and per distinct search fallback, naming the nodes it concerns."""
    groups: dict[str, dict[str, None]] = {}
    for name, asked, result in entries:
        reason = result.detail("fallback_reason")
        if reason:
            instead = f", not {asked}," if asked and asked != result.model else ""
            groups.setdefault(f"costed by {result.model}{instead} because {reason}", {})[name] = None
        precision = result.detail("precision_fallback")
        if precision:
            groups.setdefault(f"with operand widths that fell back ({precision})", {})[name] = None
        search = result.detail("search_fallback")
        if search:
            groups.setdefault(f"by a search that fell back ({search})", {})[name] = None
    return [f"{_count(len(names))} {what}: {_names(list(names))}" for what, names in groups.items()]


def _count(n: int) -> str:
    return f"{n} node" + ("" if n == 1 else "s")


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


def _check_feasible(tilings: dict[str, NodeTiling], table: CostTable) -> None:
    report = []
    for name, tiling in tilings.items():
        shapes = list(tiling.shapes())
        cores = tiling.mapping.cores
        bad = {c: table.get(name, c, s) for c in cores for s in shapes if not table.get(name, c, s).feasible}
        pinned = tiling.parts > 1
        if (pinned and bad) or (not pinned and len({c for c in bad}) == len(cores)):
            for core, result in sorted(bad.items()):
                report.append(f"node {name!r} on core {core}: {result.reason}")
    if report:
        raise InfeasibleError(
            "some nodes cannot run on any of their cores with the current tiling; tile them smaller "
            "(intra_core_tiling) or allow other cores",
            report,
        )


def allocate_stage(state: PipelineState, context: RunContext) -> None:
    assert state.accelerator is not None and state.costs is not None
    record = _select(state, context, "allocators", context.options.allocator)
    if record is None:
        raise PluginError("no allocator is installed")
    started = time.perf_counter()
    options = context.options
    result = _through_cache(
        state,
        context,
        "allocation",
        lambda: (
            state.problem,
            record.name,
            context.plugins.origin("allocators", record.name),
            (options.solver, options.time_limit, options.jobs, options.settings),
        ),
        lambda: record.load().allocate(state.problem, context),
    )
    stats = dict(result.stats)
    stats["cost"] = dict(state.costs.stats)
    stats["cost_models"] = dict(state.costs.models_used())
    stats["stage_seconds"] = {**state.timings, "allocate": round(time.perf_counter() - started, 4)}
    if state.cache_hits:
        stats["stage_cache_hits"] = list(state.cache_hits)
    used: dict[str, set[int]] = {}
    for tile in result.tiles:
        used.setdefault(tile.node, set()).add(tile.core)
    cores = {name: sorted(used.get(name, ())) or tiling.mapping.cores for name, tiling in state.tilings.items()}
    entries = cost_entries(state.tilings, state.costs, cores)
    notes = [*state.notes, *result.notes]
    if state.builtin_defaults:
        notes.append(builtin_hint(state.builtin_defaults, context.plugins))
    warnings = [*getattr(state.accelerator, "warnings", ()), *result.warnings, *context.warnings]
    state.result = attrs.evolve(
        result,
        provenance={**state.provenance, **result.provenance},
        stats=stats,
        warnings=tuple(dict.fromkeys([*warnings, *fallback_lines(entries)])),
        notes=tuple(dict.fromkeys(notes)),
        node_costs=node_costs(entries),
    )


def _through_cache(
    state: PipelineState,
    context: RunContext,
    kind: str,
    parts: Callable[[], tuple[Any, ...]],
    compute: Callable[[], Any],
) -> Any:
    """``compute()`` through the stage cache (:mod:`stream_core.stage_cache`) unless ``--no-cache``
    or a plugin's code cannot be identified; the warnings it gave are kept with it and given again."""
    directory = None
    if context.options.use_cache:
        if state.stamp is None:
            state.stamp = code_stamp(context.plugins) or ()
        directory = context.options.effective_cache_dir if state.stamp else None
    before = len(context.warnings)

    def run() -> tuple[Any, list[str]]:
        return compute(), context.warnings[before:]

    (value, warnings), hit = cached(directory, kind, lambda: (*parts(), state.stamp), run)
    for warning in warnings if hit else ():
        context.warn(warning)
    if hit:
        state.cache_hits.append(kind)
    return value


def export_stage(state: PipelineState, context: RunContext) -> None:
    """Run the chosen exporters into the output folder, for a result of :data:`CONCURRENT_EXPORT`
    records or more at the same time where the platform can fork (one process per CPU, see
    :func:`~stream_core.outputs.write_each`); one that raises is reported (see the module docstring)
    and the files it had written are removed. Warnings an exporter gave in a child are kept too."""
    if state.output_dir is None or state.result is None:
        return
    result, problem = state.result, state.problem

    def exporter(name: str) -> Callable[[Path], list[str]]:
        def export(folder: Path) -> list[str]:  # its warnings returned, added below in exporter order
            before = len(context.warnings)
            try:
                context.plugins.load("exporters", name).export(result, problem, folder, context)
                return context.warnings[before:]
            finally:
                del context.warnings[before:]

        return export

    concurrent = len(result.tiles) + len(result.transfers) >= CONCURRENT_EXPORT
    names, rank = state.exporters, {name: i for i, name in enumerate(LONG_EXPORTERS)}
    order = sorted(range(len(names)), key=lambda i: rank.get(names[i], len(rank)))
    done = write_each([exporter(name) for name in names], state.output_dir, concurrent=concurrent, order=order)
    for name, outcome in zip(state.exporters, done, strict=True):
        if outcome.error:  # a plugin's bug: reported by name, the other exporters still wrote
            origin = context.plugins.origin("exporters", name)
            state.export_failures.append(f"exporter {origin} failed: {outcome.error}")
            log.debug("exporter %s failed\n%s", origin, outcome.details)
        context.warnings += [w for w in outcome.value or () if w not in context.warnings]


def choose_exporters(plugins: Plugins, names: Sequence[str] | None) -> list[str]:
    """``names`` (each checked: an unknown one is an error listing the installed exporters), or the
    exporters enabled by default when ``names`` is ``None``."""
    registry = plugins.registry("exporters")
    if names is None:
        return [record.name for record in registry if record.default_enabled]
    return list(dict.fromkeys(registry.get(name).name for name in names))


STAGES: tuple[tuple[str, Callable[[PipelineState, RunContext], None]], ...] = (
    ("parse", parse_stage),
    ("map", map_stage),
    ("cost", cost_stage),
    ("allocate", allocate_stage),
    ("export", export_stage),
)


def run(
    workload: object,
    hardware: str | Path | Accelerator,
    mapping: str | Path | Mapping | None = None,
    *,
    options: RunOptions | None = None,
    plugins: Plugins | None = None,
    output: str | Path | None = None,
    force: bool = False,
    exporters: Sequence[str] | None = None,
    context: RunContext | None = None,
) -> RunOutcome:
    """Run the whole pipeline and return the result. ``workload`` is a file, a :class:`Workload` or
    an object an installed frontend reads (see :func:`load_workload`). With ``output``, the files of
    ``exporters`` (default: those enabled by default) appear there all or nothing (see the module
    docstring). Without ``context``, ``options`` are checked first (:func:`check_options`)."""
    if context is None:
        context = RunContext(plugins=plugins or load_plugins(), options=options or RunOptions())
        check_options(context)
    state = PipelineState(workload, hardware, mapping)
    state.exporters = choose_exporters(context.plugins, exporters)
    if output is None:
        return _run_stages(state, context)
    with StagedOutput(Path(output), force=force) as staged:
        state.output_dir = staged.path
        outcome = _run_stages(state, context)
        files = staged.commit()
    return attrs.evolve(outcome, files=tuple(files), output_dir=staged.target)


def _run_stages(state: PipelineState, context: RunContext) -> RunOutcome:
    """The stages in order, within the run's time budget (:meth:`RunContext.budget`): a stage still
    running when it passes is an error naming the stage and the limit."""
    try:
        with context.budget():
            for name, stage in STAGES:
                context.check_time()
                context.stage = name
                context.progress.stage(name)
                started = time.perf_counter()
                stage(state, context)
                state.timings[name] = round(time.perf_counter() - started, 4)
    except TimeLimitExceeded as exc:
        raise InputError(
            Problem(f"{exc}; raise {option('time_limit')} or give a smaller workload", field=option("time_limit"))
        ) from None
    finally:
        context.progress.finish()
    assert state.result is not None
    result = attrs.evolve(state.result, stats={**state.result.stats, "stage_seconds": dict(state.timings)})
    return RunOutcome(result, state.problem, (), state.output_dir, tuple(state.export_failures))


# -- compile ------------------------------------------------------------------------------------
@attrs.frozen
class ResolvedTarget:
    """A ``--target`` resolved: its hardware file, a label for output names and its default code generator."""

    file: Path
    label: str
    code_generator: str | None = None
    origin: str = ""


@attrs.frozen
class CompileOutcome:
    generated: Generated
    target: ResolvedTarget
    code_generator: str  # "name (distribution version)"
    files: tuple[Path, ...]
    output_dir: Path | None


def resolve_target(reference: str | Path, plugins: Plugins) -> ResolvedTarget:
    """A registered target name, or a hardware file; an error names the registered targets."""
    targets = plugins.registry("targets")
    if isinstance(reference, str) and reference in targets:
        record = targets.get(reference)
        return ResolvedTarget(
            Path(record.load()), record.name, record.code_generator, plugins.origin("targets", record.name)
        )
    if Path(reference).is_file():
        return ResolvedTarget(Path(reference), Path(reference).stem)
    known = ", ".join(targets.names()) or "none installed"
    raise UnknownPluginError(f"unknown target {str(reference)!r}: not a registered target ({known}) and not a file")


def compile(
    workload: object,
    target: str | Path | ResolvedTarget,
    *,
    code_generator: str | None = None,
    output: str | Path | None = None,
    force: bool = False,
    context: RunContext | None = None,
) -> CompileOutcome:
    """Generate a project for ``workload`` on ``target`` (a registered target, a hardware file, or
    one :func:`resolve_target` resolved) with ``code_generator`` (default: the target's own); with
    ``output``, checked first, the project is written all or nothing."""
    if context is None:
        context = RunContext(plugins=load_plugins())
        check_options(context)
    resolved = target if isinstance(target, ResolvedTarget) else resolve_target(target, context.plugins)
    if output is not None:
        check_output_dir(Path(output), force=force)
    name = code_generator or resolved.code_generator
    if not name:
        raise InputError(
            Problem(
                f"target {resolved.label!r} names no code generator; pass {option('code_generator', 'NAME')}",
                field=option("code_generator"),
            )
        )
    generator = context.plugins.load("code_generators", name)
    parsed, _ = load_workload(workload, context)
    generated = generator.generate(parsed, resolved.file, context)
    origin = context.plugins.origin("code_generators", name)
    if output is None:
        return CompileOutcome(generated, resolved, origin, (), None)
    files = write_files(Path(output), generated.files, force=force)
    return CompileOutcome(generated, resolved, origin, tuple(files), Path(output))
