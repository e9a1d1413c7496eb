"""The cycles an AIE array spends reconfiguring between fused groups (Stream 2.1.1's ``reconfiguration``).

The accelerator's ``reconfiguration: {cycles_per_column, reset_cycles}`` (numbers >= 0, each 0 when
absent; Stream reads no other key of the block). A dispatch of more than one fused group configures
each group's design on the compute-tile columns it occupies and resets the array once, so 2.1.1
adds ``sum over groups (columns x cycles_per_column) + reset_cycles`` to the mapping's cycles; a
single group adds nothing. A group's columns are the distinct first coordinates of the
``aie2.compute`` cores its tiles ran on.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import attrs

from stream_core.errors import ProblemCollector
from stream_core.ir.accelerator import Accelerator
from stream_core.ir.result import Result
from stream_core.yamlio import is_number, type_name

KEYS = ("cycles_per_column", "reset_cycles")


@attrs.frozen
class Reconfiguration:
    cycles_per_column: float = 0.0
    reset_cycles: float = 0.0

    def dispatch_cycles(self, columns_per_group: list[int]) -> float:
        """Cycles a dispatch of groups occupying ``columns_per_group`` columns adds (0 for one group)."""
        if len(columns_per_group) <= 1:
            return 0.0
        return sum(columns_per_group) * self.cycles_per_column + self.reset_cycles


def read_reconfiguration(accelerator: Accelerator) -> Reconfiguration | None:
    """The accelerator's ``reconfiguration`` block (``None`` when it has none); bad values are input errors."""
    block = accelerator.annotations.get("reconfiguration")
    if block is None:
        return None
    problems = ProblemCollector(accelerator.source)
    if not isinstance(block, dict):
        problems.add("reconfiguration", f"expected a mapping, got {type_name(block)}")
        problems.raise_if_any()
    values: dict[str, Any] = {}
    for key in KEYS:
        value = block.get(key, 0)
        if not is_number(value) or value < 0:
            problems.add(f"reconfiguration.{key}", f"expected a number >= 0 of cycles, got {value!r}")
        else:
            values[key] = float(value)
    problems.raise_if_any()
    return Reconfiguration(**values)


def group_columns(accelerator: Accelerator, result: Result) -> dict[str, tuple[int, ...]]:
    """Per fused group (in run order), the compute-tile columns its tiles ran on."""
    columns: dict[str, set[int]] = defaultdict(set)
    for tile in result.tiles:
        core = accelerator.cores[tile.core]
        if core.type == "aie2.compute" and core.coordinates is not None:
            columns[tile.group].add(core.coordinates[0])
    return {g.name: tuple(sorted(columns[g.name])) for g in result.groups}
