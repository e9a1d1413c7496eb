"""The ``zigzag`` cost model: ZigZag for what it can cost, the core's roofline for the rest.

Per request (a node tile and a ``zigzag.*`` core):

1. translate the tile (:mod:`stream_zigzag.translate`) and match the spatial unrolling
   (:mod:`stream_zigzag.dataflows`); a node ZigZag cannot cost gets ``roofline_cost`` (its result
   says ``model="roofline"`` and ``details.fallback_reason`` says why);
2. a tile whose operands do not fit the top memories is infeasible, with the memory, the operands and
   bits needed versus available (checked before ZigZag runs, and again if ZigZag's LOMA finds no
   loop ordering);
3. the remaining distinct (core, layer) jobs run through ZigZag, in parallel processes
   (``RunOptions.jobs``; results in request order).

Settings (``--set zigzag.<key>=<value>``), all part of the cost-cache token:

* ``zigzag.lpf_limit`` (default 6, Stream's value): LOMA's loop-prime-factor limit. LOMA raises it to
  the number of non-trivial temporal loops, so a 3x3 convolution always costs 6! orderings; lower
  values merge more factors (faster, may find a worse optimum);
* ``zigzag.temporal_mapping`` (default ``uneven``, as Stream runs it): ``uneven`` or ``even``;
* ``zigzag.spatial_mappings`` (default 1, as Stream): spatial mappings ZigZag generates and compares
  when the dataflows leave array dimensions open;
* ``zigzag.precision`` (default ``workload``, as stream-dse 2.1.1): ``workload`` or ``hardware``, the
  operand-width policy of :mod:`stream_zigzag.precision`. Each result says which widths it used in
  ``details["precision"]`` and, when the core could not hold them, ``details["precision_fallback"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import version
from typing import Any

import attrs

import stream_core
from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir import CostRequest, CostResult
from stream_core.roofline import roofline_cost
from stream_zigzag import MODEL_VERSION, __version__
from stream_zigzag.dataflows import choose_spatial
from stream_zigzag.description import ZigZagCore
from stream_zigzag.precision import POLICIES, too_small
from stream_zigzag.translate import LayerSpec, Translation, Unsupported, translate

NAME = "zigzag"
SUPPORTED_HINTS = {"spatial_mapping", "spatial_mapping_hint"}


DEFAULT_LPF_LIMIT = 6
DEFAULT_TEMPORAL_MAPPING = "uneven"
DEFAULT_SPATIAL_MAPPINGS = 1
DEFAULT_PRECISION = "workload"


@attrs.frozen
class Settings:
    lpf_limit: int = DEFAULT_LPF_LIMIT
    temporal_mapping: str = DEFAULT_TEMPORAL_MAPPING
    spatial_mappings: int = DEFAULT_SPATIAL_MAPPINGS
    precision: str = DEFAULT_PRECISION

    @classmethod
    def from_context(cls, context: RunContext) -> Settings:
        """Read and check the ``zigzag.*`` settings; bad values raise ``InputError``."""
        problems = []
        lpf = context.setting("zigzag.lpf_limit", DEFAULT_LPF_LIMIT)
        if not isinstance(lpf, int) or isinstance(lpf, bool) or lpf < 1:
            problems.append(Problem(f"expected a positive integer, got {lpf!r}", field="zigzag.lpf_limit"))
        mapping = context.setting("zigzag.temporal_mapping", DEFAULT_TEMPORAL_MAPPING)
        if mapping not in ("uneven", "even"):
            problems.append(Problem(f"expected 'uneven' or 'even', got {mapping!r}", field="zigzag.temporal_mapping"))
        spatial = context.setting("zigzag.spatial_mappings", DEFAULT_SPATIAL_MAPPINGS)
        if not isinstance(spatial, int) or isinstance(spatial, bool) or spatial < 1:
            problems.append(Problem(f"expected a positive integer, got {spatial!r}", field="zigzag.spatial_mappings"))
        precision = context.setting("zigzag.precision", DEFAULT_PRECISION)
        if precision not in POLICIES:
            expected = " or ".join(f"'{p}'" for p in POLICIES)
            problems.append(Problem(f"expected {expected}, got {precision!r}", field="zigzag.precision"))
        if problems:
            raise InputError(problems)
        return cls(lpf, mapping, spatial, precision)

    @property
    def as_tuple(self) -> tuple[int, str, int]:
        """What ZigZag's run needs (the precision is already in each layer)."""
        return (self.lpf_limit, self.temporal_mapping, self.spatial_mappings)


def fit_report(core: ZigZagCore, translation: Translation) -> str | None:
    """Why the tile cannot fit the top memory levels (bits needed versus available), or None if it fits."""
    by_memory: dict[str, list[str]] = {}
    for operand in translation.footprint_bits:
        top = core.top_memory(operand)
        assert top is not None  # translate() checked the core has a memory for each linked operand
        by_memory.setdefault(top["name"], []).append(operand)
    reports = []
    for name, operands in by_memory.items():
        size = next(m["size"] for m in core.memories if m["name"] == name)
        need = sum(translation.footprint_bits[op] for op in operands)
        if need <= size:
            continue
        parts = ", ".join(f"{op} ({translation.tensors[op]!r}) {translation.footprint_bits[op]}" for op in operands)
        alone = [op for op in operands if translation.footprint_bits[op] > size]
        culprit = (
            f"operand {', '.join(alone)} alone exceeds it"
            if alone
            else f"operands {', '.join(operands)} together exceed it"
        )
        reports.append(
            f"memory {name!r} of core {core.name!r} (top level of {', '.join(operands)}) holds {size} bits "
            f"but the tile needs {need} bits ({parts}); {culprit}"
        )
    return "; ".join(reports) or None


def element_report(core: ZigZagCore, translation: Translation) -> str | None:
    """Lower memory levels too small for a single element of an operand they hold (at its precision)."""
    return "; ".join(too_small(core, dict(translation.spec.precision))) or None


def _fallback(request: CostRequest, reason: str) -> CostResult:
    result = roofline_cost(request)
    return attrs.evolve(result, details=(*result.details, ("fallback_reason", reason)))


def _hints(request: CostRequest) -> dict[str, Any]:
    return {key: value for key, value in request.hints}


class ZigZagCostModel:
    """Factory object of the ``zigzag`` :class:`~stream_core.records.CostModelRecord`."""

    def cache_token(self, context: RunContext) -> str:
        settings = Settings.from_context(context)
        return (
            f"stream-zigzag {__version__} model {MODEL_VERSION}|zigzag-dse {version('zigzag-dse')}|"
            f"stream-core {stream_core.__version__}|lpf {settings.lpf_limit}|{settings.temporal_mapping}|"
            f"spatial {settings.spatial_mappings}|precision {settings.precision}"
        )

    def cost(self, requests: Sequence[CostRequest], context: RunContext) -> list[CostResult]:
        settings = Settings.from_context(context)
        results: list[CostResult | None] = [None] * len(requests)
        jobs: dict[tuple[str, LayerSpec], list[int]] = {}
        prepared: dict[int, Translation] = {}
        cores: dict[str, dict[str, Any]] = {}
        said: list[list[str]] = [[] for _ in requests]  # each answer's warnings, kept with it (cached too)
        for index, request in enumerate(requests):
            outcome = self._prepare(request, settings, said[index].append)
            if isinstance(outcome, CostResult):
                results[index] = outcome
                continue
            core: ZigZagCore = request.core.description
            prepared[index] = outcome
            jobs.setdefault((core.fingerprint(), outcome.spec), []).append(index)
            if core.fingerprint() not in cores:
                cores[core.fingerprint()] = core.zigzag_data()
        total, finished = len(requests), [len(requests) - len(prepared)]
        context.progress.count(finished[0], total, "cost requests")
        if jobs:
            from stream_zigzag.parallel import run_jobs  # imports ZigZag (about a second) only when needed

            keys = list(jobs)

            def done(job: int) -> None:
                finished[0] += len(jobs[keys[job]])
                context.progress.count(finished[0], total, "cost requests")

            outcomes = run_jobs(keys, cores, settings.as_tuple, context.options.effective_jobs, done)
            for key, evaluation in zip(keys, outcomes, strict=True):
                for index in jobs[key]:
                    results[index] = self._result(requests[index], prepared[index], evaluation, said[index].append)
        assert all(r is not None for r in results)
        return [r.with_warnings(w) for r, w in zip(results, said, strict=True) if r is not None]

    def _prepare(
        self, request: CostRequest, settings: Settings, warn: Callable[[str], None]
    ) -> Translation | CostResult:
        """The translation to run through ZigZag, or the final result (fallback or infeasible); ``warn`` takes
        what the request's answer should say."""
        core = request.core.description
        if not isinstance(core, ZigZagCore):
            return _fallback(request, f"core {request.core.id} is not a zigzag core")
        if request.core.kind != "compute":
            return _fallback(request, f"core {request.core.id} is a {request.core.kind} core")
        hints = _hints(request)
        ignored = sorted(set(hints) - SUPPORTED_HINTS)
        if ignored:
            warn(f"zigzag: mapping hints {', '.join(ignored)} are not used by the zigzag cost model")
        try:
            translation = translate(request.node, core, settings.precision)
        except Unsupported as exc:
            return _fallback(request, str(exc))
        choice = choose_spatial(request.node, translation.names, core, hints)
        for entry in choice.unmatched:
            warn(
                f"zigzag: core {core.name!r}: spatial unrolling {entry} names no loop of {request.node.op_type} "
                f"nodes; ignored for them"
            )
        for problem in choice.problems:
            warn(f"zigzag: core {core.name!r}: mapping hint ignored: {problem}")
        translation = attrs.evolve(
            translation, spec=attrs.evolve(translation.spec, spatial_mapping=choice.mapping, spatial_hint=choice.hint)
        )
        report = fit_report(core, translation)
        if report:
            return CostResult.infeasible(NAME, report)
        return translation

    def _result(
        self, request: CostRequest, translation: Translation, outcome: Mapping[str, Any], warn: Callable[[str], None]
    ) -> CostResult:
        core: ZigZagCore = request.core.description
        if outcome["status"] == "too_small":
            small = element_report(core, translation)
            why = small or (
                f"the tile's operands ({_footprints(translation)} bits) fit the top memories by size, so a lower "
                f"memory level cannot hold what the spatial unrolling needs"
            )
            return CostResult.infeasible(
                NAME, f"ZigZag's LOMA found no loop ordering that fits core {core.name!r} ({outcome['message']}): {why}"
            )
        if outcome["status"] == "error":
            warn(
                f"zigzag: {request.node.op_type} on core {core.name!r} could not be costed by ZigZag "
                f"({outcome['message']}); used the roofline model"
            )
            return _fallback(request, f"ZigZag failed: {outcome['message']}")
        loops = {zz: name for name, zz in translation.names.items()}
        numbers = outcome["numbers"]
        precision = translation.precision
        fallback = {} if precision.fallback is None else {"precision_fallback": precision.fallback}
        bias = {} if translation.bias is None else {"bias_not_priced": translation.bias}
        search = {"search_fallback": outcome["search_fallback"]} if "search_fallback" in outcome else {}
        cycles = translation.spec.cycles_per_op
        per_op = {} if cycles == 1 else {"cycles_per_op": cycles}
        return CostResult(
            latency=outcome["latency"],
            energy_pj=outcome["energy_pj"],
            model=NAME,
            ideal_cycles=outcome["ideal_cycles"],
            memory_utilisation=outcome["memory_utilisation"],
            details={
                "spatial_mapping": _describe(outcome["spatial_mapping"], loops),
                "temporal_loops": ", ".join(f"{loops.get(d, d)} {f}" for d, f in outcome["temporal_loops"]),
                **numbers,
                **per_op,
                "precision": precision.description,
                **fallback,
                **search,
                **bias,
                "zigzag_warnings": tuple(outcome["warnings"]),
            },
        )


def _footprints(translation: Translation) -> str:
    return ", ".join(f"{op} {bits}" for op, bits in translation.footprint_bits.items())


def _describe(mapping: Sequence[tuple[str, Sequence[tuple[str, float]]]], loops: Mapping[str, str]) -> str:
    parts = []
    for oa, entries in mapping:
        unrolled = ", ".join(f"{loops.get(d, d)} {f:g}" for d, f in entries) or "-"
        parts.append(f"{oa}: {unrolled}")
    return "; ".join(parts)
