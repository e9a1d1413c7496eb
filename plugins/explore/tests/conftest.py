"""Fixtures of the explore tests (helpers in explore_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from explore_support import write_hardware  # noqa: E402

from stream_core.examples import workload  # noqa: E402


@pytest.fixture
def hardware(tmp_path: Path) -> Path:
    return write_hardware(tmp_path / "hw")


@pytest.fixture
def two_conv() -> Path:
    return workload("two_conv")
