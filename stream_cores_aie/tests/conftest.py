"""Fixtures for stream-cores-aie tests: the plugin registered in-process and a writable copy of the
bundled hardware (helpers live in ``aie_helpers``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.append(str(HERE))

from aie_helpers import HardwareCopy  # noqa: E402

from stream_core.testing import make_plugins  # noqa: E402

pytest_plugins = ["stream_core.testing"]


@pytest.fixture
def aie_plugins():
    """Built-ins plus stream-cores-aie only (no other installed plugin)."""
    from stream_cores_aie import plugin

    return make_plugins(("stream-cores-aie", plugin), entry_points=False)


@pytest.fixture
def hardware_copy(tmp_path: Path) -> HardwareCopy:
    return HardwareCopy(tmp_path / "hardware")
