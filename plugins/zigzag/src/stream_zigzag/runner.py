"""Runs ZigZag's lean pipeline on one :class:`LayerSpec` (in the model's process or in a pool worker).

Stage list as Stream uses it (``cost_models.md`` §3.2): MinimalLatency -> SpatialMappingGenerator ->
MinimalLatency -> TemporalMappingGenerator (LOMA) -> CostModel. As stream-dse 2.1.1 does, the flow first
runs with spatial mappings that unroll one loop per array dimension; when mappings unrolling several loops on
one array dimension fill more of the array (or the first run failed), it runs once more with those, and the
answer with fewer cycles without the systolic drain wins (a failed second run keeps the first); an op taking several
cycles per operation has that answer re-evaluated with ZigZag's ``cycles_per_op``. Each pass enumerates its spatial
mappings once (ZigZag's generator, its ranking done on plain numbers by :mod:`stream_zigzag.spatial`): the
array-fill comparison reads the best of them and the search stage is given the same list. No files are
written; ZigZag's loggers are kept off the console and their warnings are returned with the result; no progress bar.
ZigZag accelerators are built once per core fingerprint per process.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Generator
from typing import Any, cast

from zigzag.cost_model.cost_model import CostModelEvaluation
from zigzag.datatypes import LayerDim, LayerOperand, MemoryOperand, OADimension
from zigzag.hardware.architecture.accelerator import Accelerator
from zigzag.mapping.spatial_mapping import MappingSingleOADim, SpatialMapping, SpatialMappingHint
from zigzag.mapping.temporal_mapping import TemporalMappingType
from zigzag.opt.loma.engine import NoValidLoopOrderingFoundException
from zigzag.opt.loma.memory_allocator import MemoryHierarchyTooSmallException, MemoryTooSmallException
from zigzag.parser.accelerator_factory import AcceleratorFactory
from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage
from zigzag.stages.main import MainStage
from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage
from zigzag.stages.mapping.temporal_mapping_generator_stage import TemporalMappingGeneratorStage
from zigzag.stages.results.reduce_stages import MinimalLatencyStage
from zigzag.stages.stage import StageCallable
from zigzag.workload.layer_attributes import (
    LayerDimRelation,
    LayerDimSizes,
    LayerEquation,
    LayerOperandPrecision,
    LayerPadding,
    LayerTemporalOrdering,
    MemoryOperandLinks,
)
from zigzag.workload.layer_node import LayerNode, LayerNodeAttributes, MappingAttributes

from stream_zigzag.spatial import RankedSpatialMappings
from stream_zigzag.translate import LayerSpec


class _GivenSpatialMappings(SpatialMappingGeneratorStage):
    """ZigZag's spatial-mapping stage yielding the mappings :func:`_spatial_candidates` generated, so each pass
    enumerates the array's unrollings once, for the array-fill comparison and the search alike."""

    def __init__(
        self, list_of_callables: list[StageCallable], *, spatial_candidates: list[SpatialMapping], **kwargs: Any
    ):
        super().__init__(list_of_callables, **kwargs)
        self.candidates = spatial_candidates

    def generate_spatial_mappings(self) -> Generator[SpatialMapping, None, None]:
        yield from self.candidates


#: ZigZag's stage classes, cast to what its stages take: its ``StageCallable`` protocol does not admit the
#: classes themselves (their constructors have required keyword-only arguments).
STAGES = cast(
    list[StageCallable],
    [
        MinimalLatencyStage,
        _GivenSpatialMappings,
        MinimalLatencyStage,
        TemporalMappingGeneratorStage,
        CostModelStage,
    ],
)
TOO_SMALL = (NoValidLoopOrderingFoundException, MemoryHierarchyTooSmallException, MemoryTooSmallException)


class _Capture(logging.Handler):
    """Keeps ZigZag's warnings of the current call (deduplicated) instead of printing them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: dict[str, None] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.messages[" ".join(record.getMessage().split())] = None


_capture = _Capture()
_cores: dict[str, dict[str, Any]] = {}
_accelerators: dict[str, Accelerator] = {}


def install(cores: dict[str, dict[str, Any]]) -> None:
    """Register core data (fingerprint -> ZigZag accelerator dict) and silence ZigZag's loggers.

    Used as the process-pool initializer and before in-process runs.
    """
    _cores.update(cores)
    logger = logging.getLogger("zigzag")
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    if _capture not in logger.handlers:
        logger.addHandler(_capture)


def _accelerator(fingerprint: str) -> Accelerator:
    if fingerprint not in _accelerators:
        _accelerators[fingerprint] = AcceleratorFactory(_cores[fingerprint]).create()
    return _accelerators[fingerprint]


def _layer(spec: LayerSpec) -> LayerNode:
    dim = LayerDim
    attributes = LayerNodeAttributes(
        layer_type=spec.op_type,
        equation=LayerEquation(spec.equation),
        layer_dim_sizes=LayerDimSizes({dim(d): s for d, s in spec.sizes}),
        operand_precision=LayerOperandPrecision({LayerOperand(op): bits for op, bits in spec.precision}),
        dimension_relations=[LayerDimRelation(dim(p), dim(a), dim(b), ca, cb) for p, a, ca, b, cb in spec.relations],
        padding=LayerPadding({dim(p): (lo, hi) for p, lo, hi in spec.padding}),
        constant_operands=[LayerOperand(layer) for layer, _ in spec.links if layer != "O"],
        input_operand_source={},
        pr_layer_dim_sizes=None,
    )
    mapping = MappingAttributes(
        spatial_mapping=SpatialMapping(
            {
                OADimension(oa): MappingSingleOADim({dim(d): f for d, f in entries})
                for oa, entries in spec.spatial_mapping
            }
        ),
        spatial_mapping_hint=SpatialMappingHint(
            {OADimension(oa): {dim(d) for d in dims} for oa, dims in spec.spatial_hint}
        ),
        memory_operand_links=MemoryOperandLinks({LayerOperand(lo): MemoryOperand(mo) for lo, mo in spec.links}),
        temporal_ordering=LayerTemporalOrdering.empty(),
    )
    return LayerNode(0, spec.op_type, attributes, mapping)


def evaluate(fingerprint: str, spec: LayerSpec, settings: tuple[int, str, int]) -> dict[str, Any]:
    """Cost one layer; returns ``{"status": "ok" | "too_small" | "error", ...}`` (never raises for ZigZag errors).
    When one of the two spatial-mapping passes failed and the other gave a result, the ``ok`` outcome
    names the failed pass in ``search_fallback``."""
    _capture.messages.clear()
    started = time.perf_counter()
    cmes: list[Any] = []
    fills: dict[bool, float] = {}
    failure: dict[str, Any] = {}
    for mix in (False, True):
        try:
            accelerator = _accelerator(fingerprint)
            candidates = _spatial_candidates(accelerator, spec, settings, mix)
            fills[mix] = float(candidates[0].hw_utilization)  # read before the search, which may alter them
            if mix and cmes and fills[True] <= fills[False]:
                break
            cmes.append(_run(accelerator, spec, settings, mix, candidates))
        except TOO_SMALL as exc:
            failure = failure or {"status": "too_small", "message": type(exc).__name__, "mix": mix}
        except Exception as exc:  # ZigZag's own failures (assertions, key errors) are reported, not fatal
            failure = failure or {"status": "error", "message": f"{type(exc).__name__}: {exc}", "mix": mix}
    if not cmes:
        return failure
    best = _with_cycles_per_op(min(cmes, key=lambda cme: cme.latency_total2 - cme.systolic_drain_cycle), spec)
    outcome = _extract(best, accelerator, time.perf_counter() - started)
    if failure:
        failed = "mixed" if failure["mix"] else "single-loop"
        outcome["search_fallback"] = (
            f"ZigZag's {failed} spatial-mapping pass failed ({failure['message']}); the other pass's mapping is used"
        )
    return outcome


def _spatial_candidates(
    accelerator: Accelerator, spec: LayerSpec, settings: tuple[int, str, int], mix: bool
) -> list[SpatialMapping]:
    """The spatial mappings ZigZag's generator stage yields in one pass, best first (ranked by the array units
    they keep busy), each unrolling several loops per array dimension if ``mix``."""
    stage = RankedSpatialMappings(
        STAGES[-1:],  # not run: only the generator is called
        accelerator=accelerator,
        layer=_layer(spec),
        enable_mix_spatial_mapping_generation=mix,
        nb_mappings_generated=settings[2],
    )
    return list(stage.generate_spatial_mappings())


def _run(
    accelerator: Accelerator,
    spec: LayerSpec,
    settings: tuple[int, str, int],
    mix: bool,
    candidates: list[SpatialMapping],
) -> Any:
    """ZigZag's best evaluation of ``spec`` over one pass's spatial mappings ``candidates``."""
    lpf_limit, temporal_mapping, spatial_mappings = settings
    stage = MainStage(
        list(STAGES),
        accelerator=accelerator,
        layer=_layer(spec),
        loma_lpf_limit=lpf_limit,
        loma_show_progress_bar=False,
        nb_mappings_generated=spatial_mappings,
        temporal_mapping_type=TemporalMappingType(temporal_mapping),
        enable_mix_spatial_mapping_generation=mix,
        spatial_candidates=candidates,
    )
    return stage.run()[0][0]


def _with_cycles_per_op(cme: CostModelEvaluation, spec: LayerSpec) -> CostModelEvaluation:
    """ZigZag's evaluation of the chosen mapping with each operation taking ``spec.cycles_per_op`` cycles (the
    search itself assumes one, as stream-dse 2.1.1's does)."""
    if spec.cycles_per_op == 1:
        return cme
    return CostModelEvaluation(
        accelerator=cme.accelerator,
        layer=cme.layer,
        spatial_mapping=cme.spatial_mapping,
        spatial_mapping_int=cme.spatial_mapping_int,
        temporal_mapping=cme.temporal_mapping,
        access_same_data_considered_as_no_access=cme.access_same_data_considered_as_no_access,
        cycles_per_op=spec.cycles_per_op,
    )


def _extract(cme: Any, accelerator: Accelerator, seconds: float) -> dict[str, Any]:
    utilisation: dict[str, float] = {}
    for layer_op, levels in cme.mem_utili_shared.items():
        memories = accelerator.mem_hierarchy_dict[cme.memory_operand_links.layer_to_mem_op(layer_op)]
        for level, value in enumerate(levels):
            name = memories[level].name
            utilisation[name] = max(utilisation.get(name, 0.0), float(value))
    output_levels = cme.temporal_mapping.mapping_dic_stationary[LayerOperand("O")]
    return {
        "status": "ok",
        "latency": math.ceil(cme.latency_total2 - cme.systolic_drain_cycle),  # the drain overlaps the next tile
        "energy_pj": float(cme.energy_total),
        "ideal_cycles": math.ceil(cme.ideal_cycle),
        "memory_utilisation": utilisation,
        "spatial_mapping": tuple(
            (str(oa), tuple((str(d), float(f)) for d, f in single.items()))
            for oa, single in sorted(cme.layer.spatial_mapping.items())
        ),
        "temporal_loops": tuple((str(d), int(f)) for level in output_levels for d, f in level),
        "numbers": {
            "mac_spatial_utilization": float(cme.mac_spatial_utilization),
            "mac_utilization": float(cme.mac_utilization2),
            "ideal_temporal_cycles": float(cme.ideal_temporal_cycle),
            "compute_cycles": float(cme.latency_total0),
            "onloading_cycles": float(cme.latency_total1 - cme.latency_total0),
            "offloading_cycles": float(cme.latency_total2 - cme.latency_total1 - cme.systolic_drain_cycle),
            "drain_cycles": float(cme.systolic_drain_cycle),
            "mac_energy_pj": float(cme.mac_energy),
            "memory_energy_pj": float(cme.mem_energy),
            "zigzag_seconds": round(seconds, 6),
        },
        "warnings": tuple(_capture.messages),
    }
