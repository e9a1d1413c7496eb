"""Built-in exporters: summary (JSON and YAML), Perfetto trace, Gantt chart."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from stream_core.context import RunContext
from stream_core.ir.problem import AllocationProblem
from stream_core.ir.result import Result
from stream_core.report import summary_dict, write_chrome_trace

#: libyaml's emitter where PyYAML was built with it: the same text as ``yaml.safe_dump``, 3x faster.
SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class SummaryExporter:
    def export(self, result: Result, problem: AllocationProblem, output_dir: Path, context: RunContext) -> list[Path]:
        data = summary_dict(result, problem.accelerator)
        json_path = output_dir / "summary.json"
        json_path.write_text(json.dumps(data, indent=2) + "\n")
        yaml_path = output_dir / "summary.yaml"
        yaml_path.write_text(yaml.dump(data, Dumper=SAFE_DUMPER, sort_keys=False))
        return [json_path, yaml_path]


class TraceExporter:
    def export(self, result: Result, problem: AllocationProblem, output_dir: Path, context: RunContext) -> list[Path]:
        path = output_dir / "trace.json"
        write_chrome_trace(result, problem.accelerator, path)
        return [path]


class GanttExporter:
    """gantt.png: one row per core and per used link, bars coloured by node (:mod:`stream_core.gantt`)."""

    def export(self, result: Result, problem: AllocationProblem, output_dir: Path, context: RunContext) -> list[Path]:
        from stream_core.gantt import draw_gantt

        return [draw_gantt(result, problem.accelerator, output_dir / "gantt.png")]
