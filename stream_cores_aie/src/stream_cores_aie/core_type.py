"""The ``aie2`` core type: reads AIE core files (``aie2.compute``, ``aie2.memory``, ``aie2.shim``)."""

from __future__ import annotations

from typing import Any

from stream_cores_aie.description import AieCore
from stream_cores_aie.schema import parse_core


class AieCoreType:
    """Factory object of the ``aie2`` :class:`~stream_core.records.CoreTypeRecord`."""

    def parse(self, data: dict[str, Any], *, kind: str, file: str | None = None) -> AieCore:
        """Validate one core file; raises ``InputError`` listing every problem."""
        return parse_core(data, kind, file)
