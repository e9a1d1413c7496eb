"""From chosen modes to a timed schedule: firing starts, latency, records.

Two ways to time the firings, both valid by construction (no core or link is double-booked, no
buffer slot is overwritten before its last read, every firing after those it waits for); the
shorter is kept (ties: uniform):

* uniform: iteration ``i`` starts at ``i * II`` and slot ``s`` of it at ``starts[s]``, with ``II``
  the smallest interval meeting every separation of the chosen modes (with the ``separation``
  model, the MILP's latency is exactly this schedule's);
* list (:mod:`stream_tetra.list_schedule`): every firing as early as what it waits for, its rings and its
  cores and links allow, so iterations without the heavy firings do not wait as long as those with.

A tile runs from its firing's start for its own cost (after the tiles of the step's earlier parts
on the same core, when a core runs several parts); a transfer record from its firing's start plus
its fixed offset for ``Accelerator.transfer_cycles`` (the narrowest link, or longer where an end
core has a measured bandwidth).
"""

from __future__ import annotations

import math

import attrs
import numpy as np

from stream_core.ir.cost import CostResult
from stream_core.ir.problem import AllocationProblem
from stream_core.ir.result import TileRecord, TransferRecord
from stream_tetra.list_schedule import list_schedule
from stream_tetra.steady import Activity, Mode, SteadyState

REASONS = {"input": "input", "edge": "operand", "output": "writeback"}


@attrs.frozen(eq=False)
class Timing:
    starts: tuple[int, ...]  # slot starts of the uniform schedule
    interval: int  # its II
    uniform_latency: int
    firing_starts: dict[str, np.ndarray]  # per activity, the start of every firing of its chosen mode
    latency: int
    listed: bool  # the list schedule was shorter than the uniform one
    list_latency: int

    @property
    def period(self) -> int:
        return self.starts[-1]

    @property
    def slot_latencies(self) -> tuple[int, ...]:
        return tuple(b - a for a, b in zip(self.starts, self.starts[1:], strict=False))


def chosen(steady: SteadyState, choices: dict[str, int]) -> list[tuple[Activity, Mode]]:
    return [(a, a.modes[choices[a.key]]) for a in steady.activities]


def tight_starts(steady: SteadyState, choices: dict[str, int]) -> tuple[int, ...]:
    """Slot starts with every slot exactly as long as its longest chosen activity."""
    lengths = [0] * steady.n_slots
    for a, mode in chosen(steady, choices):
        lengths[a.slot] = max(lengths[a.slot], mode.dur)
    return tuple(int(v) for v in np.concatenate([[0], np.cumsum(lengths)]))


def min_interval(steady: SteadyState, choices: dict[str, int], starts: tuple[int, ...]) -> int:
    """The smallest ``II`` meeting every separation that applies (``after``: a lower bound;
    ``either``: a lower bound or an upper bound)."""
    if steady.iterations <= 1:
        return 0
    low = 0
    either: list[tuple[int, int]] = []
    for sep in steady.separations:
        spans = sep.applies(choices)
        if spans is None:
            continue
        (sa, ea), (sb, eb) = spans
        need = starts[sep.a_slot] + ea - starts[sep.b_slot] - sb
        lower = math.ceil(need / sep.d)
        if sep.kind == "after":
            low = max(low, lower)
        else:
            room = starts[sep.a_slot] + sa - starts[sep.b_slot] - eb
            either.append((lower, math.floor(room / sep.d)))
    for ii in sorted({low, *(lo for lo, _ in either if lo > low)}):
        if all(ii >= lo or ii <= hi for lo, hi in either):
            return ii
    raise AssertionError("no interval satisfies the separations")  # the largest candidate always does


def latency(steady: SteadyState, choices: dict[str, int], starts: tuple[int, ...], interval: int) -> int:
    ends = [f.last * interval + starts[f.slot] + f.dur for f in steady.finishes if choices[f.activity] == f.mode]
    return max(ends, default=0)


def trim_last(steady: SteadyState, choices: dict[str, int], starts: tuple[int, ...]) -> tuple[int, ...]:
    """The period ends when the last slot's longest activity does: stretching the last slot only
    lengthens the period (no separation reads its end)."""
    if steady.n_slots == 0:
        return starts
    last = max((m.dur for a, m in chosen(steady, choices) if a.slot == steady.n_slots - 1), default=0)
    return (*starts[:-1], starts[-2] + last)


def timing(steady: SteadyState, choices: dict[str, int], candidates: list[tuple[int, ...]], interleave: int) -> Timing:
    """The best uniform realisation among candidate slot starts (the solver's and the tight ones),
    replaced by the list schedule when that is shorter."""
    best: tuple[int, int, tuple[int, ...], int] | None = None
    for raw in candidates:
        starts = trim_last(steady, choices, raw)
        ii = min_interval(steady, choices, starts)
        t = (latency(steady, choices, starts, ii), starts[-1], starts, ii)
        if best is None or t[:2] < best[:2]:
            best = t
    assert best is not None
    uniform, _, starts, ii = best
    listed = list_schedule(steady, choices, interleave)
    ends = [listed[a.key][-1] + m.dur for a, m in chosen(steady, choices) if a.key in listed and len(m.firings)]
    length = int(max(ends, default=0))
    if length < uniform:
        return Timing(starts, ii, uniform, listed, length, True, length)
    fixed = {a.key: m.firings * ii + starts[a.slot] for a, m in chosen(steady, choices)}
    return Timing(starts, ii, uniform, fixed, uniform, False, length)


@attrs.define
class Emission:
    tiles: list[TileRecord] = attrs.field(factory=list)
    transfers: list[TransferRecord] = attrs.field(factory=list)
    compute_energy: float = 0.0
    transfer_energy: float = 0.0
    memory_energy: float = 0.0
    node_energy: dict[str, float] = attrs.field(factory=dict)  # compute energy per node
    partial_sums_memory: float = 0.0  # memory energy of moving Workload.partial_sum_tensors
    busy: dict[int, int] = attrs.field(factory=dict)
    tiles_total: int = 0
    transfers_total: int = 0
    iterations_recorded: tuple[int, ...] | None = None  # None: all
    end: int = 0


def emit(
    problem: AllocationProblem,
    steady: SteadyState,
    choices: dict[str, int],
    t: Timing,
    start: int,
    max_tiles: int,
) -> Emission:
    """Records of the group starting at ``start``; above ``max_tiles`` tiles only the first
    iterations and every mode's last firing are recorded (totals still count everything)."""
    out = Emission()
    tiles_per_iteration = sum(problem.tilings[a.node].parts for a in steady.activities if a.kind == "compute")
    total = sum(
        steady.nodes[a.node].n_steps * problem.tilings[a.node].parts for a in steady.activities if a.kind == "compute"
    )
    keep: np.ndarray | None = None
    if total > max_tiles:
        first = max(1, max_tiles // max(1, tiles_per_iteration))
        lasts = {m.last_firing for _, m in chosen(steady, choices)}
        keep = np.array(sorted(set(range(min(first, steady.iterations))) | lasts), dtype=np.int64)
        out.iterations_recorded = tuple(int(i) for i in keep)
    out.end = start
    for a, mode in chosen(steady, choices):
        if a.kind == "compute":
            _emit_compute(problem, steady, a, mode, t, start, keep, out)
        else:
            _emit_transfer(problem, a, mode, t, start, keep, out)
    return out


def _emit_compute(
    problem: AllocationProblem,
    steady: SteadyState,
    a: Activity,
    mode: Mode,
    t: Timing,
    start: int,
    keep: np.ndarray | None,
    out: Emission,
) -> None:
    state = steady.nodes[a.node]
    grid = state.grid
    steps = grid.all_steps()
    its = state.iterations
    base = start + t.firing_starts[a.key]
    record = np.ones(len(steps), dtype=bool) if keep is None else np.isin(its, keep)
    costs: dict[tuple[int, tuple[int, ...]], CostResult] = {}
    queued: dict[int, np.ndarray] = {}  # per core, per step: cycles of the parts it ran before
    for part, core in enumerate(mode.cores):
        lo, hi = grid.ranges(part, steps)
        shapes = (hi - lo).T
        unique, inverse, counts = np.unique(shapes, axis=0, return_inverse=True, return_counts=True)
        inverse = inverse.reshape(-1)
        results = []
        for shape in unique:
            key = (core, tuple(int(v) for v in shape))
            if key not in costs:
                costs[key] = problem.costs.get(a.node, core, key[1])
            results.append(costs[key])
        offset = queued.get(core, np.zeros(len(steps), dtype=np.int64))
        queued[core] = offset + np.asarray([r.latency for r in results], dtype=np.int64)[inverse]
        energy = float(sum(r.energy_pj * int(c) for r, c in zip(results, counts, strict=True)))
        out.compute_energy += energy
        out.node_energy[a.node] = out.node_energy.get(a.node, 0.0) + energy
        out.busy[core] = out.busy.get(core, 0) + int(
            sum(r.latency * int(c) for r, c in zip(results, counts, strict=True))
        )
        out.tiles_total += len(steps)
        for k in np.flatnonzero(record):
            r = results[inverse[k]]
            begin = int(base[k] + offset[k])
            out.tiles.append(
                TileRecord(
                    a.node,
                    int(k) * grid.n_parts + part,
                    core,
                    begin,
                    begin + r.latency,
                    r.energy_pj,
                    r.model,
                    steady.group.name,
                )
            )
            out.end = max(out.end, begin + r.latency)


def _emit_transfer(
    problem: AllocationProblem, a: Activity, mode: Mode, t: Timing, start: int, keep: np.ndarray | None, out: Emission
) -> None:
    firings = mode.firings
    record = np.ones(len(firings), dtype=bool) if keep is None else np.isin(firings, keep)
    if not mode.records:
        return
    base = start + t.firing_starts[a.key]
    reason = REASONS[a.kind]
    partials = problem.workload.partial_sum_tensors
    for spec in mode.records:
        link_pj, memory_pj = spec.energies()
        bits = spec.bits
        out.transfer_energy += float(link_pj.sum())
        out.memory_energy += float(memory_pj.sum())
        if a.tensor in partials:
            out.partial_sums_memory += float(memory_pj.sum())
        out.transfers_total += int(np.count_nonzero(bits))
        cycles, timed = spec.firing_timing()
        how = "scatter" if spec.scatter_pj is not None else "multicast"
        label = reason if len(spec.dsts) == 1 else f"{reason} ({how} to cores {', '.join(map(str, spec.dsts))})"
        ids = spec.link_ids
        for f in np.flatnonzero(record & (bits > 0)):
            begin = int(base[f]) + spec.offset
            n = int(bits[f])
            out.transfers.append(
                TransferRecord(
                    a.tensor, spec.src, int(timed[f]), ids, begin, begin + int(cycles[f]), n, float(link_pj[f]), label
                )
            )
            out.end = max(out.end, begin + int(cycles[f]))
