"""The built-in ``roofline`` cost model: the fast, core-type-neutral baseline; its formulas are the
public :mod:`stream_core.roofline`."""

from __future__ import annotations

from collections.abc import Sequence

from stream_core.context import RunContext
from stream_core.ir.cost import CostRequest, CostResult
from stream_core.roofline import roofline_cost


class RooflineCostModel:
    """Analytic, instantaneous; not cached on disk (recomputing is cheaper than reading a file)."""

    def cost(self, requests: Sequence[CostRequest], context: RunContext) -> list[CostResult]:
        return [roofline_cost(r) for r in requests]
