"""The stage pipeline: parse -> map/tile -> cost -> allocate -> export.

:func:`run` is the public entry point; the CLI only wraps it. Each stage is a small function over a
:class:`PipelineState`; the plugins doing the work are chosen from the registries by the options.

Nothing is approximated silently: every cost not given by the model that was asked (a
``fallback_reason``, or the roofline standing in for a core type without an installed cost model)
and every ``precision_fallback`` becomes a summary warning naming the nodes, and an error under
``strict_costs``; accelerator and mapping notes, and a hint when only a built-in mapper or
allocator was available, become summary notes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs

from stream_core.cache import CostCache
from stream_core.context import RunContext, RunOptions
from stream_core.errors import InfeasibleError, InputError, PluginError, Problem
from stream_core.hardware import load_accelerator
from stream_core.ir.accelerator import Accelerator, Core
from stream_core.ir.cost import CostRequest, CostResult
from stream_core.ir.mapping import Mapping
from stream_core.ir.problem import AllocationProblem, CostTable
from stream_core.ir.result import Result
from stream_core.ir.workload import Workload
from stream_core.mapping_io import load_mapping
from stream_core.outputs import prepare_output_dir
from stream_core.plugins import BUILTIN_NAME, DISABLE_ENV, Plugins, load_plugins
from stream_core.tiling import NodeTiling

FALLBACK_COST_MODEL = "roofline"
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
#: ``CostResult.details`` keys copied to a node's summary row.
COST_DETAILS = ("fallback_reason", "precision", "precision_fallback")


@attrs.frozen
class ModelChoice:
    """The cost model that costs a core, and why it is not the one asked for (empty: it is)."""

    name: str
    fallback_reason: str = ""


@attrs.define
class PipelineState:
    workload_source: str | Path | Workload
    hardware_source: str | Path | Accelerator
    mapping_source: str | Path | Mapping | None = None
    workload: Workload | None = None
    accelerator: Accelerator | None = None
    mapping: Mapping | None = None
    tilings: dict[str, NodeTiling] = attrs.field(factory=dict)
    costs: CostTable | None = None
    result: Result | None = None
    output_dir: Path | None = None
    files: list[Path] = attrs.field(factory=list)
    provenance: dict[str, str] = attrs.field(factory=dict)
    timings: dict[str, float] = attrs.field(factory=dict)
    notes: list[str] = attrs.field(factory=list)
    builtin_defaults: list[str] = attrs.field(factory=list)  # kinds that fell to a built-in default

    @property
    def problem(self) -> AllocationProblem:
        assert self.workload and self.accelerator and self.mapping and self.costs is not None
        return AllocationProblem(self.workload, self.accelerator, self.mapping, self.tilings, self.costs)


@attrs.frozen
class RunOutcome:
    result: Result
    problem: AllocationProblem
    files: tuple[Path, ...]
    output_dir: Path | None


# -- stages -----------------------------------------------------------------------------------
def parse_stage(state: PipelineState, context: RunContext) -> None:
    if isinstance(state.hardware_source, Accelerator):
        state.accelerator = state.hardware_source
    else:
        state.accelerator = load_accelerator(state.hardware_source, context.plugins)
    context.accelerator = state.accelerator
    state.notes += state.accelerator.notes
    if isinstance(state.workload_source, Workload):
        state.workload = state.workload_source
    else:
        state.workload, origin = parse_workload(Path(state.workload_source), context)
        state.provenance["workload parser"] = origin


def parse_workload(path: Path, context: RunContext) -> tuple[Workload, str]:
    """Parse a workload file with the parser registered for its suffix; returns it and the plugin used."""
    if not path.exists():
        raise InputError(Problem("file not found", file=str(path)))
    registry = context.plugins.registry("workload_parsers")
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
        state.mapping = record.load().map(state.workload, state.accelerator, context)
    state.notes += state.mapping.notes
    state.tilings = build_tilings(state.workload, state.mapping)


def _select(state: PipelineState, context: RunContext, kind: str, chosen: str | None) -> Any:
    """The record the user chose, else the kind's default; records its provenance and whether the
    default was a built-in (then :func:`builtin_hint` tells what a plugin could change)."""
    registry = context.plugins.registry(kind)
    record = registry.get(chosen) if chosen else registry.default()
    if record is None:
        return None
    key, flag = {"mappers": ("mapping", "--mapper"), "allocators": ("allocator", "--allocator")}[kind]
    origin = context.plugins.origin(kind, record.name)
    state.provenance[key] = f"{origin}, selected with {flag}" if chosen else origin
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


def build_tilings(workload: Workload, mapping: Mapping) -> dict[str, NodeTiling]:
    tilings = {}
    for group in mapping.groups:
        for name in group.nodes:
            tilings[name] = NodeTiling(workload.node(name), mapping[name], group.tile_sizes(name))
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
                [Problem(f"{line}; without --strict-costs this is a warning", field="--strict-costs") for line in lines]
            )


def cost_model_for(core: Core, context: RunContext) -> ModelChoice:
    """The cost model that costs ``core``: the user's choice if it supports the core type, else the
    core type's default, else the built-in roofline model (a fallback, with the reason, for a compute
    core; by design for memory and off-chip cores, whose nodes only move data)."""
    registry = context.plugins.registry("cost_models")
    chosen = context.options.cost_model
    if chosen:
        record = registry.get(chosen)
        if not record.core_types or core.namespace in record.core_types:
            return ModelChoice(record.name)
    if not core.is_compute:
        return ModelChoice(FALLBACK_COST_MODEL)
    default = context.plugins.get("core_types", core.namespace).default_cost_model
    if default and default in registry:
        return ModelChoice(default)
    if default:
        return ModelChoice(
            FALLBACK_COST_MODEL, f"core type '{core.namespace}' is costed by '{default}', which is not installed"
        )
    return ModelChoice(FALLBACK_COST_MODEL, f"core type '{core.namespace}' names no cost model")


def compute_costs(tilings: dict[str, NodeTiling], accelerator: Accelerator, context: RunContext) -> CostTable:
    """Cost every distinct (tile shape, candidate core): deduplicated, cached, batched per model."""
    table = CostTable()
    if context.options.cost_model:
        record = context.plugins.get("cost_models", context.options.cost_model)
        namespaces = {c.namespace for c in accelerator.cores.values() if c.is_compute}
        if record.core_types and not (record.core_types & namespaces):
            raise PluginError(
                f"cost model {record.name!r} costs core types {sorted(record.core_types)}; "
                f"this accelerator has {sorted(namespaces)}"
            )
    # 1. requests, grouped by the model that answers them
    wanted: dict[str, dict[str, CostRequest]] = {}
    slots: list[tuple[str, int, tuple[int, ...], ModelChoice, str]] = []
    for name, tiling in tilings.items():
        for shape in tiling.shapes():
            tile = tiling.tile_node(shape)
            for core_id in dict.fromkeys(tiling.mapping.cores):
                core = accelerator.cores[core_id]
                choice = cost_model_for(core, context)
                request = CostRequest(tile, core, tiling.mapping.kernel, tiling.mapping.hints)
                wanted.setdefault(choice.name, {})[request.key] = request
                slots.append((name, core_id, shape, choice, request.key))
    table.stats["requests"] = len(slots)
    # 2. answers: persistent cache first, then the model for the misses
    answers: dict[tuple[str, str], CostResult] = {}
    for model_name, requests in sorted(wanted.items()):
        model = context.plugins.load("cost_models", model_name)
        token = model.cache_token(context) if hasattr(model, "cache_token") else None
        cache = CostCache(context.options.effective_cache_dir) if token and context.options.use_cache else None
        misses: list[CostRequest] = []
        for key, request in requests.items():
            hit = cache.get(_cache_key(model_name, token, key)) if cache else None
            if hit is not None:
                answers[(model_name, key)] = hit
                table.stats["cache_hits"] += 1
            else:
                misses.append(request)
        table.stats["unique"] += len(requests)
        if misses:
            started = time.perf_counter()
            results = model.cost(misses, context)
            table.stats[f"seconds:{model_name}"] += time.perf_counter() - started
            if len(results) != len(misses):
                raise RuntimeError(
                    f"cost model {model_name!r} returned {len(results)} results for {len(misses)} requests"
                )
            for request, result in zip(misses, results, strict=True):
                answers[(model_name, request.key)] = result
                if cache:  # infeasible answers are deterministic too
                    cache.put(_cache_key(model_name, token, request.key), result)
            table.stats["computed"] += len(misses)
    for name, core_id, shape, choice, key in slots:
        result = answers[(choice.name, key)]
        if choice.fallback_reason:
            result = attrs.evolve(result, details=(*result.details, ("fallback_reason", choice.fallback_reason)))
        table.add(name, core_id, shape, result, asked="" if choice.fallback_reason else choice.name)
    _check_feasible(tilings, table)
    return table


def cost_entries(
    tilings: dict[str, NodeTiling], costs: CostTable, cores: dict[str, Iterable[int]]
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
    """One line per distinct fallback (model asked, model used, reason) and per distinct precision
    fallback, naming the nodes it concerns."""
    groups: dict[str, dict[str, None]] = {}
    for name, asked, result in entries:
        reason = result.detail("fallback_reason")
        if reason:
            instead = f", not {asked}," if asked and asked != result.model else ""
            groups.setdefault(f"costed by {result.model}{instead} because {reason}", {})[name] = None
        precision = result.detail("precision_fallback")
        if precision:
            groups.setdefault(f"with operand widths that fell back ({precision})", {})[name] = None
    return [f"{_count(len(names))} {what}: {_names(list(names))}" for what, names in groups.items()]


def _count(n: int) -> str:
    return f"{n} node" + ("" if n == 1 else "s")


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


def _cache_key(model: str, token: str, key: str) -> str:
    return hashlib.blake2b(f"{model}|{token}|{key}".encode(), digest_size=20).hexdigest()


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
    result = record.load().allocate(state.problem, context)
    stats = dict(result.stats)
    stats["cost"] = dict(state.costs.stats)
    stats["cost_models"] = dict(state.costs.models_used())
    stats["stage_seconds"] = dict(state.timings)
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


def export_stage(state: PipelineState, context: RunContext) -> None:
    if state.output_dir is None or state.result is None:
        return
    for record in context.plugins.registry("exporters"):
        if record.default_enabled:
            state.files += record.load().export(state.result, state.problem, state.output_dir, context)


STAGES: tuple[tuple[str, Callable[[PipelineState, RunContext], None]], ...] = (
    ("parse", parse_stage),
    ("map", map_stage),
    ("cost", cost_stage),
    ("allocate", allocate_stage),
    ("export", export_stage),
)


def run(
    workload: str | Path | Workload,
    hardware: str | Path | Accelerator,
    mapping: str | Path | Mapping | None = None,
    *,
    options: RunOptions | None = None,
    plugins: Plugins | None = None,
    output: str | Path | None = None,
    force: bool = False,
    context: RunContext | None = None,
) -> RunOutcome:
    """Run the whole pipeline and return the result (and the files written when ``output`` is given)."""
    if context is None:
        context = RunContext(plugins=plugins or load_plugins(), options=options or RunOptions())
    state = PipelineState(workload, hardware, mapping)
    if output is not None:
        state.output_dir = prepare_output_dir(Path(output), force=force)
    try:
        for name, stage in STAGES:
            context.progress.stage(name)
            started = time.perf_counter()
            stage(state, context)
            state.timings[name] = round(time.perf_counter() - started, 4)
    finally:
        context.progress.finish()
    assert state.result is not None
    result = attrs.evolve(state.result, stats={**state.result.stats, "stage_seconds": dict(state.timings)})
    return RunOutcome(result, state.problem, tuple(state.files), state.output_dir)
