"""The U55C compile flow as a function: parse -> itensor typing -> fusion -> FIFO sizing -> design ->
resource estimate -> project files (in memory; ``stream compile`` writes them)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import attrs
from stream_itensor.api import StreamPlan, plan_streams, streaming_context

from stream_core import parse_workload, resolve_target
from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir import Workload
from stream_fpga_u55c.design import Design, build_design
from stream_fpga_u55c.gpt2 import Gpt2Decoding, gpt2_decoding
from stream_fpga_u55c.lint import lint_project
from stream_fpga_u55c.performance import Performance, predict
from stream_fpga_u55c.platform import Platform, load_platform
from stream_fpga_u55c.prepare import Prepared, prepare_workload
from stream_fpga_u55c.project import project_files
from stream_fpga_u55c.resources import Estimate, estimate
from stream_fpga_u55c.target import BACKEND, DEFAULT_UNROLL, itensor_target
from stream_fpga_u55c.tiling import fixed_tilings


@attrs.frozen
class CompileOptions:
    #: A registered target name or a platform file (``stream compile`` passes the file it resolved).
    target: str | Path = "u55c"
    tiles: tuple[str, ...] = ()
    unroll: int = DEFAULT_UNROLL
    budget_bytes: int | None = None


@attrs.frozen
class Compiled:
    design: Design
    plan: StreamPlan
    estimate: Estimate
    performance: Performance
    gpt2: Gpt2Decoding | None
    files: dict[str, bytes]
    timings: dict[str, float]
    prepared: Prepared

    def estimates_dict(self) -> dict:
        plan = self.plan
        return {
            "model": self.design.name,
            "platform": self.design.platform.platform,
            "groups": len(self.design.groups),
            "fifos": {
                "count": len(plan.fifos),
                "bits": plan.total_fifo_bits,
                "depth_total": sum(f.depth for f in plan.fifos),
            },
            "converter_bits": plan.converter_bits,
            "activations": {
                "fifo_bits": plan.total_fifo_bits,
                "converter_bits": plan.converter_bits,
                "full_tensor_bits": plan.full_tensor_bits,
                "ratio": round(plan.activation_ratio, 4),
            },
            "tiling": plan.to_dict()["tiling"],
            "weights": self.prepared.to_dict(),
            "resources": self.estimate.to_dict(),
            "performance": self.performance.to_dict(),
            **({"gpt2_decoding": self.gpt2.to_dict()} if self.gpt2 else {}),
        }


def resolve_platform(reference: str | Path, context: RunContext) -> Platform:
    """The platform of a file path or of a registered target (resolved by the core's
    :func:`~stream_core.resolve_target`) whose code generator is ``u55c-hls``."""
    target = resolve_target(reference, context.plugins)
    if target.code_generator not in (None, BACKEND):
        raise InputError(
            Problem(
                f"target {target.label!r} uses code generator {target.code_generator!r}; "
                f"stream compile needs {BACKEND!r}",
                field="--target",
            )
        )
    return load_platform(target.file)


def compile_workload(workload: Workload | Path, context: RunContext, options: CompileOptions) -> Compiled:
    """Everything but writing the files (see the module docstring); raises ``InfeasibleError`` (exit 2)
    with the numbers when the design exceeds the platform."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    if not isinstance(workload, Workload):
        workload, _ = parse_workload(Path(workload), streaming_context(context))
    platform = resolve_platform(options.target, context)
    if options.unroll < 1:
        raise InputError(Problem(f"expected a positive unroll, got {options.unroll}", field="--unroll"))
    prepared = prepare_workload(workload, context)
    workload = prepared.workload
    timings["parse"] = time.perf_counter() - began
    began = time.perf_counter()
    fixed = fixed_tilings(workload, list(options.tiles))
    target = itensor_target(platform, options.unroll, options.budget_bytes)
    plan = plan_streams(workload, context, target=target, tilings=fixed, search=True)
    timings["plan"] = time.perf_counter() - began
    began = time.perf_counter()
    design = build_design(plan, platform, options.unroll)
    resources = estimate(design)
    performance = predict(design)
    files = project_files(design, resources, prepared.weights)
    gpt2 = gpt2_decoding(workload, performance, platform)
    compiled = Compiled(design, plan, resources, performance, gpt2, files, timings, prepared)
    files["estimates.json"] = (json.dumps(compiled.estimates_dict(), indent=2) + "\n").encode()
    violations = lint_project(
        {k: v.decode() for k, v in files.items() if k.endswith((".cpp", ".cfg"))}, platform.hbm_pcs, len(platform.slrs)
    )
    if violations:
        raise RuntimeError("generated project fails its structural lint:\n" + "\n".join(violations))
    timings["codegen"] = time.perf_counter() - began
    return compiled
