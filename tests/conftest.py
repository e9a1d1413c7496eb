"""Fixtures for cross-package tests: toy hardware files (helpers live in cross_test_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cross_test_support import write_yaml


@pytest.fixture
def toy_hardware_file(tmp_path) -> Path:
    """One toy compute core (4 MACs/cycle, 10-cycle call overhead) and toy DRAM on a 32-bit bus."""
    cores = tmp_path / "cores"
    cores.mkdir()
    (cores / "little.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "little",
                "type": "toy.compute",
                "macs_per_cycle": 4,
                "memory_bits": 1 << 20,
                "bandwidth": 64,
                "mac_energy": 0.5,
                "bit_energy": 0.1,
                "call_overhead": 10,
            }
        )
    )
    (cores / "dram.yaml").write_text(
        yaml.safe_dump(
            {"name": "dram", "type": "toy.offchip", "memory_bits": 10**10, "bandwidth": 64, "bit_energy": 1.0}
        )
    )
    return write_yaml(
        tmp_path / "toy_acc.yaml",
        {
            "name": "toy_acc",
            "cores": {0: "little.yaml", 1: "dram.yaml"},
            "offchip_core_id": 1,
            "core_connectivity": [{"type": "bus", "cores": [0, 1], "bandwidth": 32}],
        },
    )
