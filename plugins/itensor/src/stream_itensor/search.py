"""Smallest FIFO depths found by simulation: the empirical reference the LP is compared with.

Starting from depths that reproduce the unbounded-FIFO run exactly (each FIFO's peak occupancy in that
run), each FIFO in turn is reduced by binary search to the smallest depth at which the simulator still
finishes without deadlock and no later than the unbounded run; passes repeat until nothing shrinks.
The makespan is non-increasing in every depth, so each binary search is exact for the others fixed and
the result is minimal FIFO by FIFO (not necessarily the global minimum of total bits).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from stream_itensor.dataflow import DataflowGraph
from stream_itensor.simulate import simulate


@attrs.frozen
class SearchResult:
    depths: dict[str, int]
    makespan: int
    simulations: int

    def total_bits(self, dfg: DataflowGraph) -> int:
        return sum(self.depths[c.name] * c.token_bits for c in dfg.channels if c.is_stream)


def search_min_depths(
    dfg: DataflowGraph, fixed: Mapping[str, int], frames: int = 1, max_passes: int = 4
) -> SearchResult:
    """Minimal stream-FIFO depths (``fixed`` holds the converter buffer counts, not searched)."""
    reference = simulate(dfg, fixed, frames)
    if reference.deadlock:
        raise ValueError(f"{dfg.name} deadlocks even with unbounded FIFOs:\n{reference.report()}")
    peaks = dict(reference.max_occupancy)
    depths = {**{c.name: max(1, peaks[c.name]) for c in dfg.channels if c.is_stream}, **fixed}
    runs = 1

    def fits(candidate: dict[str, int]) -> bool:
        nonlocal runs
        runs += 1
        result = simulate(dfg, candidate, frames)
        return not result.deadlock and result.time <= reference.time

    for _ in range(max_passes):
        changed = False
        for c in dfg.channels:
            if not c.is_stream:
                continue
            lo, hi = 1, depths[c.name]
            while lo < hi:
                mid = (lo + hi) // 2
                if fits({**depths, c.name: mid}):
                    hi = mid
                else:
                    lo = mid + 1
            if lo < depths[c.name]:
                depths[c.name], changed = lo, True
        if not changed:
            break
    return SearchResult(depths, reference.time, runs)
