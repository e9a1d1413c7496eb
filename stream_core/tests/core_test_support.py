"""Helpers shared by the core's tests (importable because conftest puts this folder on sys.path)."""

from __future__ import annotations

from pathlib import Path

import yaml


def write_yaml(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


TOY_COMPUTE = {
    "name": "little",
    "type": "toy.compute",
    "macs_per_cycle": 4,
    "memory_bits": 4096,
    "bandwidth": 8,
    "mac_energy": 0.5,
    "bit_energy": 0.1,
    "call_overhead": 0,
}
TOY_DRAM = {"name": "dram", "type": "toy.offchip", "memory_bits": 10**9, "bandwidth": 8, "bit_energy": 1.0}


class GoodExporter:
    """Writes good.txt with the run's latency."""

    def export(self, result, problem, output_dir, context):
        path = output_dir / "good.txt"
        path.write_text(f"latency {result.totals.latency}")
        return [path]


class FailingExporter:
    """Writes half of bad.csv, then raises (as an exporter with a formatting bug would)."""

    def export(self, result, problem, output_dir, context):
        (output_dir / "bad.csv").write_text("node,lat")
        raise TypeError("unsupported format string passed to NoneType.__format__")
