"""Fixtures of stream-tetra's tests: the ``tetratoy`` core type registered in-process, small
accelerators written to YAML, and workloads built directly in the IR."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import tetra_toy  # noqa: E402
from tetra_helpers import DRAM  # noqa: E402


@pytest.fixture
def plugins(stream_plugins):
    """Installed plugins plus the tetratoy core type and cost model."""
    stream_plugins.register(tetra_toy, name="tetratoy")
    return stream_plugins


@pytest.fixture
def hardware(tmp_path):
    """Write an accelerator of tetratoy cores: ``cores`` compute core dicts (ids 0..n-1), DRAM as
    core n, ``links`` (default: one 8 bit/cycle bus over everything) and further top-level ``fields``."""

    def make(cores: list[dict], links: list[dict] | None = None, name: str = "toy_acc", **fields) -> Path:
        n = len(cores)
        data = {
            "name": name,
            "cores": {**dict(enumerate(cores)), n: DRAM},
            "offchip_core_id": n,
            "core_connectivity": links or [{"type": "bus", "cores": list(range(n + 1)), "bandwidth": 8}],
            **fields,
        }
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return make


@pytest.fixture
def write_mapping(tmp_path):
    def make(data: dict, name: str = "mapping.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return make
