"""Costing (tile, core) pairs the one way the core does it, for the run pipeline and for any plugin.

:func:`cost_tiles` is the public entry point: a plugin that needs costs (e.g. itensor's kernel timing
profiles) calls it instead of loading a cost model itself, so its requests get

* the core's model choice (:func:`cost_model_for`): the model asked for if it costs the core's type,
  else the core type's default model, else the built-in roofline model with the reason in the
  result's ``fallback_reason`` detail (never silently);
* deduplication: identical requests (same :attr:`CostRequest.key`) are costed once;
* the persistent cost cache, for models that give a ``cache_token`` (unless ``--no-cache``);
* a result's ``warnings`` detail (what a model says about that answer) warned in ``context`` each time
  the answer is handed out, from the model or from the cache, so a cached answer keeps its warnings.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Sequence

import attrs

from stream_core.cache import CostCache
from stream_core.context import RunContext
from stream_core.ir.accelerator import Core
from stream_core.ir.cost import CostRequest, CostResult

FALLBACK_COST_MODEL = "roofline"


@attrs.frozen
class ModelChoice:
    """The cost model that costs a core, and why it is not the one asked for (empty: it is)."""

    name: str
    fallback_reason: str = ""


def cost_model_for(core: Core, context: RunContext, asked: str | None = None) -> ModelChoice:
    """The cost model that costs ``core``: ``asked`` (default: the run's ``--cost-model``) if it
    supports the core type, else the core type's default, else the built-in roofline model (a
    fallback, with the reason, for a compute core; by design for memory and off-chip cores, whose
    nodes only move data)."""
    registry = context.plugins.registry("cost_models")
    chosen = asked or context.options.cost_model
    if chosen:
        record = registry.get(chosen)
        if not record.core_types or core.namespace in record.core_types:
            return ModelChoice(record.name)
    if not core.is_compute:
        return ModelChoice(FALLBACK_COST_MODEL)
    if core.namespace not in context.plugins.registry("core_types"):
        return ModelChoice(FALLBACK_COST_MODEL, f"no installed core type '{core.namespace}' names a cost model")
    default = context.plugins.get("core_types", core.namespace).default_cost_model
    if default and default in registry:
        return ModelChoice(default)
    if default:
        return ModelChoice(
            FALLBACK_COST_MODEL, f"core type '{core.namespace}' is costed by '{default}', which is not installed"
        )
    return ModelChoice(FALLBACK_COST_MODEL, f"core type '{core.namespace}' names no cost model")


def cost_tiles(
    requests: Sequence[CostRequest],
    context: RunContext,
    *,
    cost_model: str | None = None,
    stats: Counter[str] | None = None,
) -> list[CostResult]:
    """Cost every request (see the module docstring); results in request order. ``cost_model`` is
    the model asked for (default: the run's ``--cost-model``); ``stats`` counts requests, unique
    requests, cache hits, computed results and seconds per model."""
    return [result for _choice, result in choose_and_cost(requests, context, cost_model=cost_model, stats=stats)]


def choose_and_cost(
    requests: Sequence[CostRequest],
    context: RunContext,
    *,
    cost_model: str | None = None,
    stats: Counter[str] | None = None,
) -> list[tuple[ModelChoice, CostResult]]:
    """:func:`cost_tiles`, with the model chosen for each request."""
    stats = Counter() if stats is None else stats
    choices = [cost_model_for(request.core, context, cost_model) for request in requests]
    wanted: dict[str, dict[str, CostRequest]] = {}
    for choice, request in zip(choices, requests, strict=True):
        wanted.setdefault(choice.name, {})[request.key] = request
    stats["requests"] += len(requests)
    answers: dict[tuple[str, str], CostResult] = {}
    for model_name, unique in sorted(wanted.items()):
        for key, result in _answer(model_name, unique, context, stats).items():
            answers[(model_name, key)] = result
            for warning in result.detail("warnings", ()):
                context.warn(warning)
    out = []
    for choice, request in zip(choices, requests, strict=True):
        result = answers[(choice.name, request.key)]
        if choice.fallback_reason:
            result = attrs.evolve(result, details=(*result.details, ("fallback_reason", choice.fallback_reason)))
        out.append((choice, result))
    return out


def _answer(
    model_name: str, requests: dict[str, CostRequest], context: RunContext, stats: Counter[str]
) -> dict[str, CostResult]:
    """One model's answers by request key: the persistent cache first, then the model for the misses."""
    model = context.plugins.load("cost_models", model_name)
    token = model.cache_token(context) if hasattr(model, "cache_token") else None
    cache = CostCache(context.options.effective_cache_dir) if token and context.options.use_cache else None
    answers: dict[str, CostResult] = {}
    misses: list[CostRequest] = []
    for key, request in requests.items():
        hit = cache.get(_cache_key(model_name, token, key)) if cache and token else None
        if hit is not None:
            answers[key] = hit
            stats["cache_hits"] += 1
        else:
            misses.append(request)
    stats["unique"] += len(requests)
    if misses:
        started = time.perf_counter()
        results = model.cost(misses, context)
        stats[f"seconds:{model_name}"] += time.perf_counter() - started  # type: ignore[assignment]
        if len(results) != len(misses):
            raise RuntimeError(f"cost model {model_name!r} returned {len(results)} results for {len(misses)} requests")
        for request, result in zip(misses, results, strict=True):
            answers[request.key] = result
            if cache and token:  # infeasible answers are deterministic too
                cache.put(_cache_key(model_name, token, request.key), result)
        stats["computed"] += len(misses)
    return answers


def _cache_key(model: str, token: str, key: str) -> str:
    return hashlib.blake2b(f"{model}|{token}|{key}".encode(), digest_size=20).hexdigest()
