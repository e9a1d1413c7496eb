"""Shared helpers for the stream-zigzag tests (imported by the test modules)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import yaml

from stream_core.context import RunContext, RunOptions
from stream_core.ir import AffineExpr, Core, LoopDim, Node, Operand
from stream_core.testing import conv_node

DATA = Path(__file__).resolve().parent / "data"
A = AffineExpr.of


def core_data(name: str) -> dict[str, Any]:
    return yaml.safe_load((DATA / f"{name}.yaml").read_text())


def make_core(plugins, data: dict[str, Any], core_id: int = 0, kind: str = "compute") -> Core:
    description = plugins.load("core_types", "zigzag").parse(data, kind=kind, file=f"{data.get('name')}.yaml")
    return Core(id=core_id, type=f"zigzag.{kind}", description=description)


def context(plugins, **settings: Any) -> RunContext:
    jobs = settings.pop("jobs", 1)
    options = RunOptions(jobs=jobs, use_cache=False, settings={f"zigzag.{k}": v for k, v in settings.items()})
    return RunContext(plugins=plugins, options=options)


def conv(b=1, c=8, k=16, oy=16, ox=16, fy=3, fx=3, stride=1, pad=1, bits=8, name="conv") -> Node:
    """ONNX-plugin naming: loops B, OX, OY, FX, FY, C, K; input (B, C, s*OY+FY-p, s*OX+FX-p)."""
    return conv_node(name, b=b, c=c, k=k, oy=oy, ox=ox, fy=fy, fx=fx, stride=stride, pad=pad, bits=bits)


def depthwise(b=1, k=16, oy=16, ox=16, fy=3, fx=3, pad=1, bits=8) -> Node:
    """Depthwise conv: channel loop K indexes input, weight (K, 0, FY, FX) and output."""
    return Node(
        "dw",
        "Conv",
        [LoopDim("B", b), LoopDim("OX", ox), LoopDim("OY", oy), LoopDim("FX", fx), LoopDim("FY", fy), LoopDim("K", k)],
        [
            Operand(
                "input",
                "x",
                bits,
                (A("B"), A("K"), AffineExpr((("OY", 1), ("FY", 1)), -pad), AffineExpr((("OX", 1), ("FX", 1)), -pad)),
            ),
            Operand("weight", "w", bits, (A("K"), AffineExpr.constant(0), A("FY"), A("FX"))),
            Operand("output", "y", bits, (A("B"), A("K"), A("OY"), A("OX"))),
        ],
        mac_op=True,
    )


def gemm(m: int, k: int, n: int, bits: int = 8) -> Node:
    """Gemm naming: rows D, reduction C, output columns K."""
    return Node(
        "mm",
        "Gemm",
        [LoopDim("D", m), LoopDim("C", k), LoopDim("K", n)],
        [
            Operand("input", "a", bits, (A("D"), A("C"))),
            Operand("weight", "w", bits, (A("C"), A("K"))),
            Operand("output", "y", bits, (A("D"), A("K"))),
        ],
        mac_op=True,
    )


def elementwise(op_type: str, n: int = 256, inputs: int = 1, bits: int = 8) -> Node:
    operands = [Operand("input", f"x{i}", bits, (A("D0"),)) for i in range(inputs)]
    return Node(
        f"{op_type.lower()}", op_type, [LoopDim("D0", n)], [*operands, Operand("output", "y", bits, (A("D0"),))]
    )


LINKS = {"O": "O", "W": "I2", "I": "I1"}


def stream_named(
    layer: dict[str, Any], spatial_mapping: dict[str, list[str]] | None = None
) -> tuple[dict[str, Any], dict[str, list[str]] | None]:
    """``layer`` (ZigZag's workload schema) and its ``spatial_mapping`` with the dimensions named as stream-dse 2.1.1
    names them: loop i is ``D<i>``, the partially-relevant dimensions follow (``D<n>``, ...). ZigZag breaks ties
    between equally ranked spatial mappings by an order that follows the names, so the reference must use them."""
    loops, prs = layer["loop_dims"], layer.get("pr_loop_dims", [])
    names = {dim.lower(): f"d{i}" for i, dim in enumerate([*loops, *prs])}

    def rename(text: str) -> str:
        return re.sub(r"[a-z]\w*", lambda m: names.get(m.group(0), m.group(0)), text)

    renamed = {**layer, "equation": rename(layer["equation"]), "loop_dims": [f"D{i}" for i in range(len(loops))]}
    if "dimension_relations" in layer:
        renamed["dimension_relations"] = [rename(relation) for relation in layer["dimension_relations"]]
    if prs:
        renamed["pr_loop_dims"] = [f"D{len(loops) + i}" for i in range(len(prs))]
    if spatial_mapping is None:
        return renamed, None
    unrolled = {
        oa: [rename(dim.strip().lower()).upper() + "," + factor for dim, factor in (e.split(",", 1) for e in entries)]
        for oa, entries in spatial_mapping.items()
    }
    return renamed, unrolled


def api_cost(tmp_path, core_name, layer, spatial_mapping=None, lpf_limit=3, data=None):
    """(latency, energy, per-layer evaluation) as stream-dse 2.1.1 picks it, for the core file ``core_name`` or its
    ``data`` (ZigZag's keys only): ``zigzag.api.get_hardware_performance_zigzag`` with one loop per array dimension;
    where mixed unrollings fill more of the array, also ZigZag's pipeline with those, and then the answer with fewer
    cycles without the systolic drain (a mixed pass finding no loop ordering keeps the first)."""
    from zigzag.opt.loma.engine import NoValidLoopOrderingFoundException

    layer, spatial_mapping = stream_named(layer, spatial_mapping)
    plain = _zigzag_cost(tmp_path, core_name, layer, spatial_mapping, lpf_limit, data, mix=False)
    try:
        mixed = _zigzag_cost(tmp_path, core_name, layer, spatial_mapping, lpf_limit, data, mix=True)
    except NoValidLoopOrderingFoundException:
        return plain
    if mixed[2].mac_spatial_utilization <= plain[2].mac_spatial_utilization:
        return plain
    return min(plain, mixed, key=lambda answer: answer[2].latency_total2 - answer[2].systolic_drain_cycle)


def _zigzag_cost(tmp_path, core_name, layer, spatial_mapping, lpf_limit, data, mix):
    """One pass through ZigZag's parsers and stages. The API's own mixed flag also keeps layers in lower memories
    (it drops DRAM), which Stream does not do, so the mixed pass runs the API's stage list without that."""
    from zigzag.api import get_hardware_performance_zigzag  # heavy import chain (ONNX, plotting)
    from zigzag.mapping.temporal_mapping import TemporalMappingType
    from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage
    from zigzag.stages.main import MainStage
    from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage
    from zigzag.stages.mapping.temporal_mapping_generator_stage import TemporalMappingGeneratorStage
    from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage
    from zigzag.stages.parser.workload_parser import WorkloadParserStage
    from zigzag.stages.results.reduce_stages import MinimalLatencyStage, SumStage
    from zigzag.stages.workload_iterator import WorkloadStage

    accelerator = dict(data or core_data(core_name))
    accelerator.pop("type", None)
    path = tmp_path / f"{core_name}.yaml"
    path.write_text(yaml.safe_dump(accelerator, sort_keys=False))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        yaml.safe_dump([{"name": "default", "spatial_mapping": spatial_mapping, "memory_operand_links": LINKS}])
    )
    workload = [{"id": 0, "name": "layer", "operand_source": {"W": 0, "I": 0}, **layer}]
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        if not mix:
            energy, latency, cmes = get_hardware_performance_zigzag(
                workload,
                str(path),
                str(mapping),
                lpf_limit=lpf_limit,
                nb_spatial_mappings_generated=1,
                dump_folder=str(tmp_path / "out"),
                loma_show_progress_bar=False,
            )
        else:
            stages = [WorkloadParserStage, AcceleratorParserStage, SumStage, WorkloadStage, MinimalLatencyStage]
            stages += [SpatialMappingGeneratorStage, MinimalLatencyStage, TemporalMappingGeneratorStage, CostModelStage]
            cmes = MainStage(
                stages,
                accelerator=str(path),
                workload=workload,
                mapping=str(mapping),
                loma_lpf_limit=lpf_limit,
                loma_show_progress_bar=False,
                nb_mappings_generated=1,
                enable_mix_spatial_mapping_generation=True,
                access_same_data_considered_as_no_access=True,
                temporal_mapping_type=TemporalMappingType.UNEVEN,
            ).run()
            energy, latency = cmes[0][0].energy_total, cmes[0][0].latency_total2
    finally:  # the API reconfigures root logging
        root.setLevel(level)
        root.handlers[:] = handlers
    return latency, energy, cmes[0][1][0][0]


ONE_INPUT_LINKS = {"O": "O", "I": "I1"}


def api_cost_one_input(tmp_path, core_name, layer, lpf_limit=3, cycles_per_op=1):
    """(latency, energy, evaluation) of a one-input layer ``O[..] = I[..]`` by ZigZag's own parsers and stages, picked
    as :func:`api_cost` does. ZigZag's YAML validators refuse such a layer (its equation regex wants two inputs, its
    mapping schema a ``W`` link), so the layer goes through ZigZag's ``WorkloadFactory`` on the validator's normalized
    data, links ``O -> O``, ``I -> I1`` and every input constant (``operand_source``). The chosen evaluation is then
    redone by ZigZag's ``CostModelEvaluation`` with ``cycles_per_op``."""
    from zigzag.cost_model.cost_model import CostModelEvaluation
    from zigzag.opt.loma.engine import NoValidLoopOrderingFoundException
    from zigzag.parser.mapping_validator import MappingValidator
    from zigzag.parser.workload_factory import WorkloadFactory
    from zigzag.parser.workload_validator import WorkloadValidator

    layer, _ = stream_named(layer)
    accelerator = {k: v for k, v in core_data(core_name).items() if k not in ("type", "operator_types")}
    path = tmp_path / f"{core_name}.yaml"
    path.write_text(yaml.safe_dump(accelerator, sort_keys=False))
    workload = [{"id": 0, "name": "layer", "operand_source": {"I": 0}, **layer}]
    mapping = [{"name": "default", "memory_operand_links": ONE_INPUT_LINKS}]
    dnn = WorkloadFactory(WorkloadValidator(workload).normalized_data, MappingValidator(mapping).normalized_data)
    plain = _staged(str(path), dnn.create(), lpf_limit, mix=False)
    answer = plain
    try:
        mixed = _staged(str(path), dnn.create(), lpf_limit, mix=True)
    except NoValidLoopOrderingFoundException:
        mixed = None
    if mixed is not None and mixed.mac_spatial_utilization > plain.mac_spatial_utilization:
        answer = min(plain, mixed, key=lambda cme: cme.latency_total2 - cme.systolic_drain_cycle)
    if cycles_per_op != 1:
        answer = CostModelEvaluation(
            accelerator=answer.accelerator,
            layer=answer.layer,
            spatial_mapping=answer.spatial_mapping,
            spatial_mapping_int=answer.spatial_mapping_int,
            temporal_mapping=answer.temporal_mapping,
            access_same_data_considered_as_no_access=True,
            cycles_per_op=cycles_per_op,
        )
    return answer.latency_total2, answer.energy_total, answer


def _staged(accelerator, workload, lpf_limit, mix):
    """ZigZag's stage list (as its API runs it, without the workload parser and the file-saving stages)."""
    from zigzag.mapping.temporal_mapping import TemporalMappingType
    from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage
    from zigzag.stages.main import MainStage
    from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage
    from zigzag.stages.mapping.temporal_mapping_generator_stage import TemporalMappingGeneratorStage
    from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage
    from zigzag.stages.results.reduce_stages import MinimalLatencyStage, SumStage
    from zigzag.stages.workload_iterator import WorkloadStage

    stages = [AcceleratorParserStage, SumStage, WorkloadStage, MinimalLatencyStage, SpatialMappingGeneratorStage]
    stages += [MinimalLatencyStage, TemporalMappingGeneratorStage, CostModelStage]
    cmes = MainStage(
        stages,
        accelerator=accelerator,
        workload=workload,
        loma_lpf_limit=lpf_limit,
        loma_show_progress_bar=False,
        nb_mappings_generated=1,
        enable_mix_spatial_mapping_generation=mix,
        access_same_data_considered_as_no_access=True,
        temporal_mapping_type=TemporalMappingType.UNEVEN,
    ).run()
    return cmes[0][1][0][0]
