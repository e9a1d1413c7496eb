"""stream-zigzag: the ``zigzag`` core type and the ZigZag cost model for stream-core."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stream-zigzag")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

MODEL_VERSION = "8"
"""Version of this plugin's translation and result extraction; part of the cost-cache token."""
