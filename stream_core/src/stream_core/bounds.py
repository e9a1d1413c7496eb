"""Lower bounds on a run's latency, per fused group: what no schedule of the mapping can beat.

* **compute**: every tile at the latency of its fastest allowed core (its pinned core for a part of
  an inter-core split, else the fastest feasible candidate). The group cannot end before its
  busiest pinned core, before one node's work spread over all of its candidates, before its
  longest tile, nor before all of its work spread over every core it may use.
* **off-chip**: the distinct bits the group reads from off-chip memory (operands produced outside
  the group, each counted in the first group that reads it) and writes back (graph outputs and
  tensors read outside the group), at the summed bandwidth of the links at the off-chip memory
  (a bus carries both directions, a point-to-point link each direction). Zero when a core of the
  group shares the off-chip memory (its data stays in place).

Groups run one after the other (the built-in allocators and TETRA), so the run's bound is their sum.
Both bounds hold for any allocator that runs one tile at a time per core and moves data over links
for at least ``bits / bandwidth`` cycles.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from stream_core.ir.mapping import FusedGroup
from stream_core.ir.problem import AllocationProblem
from stream_core.ir.result import GroupBound, LowerBound


def lower_bound(problem: AllocationProblem) -> LowerBound:
    """The per-group bounds of ``problem``'s mapping, in group order."""
    seen: set[str] = set()
    return LowerBound(tuple(group_bound(problem, group, seen) for group in problem.mapping.groups))


def group_bound(problem: AllocationProblem, group: FusedGroup, seen: set[str] | None = None) -> GroupBound:
    """The bound of one group; ``seen`` holds tensors earlier groups already read from off-chip
    (updated in place)."""
    members = [name for name in group.nodes if name in problem.tilings]
    compute, cores = _compute_bound(problem, members)
    bits_in, bits_out = _offchip_bits(problem, members, set() if seen is None else seen)
    return GroupBound(group.name, compute, _offchip_cycles(problem, cores, bits_in, bits_out), bits_in + bits_out)


def _compute_bound(problem: AllocationProblem, members: list[str]) -> tuple[int, set[int]]:
    """The compute bound and the cores the group may use."""
    pinned: dict[int, int] = defaultdict(int)
    cores: set[int] = set()
    free_work = 0
    bound = 0.0
    for name in members:
        tiling = problem.tilings[name]
        if tiling.parts > 1:
            shapes = Counter((t.part, t.shape) for t in tiling.tiles())
            for (part, shape), count in shapes.items():
                core = tiling.core_of_part(part)
                assert core is not None
                latency = problem.costs.get(name, core, shape).latency
                pinned[core] += latency * count
                cores.add(core)
                bound = max(bound, latency)
            continue
        candidates = problem.candidate_cores(name)
        cores.update(candidates)
        work = 0
        for shape, count in tiling.shapes().items():
            fastest = min(problem.costs.get(name, core, shape).latency for core in candidates)
            work += fastest * count
            bound = max(bound, fastest)
        free_work += work
        bound = max(bound, work / len(candidates))
    if cores:
        bound = max(bound, *pinned.values(), (free_work + sum(pinned.values())) / len(cores))
    return math.ceil(bound), cores


def _offchip_bits(problem: AllocationProblem, members: list[str], seen: set[str]) -> tuple[int, int]:
    workload = problem.workload
    inside = set(members)
    reads: dict[str, int] = {}
    written = 0
    for name in members:
        node = workload.node(name)
        for operand in node.reads:
            producer = workload.producer(operand.tensor)
            if operand.tensor in seen or (producer is not None and producer.name in inside):
                continue
            bits = node.footprint_bits(operand, workload.tensor(operand.tensor))
            reads[operand.tensor] = max(reads.get(operand.tensor, 0), bits)
        tensor = node.output.tensor
        if tensor in workload.outputs or any(c.name not in inside for c in workload.consumers(tensor)):
            written += node.footprint_bits(node.output, workload.tensor(tensor))
    seen.update(reads)
    return sum(reads.values()), written


def _offchip_cycles(problem: AllocationProblem, cores: set[int], bits_in: int, bits_out: int) -> int:
    acc = problem.accelerator
    offchip = acc.offchip_core_id
    if offchip is None or not bits_in + bits_out or any(acc.shares_memory(offchip, c) for c in cores):
        return 0
    anchor = acc.anchor(offchip)
    links = [link for link in acc.links if anchor in link.cores]
    one_way = sum(link.bandwidth for link in links)
    both_ways = sum(link.bandwidth * (2 if link.duplex else 1) for link in links)
    if not one_way:
        return 0
    return math.ceil(max(bits_in / one_way, bits_out / one_way, (bits_in + bits_out) / both_ways))
