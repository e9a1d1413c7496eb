"""Shared fixtures: the installed plugins, an LP solver, and the profiled reconvergent graphs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from stream_itensor.api import DataflowGraph
from stream_itensor.examples import reconvergent_cases

from stream_core.context import RunContext, RunOptions
from stream_core.plugins import Plugins

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the shared workload builders of itensor_workloads.py
    sys.path.insert(0, str(HERE))


@pytest.fixture(scope="session")
def plugins() -> Plugins:
    return Plugins.discover()


@pytest.fixture(scope="session")
def lp_solver(plugins: Plugins) -> Any:
    return RunContext(plugins=plugins, options=RunOptions(solver="highs")).solver("lp")


@pytest.fixture(scope="session")
def reconvergent() -> dict[str, DataflowGraph]:
    return reconvergent_cases()
