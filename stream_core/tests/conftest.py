"""Shared fixtures for the core's tests: a toy third-party plugin registered in-process and
helpers that write small hardware files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FIXTURE_SRC = HERE.parents[1] / "tests" / "fixtures" / "example_plugin" / "src"
for _path in (FIXTURE_SRC, HERE):  # the toy plugin and core_test_support.py
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from core_test_support import TOY_COMPUTE, TOY_DRAM, write_yaml  # noqa: E402
from stream_example_plugin import plugin as toy_plugin  # noqa: E402


@pytest.fixture
def toy_plugins():
    """Built-ins plus the toy plugin, without any installed plugin (isolated from the environment)."""
    from stream_core.testing import make_plugins

    return make_plugins(("toy-plugin", toy_plugin), entry_points=False)


@pytest.fixture
def toy_hardware(tmp_path):
    """Write a toy accelerator: ``n`` compute cores and DRAM on one bus; returns the file path."""

    def make(n: int = 1, bandwidth: float = 8, compute: dict | None = None, links: list | None = None) -> Path:
        write_yaml(tmp_path / "cores" / "little.yaml", compute or TOY_COMPUTE)
        write_yaml(tmp_path / "cores" / "dram.yaml", TOY_DRAM)
        cores = {i: "little.yaml" for i in range(n)}
        cores[n] = "dram.yaml"
        connectivity = (
            links if links is not None else [{"type": "bus", "cores": list(range(n + 1)), "bandwidth": bandwidth}]
        )
        return write_yaml(
            tmp_path / "acc.yaml",
            {"name": "toy_acc", "cores": cores, "offchip_core_id": n, "core_connectivity": connectivity},
        )

    return make
