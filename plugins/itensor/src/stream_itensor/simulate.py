"""Token-level simulator of a dataflow graph with bounded FIFOs: deadlock and throughput.

Independent of the LP: it reads only the :class:`~stream_itensor.dataflow.DataflowGraph` (actors,
channels, firing patterns) and the depths, and follows the timing semantics documented there. Actors
run as soon as possible (self-timed), frames back to back.

It is event-driven without a clock: each firing is an event whose start time is the max-plus
recurrence ``max(previous start + interval, readable time of the last token it reads, read time of
the token whose slot it needs)``. Actors are advanced from a work list until they block on a token
that does not exist yet (an *empty* FIFO) or on a slot whose token has not been read yet (a *full*
FIFO); an actor that unblocks another puts it back on the list. Cost: O(firings x ports), no cycle
stepping. When the list runs dry with firings left, the graph is deadlocked: every unfinished actor
waits on a FIFO that no running actor will change. The report names the blocked actors, the FIFO each
waits on and whether it is full or empty, at the cycle the last event happened.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Mapping

import attrs

from stream_itensor.dataflow import DataflowGraph


@attrs.frozen
class Blocked:
    actor: str
    channel: str
    state: str  # "empty" (waiting for a token) or "full" (waiting for a slot)
    firing: int  # global firing index it could not start


@attrs.frozen
class SimResult:
    deadlock: bool
    #: Cycle of the last event: the makespan, or the cycle at which a deadlocked graph stopped.
    time: int
    frames: int
    #: Cycle each completed frame's last token became readable.
    frame_finish: tuple[int, ...]
    blocked: tuple[Blocked, ...]
    occupancy: tuple[tuple[str, int], ...]
    full: tuple[str, ...]
    empty: tuple[str, ...]
    max_occupancy: tuple[tuple[str, int], ...]
    fired: tuple[tuple[str, int], ...]

    @property
    def makespan(self) -> int | None:
        return None if self.deadlock else self.time

    @property
    def interval(self) -> int | None:
        """Cycles between the last two frame completions (the steady-state frame interval)."""
        if self.deadlock or len(self.frame_finish) < 2:
            return None
        return self.frame_finish[-1] - self.frame_finish[-2]

    def report(self) -> str:
        if not self.deadlock:
            return f"completed {self.frames} frame(s) in {self.time} cycles"
        lines = [f"DEADLOCK at cycle {self.time}"]
        lines += [f"  {b.actor} blocked on {b.state} FIFO {b.channel} (firing {b.firing})" for b in self.blocked]
        lines.append(f"  full FIFOs: {', '.join(self.full) or 'none'}; empty FIFOs: {', '.join(self.empty) or 'none'}")
        return "\n".join(lines)


class _Fifo:
    __slots__ = (
        "consumer",
        "depth",
        "name",
        "producer",
        "ready",
        "release_time",
        "released",
        "reserve_time",
        "reserved",
        "taken",
        "visible",
    )

    def __init__(self, name: str, producer: str, consumer: str, depth: int | None):
        self.name, self.producer, self.consumer, self.depth = name, producer, consumer, depth
        self.reserved = self.ready = self.taken = self.released = 0
        self.reserve_time: list[int] = []
        self.visible: list[int] = []
        self.release_time: list[int] = []


class _Port:
    """One side of a FIFO at one actor: two firing lists (reserve/ready or need/release) and pointers."""

    __slots__ = ("fifo", "first", "p_first", "p_second", "per_frame", "second")

    def __init__(self, fifo: _Fifo, first: tuple[int, ...], second: tuple[int, ...]):
        self.fifo, self.first, self.second = fifo, first, second
        self.per_frame = len(first)
        self.p_first = self.p_second = 0

    def advance(self, local: int) -> tuple[int, int]:
        """Pointers after firing ``local`` of the current frame (not committed)."""
        a, b = self.p_first, self.p_second
        while a < self.per_frame and self.first[a] <= local:
            a += 1
        while b < self.per_frame and self.second[b] <= local:
            b += 1
        return a, b


def simulate(dfg: DataflowGraph, depths: Mapping[str, int | None] | None = None, frames: int = 1) -> SimResult:
    """Run ``frames`` frames of ``dfg`` with the given depths (channels missing or ``None``: unbounded)."""
    depths = depths or {}
    bad = [f"{name}={d}" for name, d in depths.items() if d is not None and d < 1]
    if bad:
        raise ValueError(f"FIFO depths must be >= 1: {', '.join(bad)}")
    if frames < 1:
        raise ValueError(f"simulate at least one frame, not {frames}")
    fifos = {c.name: _Fifo(c.name, c.producer, c.consumer, depths.get(c.name)) for c in dfg.channels}
    ins: dict[str, list[_Port]] = {a.name: [] for a in dfg.actors}
    outs: dict[str, list[_Port]] = {a.name: [] for a in dfg.actors}
    for c in dfg.channels:
        ins[c.consumer].append(_Port(fifos[c.name], c.consume_at, c.release_at))
        outs[c.producer].append(_Port(fifos[c.name], c.produce_at, c.ready_at))
    spec = {a.name: a for a in dfg.actors}
    done = dict.fromkeys(spec, 0)
    last = dict.fromkeys(spec, 0)
    frame_end: dict[str, list[int]] = {a.name: [] for a in dfg.actors}
    blocked: dict[str, Blocked] = {}
    work = deque(spec)
    queued = set(spec)

    def wake(name: str) -> None:
        if name not in queued:
            queued.add(name)
            work.append(name)

    while work:
        name = work.popleft()
        queued.discard(name)
        actor = spec[name]
        while done[name] < actor.firings * frames:
            g = done[name]
            frame, local = divmod(g, actor.firings)
            if local == 0:
                for port in ins[name] + outs[name]:
                    port.p_first = port.p_second = 0
            start = last[name] + actor.interval if g else 0
            wait = None
            moves = []
            for port in ins[name]:
                need, free = port.advance(local)
                fifo = port.fifo
                total = frame * port.per_frame + need
                if total > fifo.taken:
                    if total > fifo.ready:
                        wait = Blocked(name, fifo.name, "empty", g)
                        break
                    start = max(start, fifo.visible[total - 1])
                moves.append((port, need, free, True))
            if wait is None:
                for port in outs[name]:
                    take, ready = port.advance(local)
                    fifo = port.fifo
                    total = frame * port.per_frame + take
                    if total > fifo.reserved and fifo.depth is not None and total > fifo.depth:
                        if total - fifo.depth > fifo.released:
                            wait = Blocked(name, fifo.name, "full", g)
                            break
                        start = max(start, fifo.release_time[total - fifo.depth - 1])
                    moves.append((port, take, ready, False))
            if wait is not None:
                blocked[name] = wait
                break
            blocked.pop(name, None)
            ready_time = start + actor.latency
            for port, first, second, is_input in moves:
                fifo = port.fifo
                a, b = frame * port.per_frame + first, frame * port.per_frame + second
                if is_input:  # need ``a`` tokens, release up to ``b``
                    fifo.taken = max(fifo.taken, a)
                    if b > fifo.released:
                        fifo.release_time.extend([start] * (b - fifo.released))
                        fifo.released = b
                        wake(fifo.producer)
                else:  # reserve up to ``a``, make readable up to ``b``
                    if a > fifo.reserved:
                        fifo.reserve_time.extend([start] * (a - fifo.reserved))
                        fifo.reserved = a
                    if b > fifo.ready:
                        fifo.visible.extend([ready_time] * (b - fifo.ready))
                        fifo.ready = b
                        wake(fifo.consumer)
                port.p_first, port.p_second = first, second
            last[name] = start
            done[name] = g + 1
            if local == actor.firings - 1:
                frame_end[name].append(ready_time)
    deadlock = any(done[a.name] < a.firings * frames for a in dfg.actors)
    finished = min((len(v) for v in frame_end.values()), default=0)
    frame_finish = tuple(max(frame_end[a][f] for a in frame_end) for f in range(finished))
    time = max((last[a] + spec[a].latency for a in spec if done[a]), default=0)
    return SimResult(
        deadlock=deadlock,
        time=time,
        frames=frames,
        frame_finish=frame_finish,
        blocked=tuple(blocked[a.name] for a in dfg.actors if a.name in blocked) if deadlock else (),
        occupancy=tuple((f.name, f.reserved - f.released) for f in fifos.values()),
        full=tuple(f.name for f in fifos.values() if f.depth is not None and f.reserved - f.released >= f.depth),
        empty=tuple(f.name for f in fifos.values() if f.ready == f.taken),
        max_occupancy=tuple((f.name, _peak(f.reserve_time, f.release_time)) for f in fifos.values()),
        fired=tuple(done.items()),
    )


def _peak(reserves: list[int], releases: list[int]) -> int:
    """Largest reserved-but-unreleased count (slots freed at a cycle are free for reservations at it)."""
    return max((k + 1 - bisect.bisect_right(releases, t) for k, t in enumerate(reserves)), default=0)
