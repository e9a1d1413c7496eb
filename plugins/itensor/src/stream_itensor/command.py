"""``stream fifo-size WORKLOAD``: type, fuse and size the FIFOs of a workload; print and write JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from stream_core import parse_workload
from stream_core.cli import add_run_options
from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.outputs import GENERATED_BY, check_output_file, write_output_file
from stream_itensor.parsing import streaming_context
from stream_itensor.plan import StreamPlan, plan_streams
from stream_itensor.simulate import simulate
from stream_itensor.target import load_target
from stream_itensor.tiling import KernelTiling


def parse_tiles(items: list[str]) -> KernelTiling | None:
    """``["oy=1", "m=16"]`` -> a uniform tiling; reports every malformed item."""
    tiles: dict[str, int] = {}
    problems = []
    for item in items:
        loop, sep, size = item.partition("=")
        if not sep or not loop.strip() or not size.strip().isdigit() or int(size) < 1:
            problems.append(Problem(f"expected LOOP=SIZE with a positive integer size, got {item!r}", field="--tile"))
        else:
            tiles[loop.strip()] = int(size)
    if problems:
        raise InputError(problems)
    return KernelTiling(tiles) if tiles else None


def format_plan(plan: StreamPlan) -> str:
    """A text table: converters, FIFOs (depth, width, bits) per group, and the totals."""
    lines = []
    for group, sizing in zip(plan.fusion.groups, plan.sizings, strict=True):
        memory = f"local {group.local_bits // 8} B, converters {group.converter_bits // 8} B"
        lines.append(f"{group.name}: {', '.join(group.kernels)} ({memory})")
        for c in sizing.converters:
            edge = next(e for e in plan.graph.edges if e.name == c.edge)
            assert edge.converter is not None
            shape = "x".join(str(n) for n in edge.converter.buffer_shape)
            lines.append(f"  converter {c.edge}: {c.buffers} x {shape} buffer ({c.buffers * c.buffer_bits} bits)")
        width = max((len(f.channel) for f in sizing.fifos), default=4)
        if sizing.fifos:
            lines.append(f"  {'fifo':<{width}}  {'depth':>6}  {'width':>7}  {'bits':>10}")
        for f in sizing.fifos:
            lines.append(f"  {f.channel:<{width}}  {f.depth:>6}  {f.token_bits:>7}  {f.bits:>10}")
        size = f"{sizing.variables} variables, {sizing.constraints} constraints"
        lines.append(f"  LP ({sizing.solver}): {size}, {sizing.seconds * 1000:.1f} ms")
    lines.append(
        f"total FIFO bits {plan.total_fifo_bits} ({plan.total_fifo_bits / 8 / 1024:.1f} KiB) in {len(plan.fifos)} FIFOs"
    )
    lines.append(plan.activation_line())
    return "\n".join(lines)


class FifoSizeCommand:
    """The ``fifo-size`` sub-command."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("workload", help="workload file (ONNX, or any format an installed parser reads)")
        parser.add_argument(
            "--target", metavar="FILE", help="accelerator or itensor target YAML, or a registered target name"
        )
        parser.add_argument("--output", "-o", metavar="FILE", help="JSON output (default: <workload>.fifo.json)")
        parser.add_argument(
            "--tile",
            action="append",
            default=[],
            metavar="LOOP=SIZE",
            help="tile size for every node with that loop (repeatable; no search); default: searched tiles",
        )
        parser.add_argument("--force", action="store_true", help="overwrite an output file not written by stream")
        add_run_options(parser, cache=False)
        parser.add_argument(
            "--simulate", type=int, default=0, metavar="FRAMES", help="also simulate FRAMES frames with the sized FIFOs"
        )

    def run(self, args: argparse.Namespace, context: RunContext) -> int:
        if args.simulate < 0:
            raise InputError(
                Problem(f"expected a non-negative number of frames, got {args.simulate}", field="--simulate")
            )
        output = Path(args.output) if args.output else Path(f"{Path(args.workload).stem}.fifo.json")
        check_output_file(output, force=args.force)  # before the work, not after it
        workload, _ = parse_workload(Path(args.workload), streaming_context(context))
        target = load_target(args.target, context)
        tiles = parse_tiles(args.tile)
        plan = plan_streams(workload, context, target=target, default_tiling=tiles, search=tiles is None)
        data = plan.to_dict()
        print(format_plan(plan))
        if args.simulate:
            data["simulation"] = self._simulate(plan, args.simulate)
        text = json.dumps({GENERATED_BY: "stream fifo-size", **data}, indent=2) + "\n"
        write_output_file(output, text.encode(), force=args.force)
        print(f"wrote {output}")
        return 0

    def _simulate(self, plan: StreamPlan, frames: int) -> list[dict[str, Any]]:
        out = []
        for dfg, sizing in zip(plan.dataflows, plan.sizings, strict=True):
            buffers = {c.channel: c.buffers for c in sizing.converters}
            sized = simulate(dfg, sizing.depths(), frames)
            free = simulate(dfg, buffers, frames)
            print(f"{dfg.name}: sized FIFOs: {sized.report()}; unbounded FIFOs: {free.report()}")
            out.append(
                {
                    "group": dfg.name,
                    "frames": frames,
                    "deadlock": sized.deadlock,
                    "cycles": sized.time,
                    "unbounded_cycles": free.time,
                    "report": sized.report(),
                }
            )
        return out
