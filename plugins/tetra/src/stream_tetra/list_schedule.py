"""A list schedule of every firing under the chosen modes.

The uniform schedule starts iteration ``i`` at ``i * II`` with fixed slot offsets, so the
iterations that carry the longest firings (a weight block on a bus, say) set the spacing of all,
and a slot is as long in the iterations where it is empty. Here every firing of every activity
(one per iteration it fires in, in iteration then slot order) starts as early as allowed by

* the firings it waits for: a compute step waits for the input transfer that delivered its block
  and for the edge transfers (or, on the same core, the producer steps) that completed the boxes it
  reads; a transfer waits for the producer step that completed its data;
* its own previous firing (steps keep their order, a transfer its ring order);
* its buffer rings, firing by firing: a slot is written only after its last read;
* its cores and links: it takes the earliest gap where all its busy intervals fit, but may go
  before a firing of iteration ``i`` only when it belongs to iteration ``i + interleave`` or
  earlier (the rule the separations follow).

The MILP chose the modes with the uniform schedule in mind; the allocator keeps whichever of the
two schedules is shorter. Cost: firings x (busy intervals per firing) x (intervals in the gap
search), with a resource's intervals forgotten once no later firing may precede them.
"""

from __future__ import annotations

import bisect
from collections import deque

import numpy as np

from stream_tetra.steady import Activity, Mode, SteadyState


class _Lane:
    """The busy intervals of one core or link that later firings may still fit around."""

    def __init__(self) -> None:
        self.begins: list[int] = []
        self.ends: list[int] = []
        self.closed = 0  # every interval taken from here on starts at or after this
        self.pending: deque[tuple[int, int]] = deque()  # (iteration, end) not yet folded into closed

    def fit(self, t: int, s: int, e: int) -> int:
        """The least ``t' >= t`` (one step of the search) with ``[t'+s, t'+e)`` free, as far as
        this lane knows; the caller repeats over all lanes until no lane moves ``t``."""
        t = max(t, self.closed - s)
        i = bisect.bisect_right(self.ends, t + s)
        while i < len(self.begins) and self.begins[i] < t + e:
            t = self.ends[i] - s
            i += 1
        return t

    def take(self, begin: int, end: int, iteration: int) -> None:
        i = bisect.bisect_left(self.begins, begin)
        self.begins.insert(i, begin)
        self.ends.insert(i, end)
        self.pending.append((iteration, end))

    def close_before(self, iteration: int) -> None:
        """Intervals of iterations before ``iteration`` can no longer be preceded."""
        while self.pending and self.pending[0][0] < iteration:
            self.closed = max(self.closed, self.pending.popleft()[1])
        drop = bisect.bisect_right(self.ends, self.closed)
        if drop:
            del self.begins[:drop], self.ends[:drop]


def list_schedule(steady: SteadyState, choices: dict[str, int], interleave: int) -> dict[str, np.ndarray]:
    """The start of every firing of every scheduled activity (aligned with its mode's firings);
    local edges (no data moves) are not scheduled."""
    acts = [a for a in steady.activities if not a.local]
    modes = [a.modes[choices[a.key]] for a in acts]
    index = {a.key: k for k, a in enumerate(acts)}
    n = steady.iterations
    position = np.full((len(acts), n), -1, dtype=np.int64)
    for k, mode in enumerate(modes):
        position[k, mode.firings] = np.arange(len(mode.firings))
    waits = _waits(steady, choices, acts, index)
    rings = _ring_waits(steady, choices, index)
    lanes: dict[tuple[str, int], _Lane] = {}
    busy = [[(lanes.setdefault(r, _Lane()), s, e) for r, (s, e) in sorted(m.busy.items()) if e > s] for m in modes]
    starts = [np.zeros(len(m.firings), dtype=np.int64) for m in modes]
    ends = [np.full(len(m.firings), -1, dtype=np.int64) for m in modes]  # -1: not scheduled yet
    order = _firing_order(modes)
    current = -1
    for k, f in order:
        mode = modes[k]
        iteration = int(mode.firings[f])
        if iteration != current:
            current = iteration
            for lane in lanes.values():
                lane.close_before(iteration - interleave)
        t = int(ends[k][f - 1]) if f else 0
        for dep, iters in waits[k]:
            i = int(iters[f])
            if i >= 0:
                p = position[dep, i]
                end = int(ends[dep][p]) if p >= 0 else -1
                if end < 0:
                    raise AssertionError(f"{acts[k].key} waits for {acts[dep].key} in iteration {i}, not scheduled")
                t = max(t, end)
        for dep, i, c in rings.get((k, iteration), ()):
            p = position[dep, i]
            if p >= 0:
                t = max(t, int(starts[dep][p]) + c)
        moved = True
        while moved:
            moved = False
            for lane, s, e in busy[k]:
                u = lane.fit(t, s, e)
                if u != t:
                    t, moved = u, True
        for lane, s, e in busy[k]:
            lane.take(t + s, t + e, iteration)
        starts[k][f] = t
        ends[k][f] = t + mode.dur
    return {a.key: starts[k] for k, a in enumerate(acts)}


def _firing_order(modes: list[Mode]) -> list[tuple[int, int]]:
    """(activity, firing) pairs by iteration, then by activity (slot order)."""
    iters = np.concatenate([m.firings for m in modes])
    acts = np.concatenate([np.full(len(m.firings), k, dtype=np.int64) for k, m in enumerate(modes)])
    firing = np.concatenate([np.arange(len(m.firings), dtype=np.int64) for m in modes])
    order = np.lexsort((acts, iters))
    return list(zip(acts[order].tolist(), firing[order].tolist(), strict=True))


def _waits(
    steady: SteadyState, choices: dict[str, int], acts: list[Activity], index: dict[str, int]
) -> list[list[tuple[int, np.ndarray]]]:
    """Per activity: (activity waited for, per firing the iteration of its firing waited for, -1: none)."""
    out: list[list[tuple[int, np.ndarray]]] = [[] for _ in acts]
    for k, a in enumerate(acts):
        if a.kind in ("edge", "output"):
            out[k].append((index[f"compute:{a.producer}"], a.modes[choices[a.key]].firings))
    for a in steady.activities:
        if a.kind not in ("input", "edge"):
            continue
        if a.kind == "input":
            level = a.modes[choices[a.key]].level
            assert level is not None
            steps = steady.nodes[a.node].iterations
            blocks = steps[(np.arange(len(steps)) // level.block) * level.block]
            for node in a.consumers:  # readers sharing the delivery fire in the same iterations
                out[index[f"compute:{node}"]].append((index[a.key], blocks))
        else:
            waited = index[f"compute:{a.producer}"] if a.local else index[a.key]
            assert a.waits is not None
            out[index[f"compute:{a.node}"]].append((waited, a.waits))
    return out


def _ring_waits(
    steady: SteadyState, choices: dict[str, int], index: dict[str, int]
) -> dict[tuple[int, int], list[tuple[int, int, int]]]:
    """Per (writer activity, iteration): (reader activity, reader iteration, c) meaning the write
    starts at least ``c`` after that read starts. A local edge stands for its producer's step."""
    index = {**index, **{a.key: index[f"compute:{a.producer}"] for a in steady.activities if a.local}}
    out: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for sep in steady.separations:
        if sep.ring is None:
            continue
        spans = sep.applies(choices)
        if spans is None:
            continue
        (_, read_end), (write_start, _) = spans
        reader, writer = index[sep.a_key], index[sep.b_key]
        for j, i in zip(sep.ring.writes.tolist(), sep.ring.reads.tolist(), strict=True):
            out.setdefault((writer, j), []).append((reader, i, read_end - write_start))
    return out
