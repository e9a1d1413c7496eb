"""The ``zigzag`` core type: reads ZigZag/Stream core YAML (both formats) into a :class:`ZigZagCore`."""

from __future__ import annotations

from typing import Any

from stream_core.errors import ProblemCollector
from stream_zigzag.core_schema import CoreSchema
from stream_zigzag.description import ZigZagCore


class ZigZagCoreType:
    """Factory object of the ``zigzag`` :class:`~stream_core.records.CoreTypeRecord`."""

    def parse(self, data: dict[str, Any], *, kind: str, file: str | None = None) -> ZigZagCore:
        """Validate and normalise one core file; raises ``InputError`` listing every problem."""
        problems = ProblemCollector(file)
        schema = CoreSchema(data, problems, kind)
        canonical = schema.normalise()
        problems.raise_if_any()
        assert canonical is not None
        return ZigZagCore.from_data(canonical, kind, file, schema.notes())
