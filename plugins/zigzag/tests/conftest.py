"""Fixtures for stream-zigzag tests: the plugin registered in-process (isolated from other installed
plugins), core loading from ``tests/data`` and small IR nodes named as the ONNX parser names them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.append(str(HERE))

pytest_plugins = ["stream_core.testing"]


@pytest.fixture
def zz_plugins():
    """Built-ins plus stream-zigzag only."""
    from stream_zigzag import plugin

    from stream_core.testing import make_plugins

    return make_plugins(("stream-zigzag", plugin), entry_points=False)
