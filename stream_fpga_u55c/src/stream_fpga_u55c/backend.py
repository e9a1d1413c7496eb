"""The ``u55c-hls`` code generator, run by ``stream compile WORKLOAD --target u55c -o DIR``.

Options through ``--set``: ``u55c.tiles`` (a list of ``[NODE:]LOOP=SIZE`` fixed before the tiling
search), ``u55c.unroll`` (lanes per kernel), ``u55c.budget_bytes`` (fusion memory budget; default the
smallest SLR's BRAM + URAM bytes).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from stream_core.context import RunContext
from stream_core.ir import Workload
from stream_core.outputs import Generated
from stream_fpga_u55c.compile import DEFAULT_UNROLL, Compiled, CompileOptions, compile_workload


class U55cHlsBackend:
    def generate(self, workload: Workload, target: Path, context: RunContext) -> Generated:
        options = CompileOptions(
            target=target,
            tiles=tuple(context.setting("u55c.tiles", ()) or ()),
            unroll=int(context.setting("u55c.unroll", DEFAULT_UNROLL)),
            budget_bytes=context.setting("u55c.budget_bytes"),
        )
        compiled = compile_workload(workload, context, options)
        return Generated(compiled.files, summary(compiled))


def summary(compiled: Compiled) -> str:
    """What ``stream compile`` prints: groups, FIFOs, resources per SLR, the GPT-2 estimate, timings."""
    design, plan = compiled.design, compiled.plan
    platform = design.platform
    lines = [f"compiled {design.name} for {platform.name} ({platform.platform})"]
    lines += compiled.prepared.summary().splitlines()
    for g in design.groups:
        fifos = [s for s in g.streams if s.kind == "fifo"]
        converters = sum(1 for s in g.streams if s.kind == "blocks")
        counts = Counter(s.tokens for s in fifos)
        depths = ", ".join(f"{d} x{n}" for d, n in sorted(counts.items())) or "-"
        slr = platform.slrs[compiled.estimate.slr_of(g.name)].name
        lines.append(
            f"  {g.name} [{slr}]: {', '.join(g.kernels)}; {len(g.tasks)} tasks, {len(fifos)} FIFOs "
            f"(depth in tokens x count: {depths}), {converters} converters, {len(g.args)} HBM ports; "
            f"token-model period {g.period} cycles"
        )
    lines.append(f"  FIFOs: {len(plan.fifos)}; " + plan.activation_line())
    lines.append("resources (estimate; rules in estimates.json):")
    lines += ["  " + line for line in compiled.estimate.table().splitlines()]
    lines.append(compiled.performance.table())
    if compiled.gpt2:
        lines.append(compiled.gpt2.table())
    t = compiled.timings
    lines.append(f"time: parse {t['parse']:.3f} s, itensor plan {t['plan']:.3f} s, codegen {t['codegen']:.3f} s")
    return "\n".join(lines)
