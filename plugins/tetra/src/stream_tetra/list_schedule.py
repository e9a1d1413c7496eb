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
two schedules is shorter. Cost: firings x (busy lanes per firing) x (intervals in the gap
search), with a lane's intervals forgotten once no later firing may precede them; resources busy
alike share a lane.
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

    def fit(self, t: int, s: int, e: int) -> int:
        """The least ``t' >= t`` with ``[t'+s, t'+e)`` free, as far as this lane knows."""
        t = max(t, self.closed - s)
        i = bisect.bisect_right(self.ends, t + s)
        begins, ends = self.begins, self.ends
        while i < len(begins) and begins[i] < t + e:
            t = ends[i] - s
            i += 1
        return t

    def take(self, begin: int, end: int) -> None:
        i = bisect.bisect_left(self.begins, begin)
        self.begins.insert(i, begin)
        self.ends.insert(i, end)

    def close(self, end: int) -> None:
        """Later firings start at or after ``end``: forget the intervals ending by then."""
        if end > self.closed:
            self.closed = end
            drop = bisect.bisect_right(self.ends, end)
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
    where = position.tolist()
    waits = [[(dep, iters.tolist()) for dep, iters in w] for w in _waits(steady, choices, acts, index)]
    rings = _ring_waits(steady, choices, index)
    busy = _lanes(modes)
    firings = [m.firings.tolist() for m in modes]
    durations = [m.dur for m in modes]
    starts: list[list[int]] = [[0] * len(f) for f in firings]
    ends: list[list[int]] = [[-1] * len(f) for f in firings]  # -1: not scheduled yet
    taken: deque[tuple[int, _Lane, int]] = deque()  # (iteration, lane, end) in the order taken
    current = -1
    for k, f in _firing_order(modes):
        iteration = firings[k][f]
        if iteration != current:
            current = iteration
            while taken and taken[0][0] < iteration - interleave:  # no later firing may precede these
                _, lane, end = taken.popleft()
                lane.close(end)
        t = ends[k][f - 1] if f else 0
        for dep, iters in waits[k]:
            i = iters[f]
            if i >= 0:
                p = where[dep][i]
                end = ends[dep][p] if p >= 0 else -1
                if end < 0:
                    raise AssertionError(f"{acts[k].key} waits for {acts[dep].key} in iteration {i}, not scheduled")
                if end > t:
                    t = end
        for dep, i, c in rings.get((k, iteration), ()):
            p = where[dep][i]
            if p >= 0 and starts[dep][p] + c > t:
                t = starts[dep][p] + c
        t = _earliest(busy[k], t)
        for lane, s, e in busy[k]:
            lane.take(t + s, t + e)
            taken.append((iteration, lane, t + e))
        starts[k][f] = t
        ends[k][f] = t + durations[k]
    return {a.key: np.array(starts[k], dtype=np.int64) for k, a in enumerate(acts)}


def _lanes(modes: list[Mode]) -> list[list[tuple[_Lane, int, int]]]:
    """Per activity, (lane, begin, end) of its busy intervals. Resources that every activity keeps
    busy alike (or not at all) always hold the same intervals: they share one lane. A resource only
    one activity keeps busy, inside its duration, needs none: its firings run one after the other."""
    uses: dict[tuple[str, int], list[tuple[int, int, int]]] = {}
    for k, mode in enumerate(modes):
        for resource, (s, e) in sorted(mode.busy.items()):
            if e > s:
                uses.setdefault(resource, []).append((k, s, e))
    busy: list[list[tuple[_Lane, int, int]]] = [[] for _ in modes]
    for use in dict.fromkeys(tuple(u) for u in uses.values()):
        (k, s, e), *others = use
        if not others and s >= 0 and e <= modes[k].dur:
            continue
        lane = _Lane()
        for k, s, e in use:
            busy[k].append((lane, s, e))
    return busy


def _earliest(busy: list[tuple[_Lane, int, int]], t: int) -> int:
    """The least start at or after ``t`` free on every lane: each lane's least free start, until all
    agree (a lane's answer is free on that lane, so it need not be asked again until another moves)."""
    if len(busy) == 1:
        lane, s, e = busy[0]
        return lane.fit(t, s, e)
    agreed = 0  # lanes in a row that left t where it is
    k = 0
    while agreed < len(busy):
        lane, s, e = busy[k]
        u = lane.fit(t, s, e)
        agreed = 1 if u != t else agreed + 1
        t = u
        k = (k + 1) % len(busy)
    return t


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
            mode = a.modes[choices[a.key]]
            if mode.served_by:  # its readers wait for the shared delivery
                continue
            assert mode.level is not None
            reads = [*a.reads, *(a.shares[mode.serves].reads if mode.serves else ())]
            for read in reads:  # each reader's steps wait for the blocks they read
                out[index[f"compute:{read.node}"]].append((index[a.key], mode.firings[read.blocks[mode.level.level]]))
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
