"""Small hardware of our own for the explore tests: two 4x4-array cores and off-chip DRAM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PE = {
    "name": "pe",
    "type": "zigzag.compute",
    "memories": {
        "rf": {
            "size": 64,
            "r_cost": 0.1,
            "w_cost": 0.1,
            "area": 0,
            "latency": 1,
            "operands": ["I2"],
            "ports": [
                {"name": "r_port_1", "type": "read", "bandwidth_min": 8, "bandwidth_max": 8, "allocation": ["I2, tl"]},
                {"name": "w_port_1", "type": "write", "bandwidth_min": 8, "bandwidth_max": 8, "allocation": ["I2, fh"]},
            ],
            "served_dimensions": [],
        },
        "sram": {
            "size": 8388608,
            "r_cost": 100.0,
            "w_cost": 110.0,
            "area": 0,
            "latency": 1,
            "operands": ["I1", "I2", "O"],
            "ports": [
                {
                    "name": "r_port_1",
                    "type": "read",
                    "bandwidth_min": 64,
                    "bandwidth_max": 512,
                    "allocation": ["I1, tl", "I2, tl", "O, tl", "O, th"],
                },
                {
                    "name": "w_port_1",
                    "type": "write",
                    "bandwidth_min": 64,
                    "bandwidth_max": 512,
                    "allocation": ["I1, fh", "I2, fh", "O, fh", "O, fl"],
                },
            ],
            "served_dimensions": ["D1", "D2"],
        },
    },
    "operational_array": {"unit_energy": 0.05, "unit_area": 1, "dimensions": ["D1", "D2"], "sizes": [4, 4]},
}
DRAM = {
    "name": "dram",
    "type": "zigzag.offchip",
    "memories": {
        "dram": {
            "size": 10**10,
            "r_cost": 500,
            "w_cost": 500,
            "area": 0,
            "latency": 1,
            "operands": ["I1", "I2", "O"],
            "ports": [
                {
                    "name": "rw_port_1",
                    "type": "read_write",
                    "bandwidth_min": 64,
                    "bandwidth_max": 64,
                    "allocation": ["I1, fh", "I1, tl", "I2, fh", "I2, tl", "O, fh", "O, tl", "O, fl", "O, th"],
                }
            ],
            "served_dimensions": ["D1", "D2"],
        }
    },
    "operational_array": {"unit_energy": 0, "unit_area": 0, "dimensions": ["D1", "D2"], "sizes": [0, 0]},
}
ACCELERATOR = {
    "name": "tiny",
    "cores": {0: "./cores/pe.yaml", 1: "./cores/pe.yaml", 2: "./cores/dram.yaml"},
    "offchip_core_id": 2,
    "core_connectivity": [
        {"type": "link", "cores": [0, 1], "bandwidth": 32},
        {"type": "bus", "cores": [0, 1, 2], "bandwidth": 64},
    ],
}
#: Fast, deterministic run settings for tests (no ZigZag search, no MILP).
FAST_RUN = {"cost_model": "roofline", "allocator": "greedy"}


def write_hardware(folder: Path, pe: dict[str, Any] | None = None, accelerator: dict[str, Any] | None = None) -> Path:
    """Write the tiny accelerator (optionally edited) under ``folder``; returns its file."""
    (folder / "cores").mkdir(parents=True, exist_ok=True)
    (folder / "cores" / "pe.yaml").write_text(yaml.safe_dump(pe or PE, sort_keys=False))
    (folder / "cores" / "dram.yaml").write_text(yaml.safe_dump(DRAM, sort_keys=False))
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(accelerator or ACCELERATOR, sort_keys=False))
    return path


def write_sweep(folder: Path, data: dict[str, Any]) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
