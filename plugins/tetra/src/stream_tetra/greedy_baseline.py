"""Greedy's schedule of one fused group: the candidate TETRA weighs against its own schedules.

The core's ``greedy`` list scheduler (taken from the allocator registry) schedules the group alone,
on the same mapping, tiles and costs. Alone, its inputs come from off-chip memory and its results
go back there, as in TETRA's model, so its records can replace TETRA's for that group, shifted to
the group's start.
"""

from __future__ import annotations

from collections import defaultdict

import attrs

from stream_core.context import RunContext
from stream_core.errors import StreamError
from stream_core.ir.mapping import FusedGroup
from stream_core.ir.problem import AllocationProblem
from stream_tetra.timed_schedule import Emission

GREEDY = "greedy"


@attrs.frozen
class Baseline:
    """Greedy's records of one group from ``start``, and its memory occupancy changes per memory."""

    emission: Emission
    memory: dict[int, list[tuple[int, int]]]
    latency: int

    @property
    def energy(self) -> float:
        e = self.emission
        return e.compute_energy + e.transfer_energy + e.memory_energy


def greedy_baseline(problem: AllocationProblem, group: FusedGroup, context: RunContext, start: int) -> Baseline | str:
    """Greedy's schedule of ``group`` from ``start``, or why there is none."""
    if GREEDY not in context.plugins.registry("allocators"):
        return "the greedy allocator is not installed"
    alone = attrs.evolve(problem, mapping=attrs.evolve(problem.mapping, groups=(group,)))
    try:
        result = context.plugins.load("allocators", GREEDY).allocate(alone, context)
    except StreamError as exc:
        return f"greedy could not schedule it: {exc}"
    totals = result.totals
    latency = totals.latency - problem.drain(group)  # the allocator adds the drain to whichever schedule wins
    busy: dict[int, int] = defaultdict(int)
    node_energy: dict[str, float] = defaultdict(float)
    for t in result.tiles:
        busy[t.core] += t.duration
        node_energy[t.node] += t.energy_pj
    emission = Emission(
        tiles=[attrs.evolve(t, start=t.start + start, end=t.end + start) for t in result.tiles],
        transfers=[attrs.evolve(t, start=t.start + start, end=t.end + start) for t in result.transfers],
        compute_energy=totals.compute_energy_pj,
        transfer_energy=totals.transfer_energy_pj,
        memory_energy=totals.memory_energy_pj,
        node_energy=dict(node_energy),
        partial_sums_memory=totals.energy_not_in_stream_pj.get("split_reduction_partials", 0.0),
        busy=dict(busy),
        tiles_total=len(result.tiles),
        transfers_total=len(result.transfers),
        end=start + latency,
    )
    memory = {}
    for core, steps in result.memory.items():
        level, changes = 0, []
        for when, bits in steps:
            changes.append((when + start, bits - level))
            level = bits
        if level:  # what greedy never released leaves with the group
            changes.append((start + latency, -level))
        memory[core] = changes
    return Baseline(emission, memory, latency)
