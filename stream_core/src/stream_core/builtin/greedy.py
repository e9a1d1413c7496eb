"""The built-in ``greedy`` allocator: a list scheduler, the fast baseline.

Per fused group (groups run one after the other):

* Tiles become ready when the producer tiles whose output boxes intersect their input boxes have
  been scheduled. Tiles of a layer tiled along a reduction loop write the same output box: they
  accumulate one after the other (each reads the previous one's partial sums), and readers depend
  on the last one; the ready tile with the earliest data-ready time goes first (ties: topological
  node order, then tile index), so consecutive layers interleave (layer fusion).
* Each tile goes to the candidate core where it would *finish* earliest (ties: lowest core id).
* Data moves over the accelerator's links as circuit-switched transfers: a transfer holds every link
  of its route for ``Accelerator.transfer_cycles`` (``ceil(bits / narrowest bandwidth)``, or longer
  where an end core has a measured bandwidth), and a link carries one transfer at a time (link
  contention); a transfer takes the earliest gap in which its whole route is free. A point-to-point
  link is full duplex (each direction its own resource, :meth:`Link.backward`); a bus is one resource.
  Between cores sharing a memory, data stays in place.
  Graph inputs, weights and tensors of earlier groups come from the off-chip core; graph outputs
  and tensors read by later groups are written back to it. A tile needing the same box of such a
  tensor as an earlier fetch of its group to another core, or the same part of a producer tile's
  output as an earlier send of it to another memory, receives that transfer too when a branch to
  this core is free over its span (links it takes already, else free parallel ones, which join its
  tree) and it arrives no later than a transfer of its own would (one read, a multicast over a bus
  or a tree of links, as Stream and TETRA send a tile several cores need).
  A fetch also covers the boxes of the tensor that tiles of the same step pinned to other cores,
  not yet scheduled, need where they overlap its own (halo rows of a split convolution): it reads
  their hull once when that is fewer bits than the boxes apart, and each receiver's memory holds
  (and is written with) only its own box.
* A memory keeps a box of an off-chip tensor it received (fetched, or delivered) while later tiles
  whose core is known (pinned, or one candidate) read a box inside it there: they read it in place.
  A fetch is also delivered over its links to other memories where such later tiles read boxes
  inside it, if they have room from its start (every buffer held there after it counted as held at
  once); each keeps the hull of its readers' boxes. A kept box is the first thing dropped when a
  memory runs short (its readers then fetch their own again).
* A tile whose box of an off-chip tensor overlaps boxes its memory holds (kept, or closed no earlier
  than its prefetch start) so that what they lack of it is one box (a sliding window one column on)
  fetches only that box and reads the copies held on (:func:`_missing`), unless fetching the whole
  box ends sooner or the copies and the part do not fit.
* Memory capacity is respected: each top memory (one per group of cores sharing it) holds the
  inputs of its cores' running tiles and the outputs not yet consumed. Inputs are fetched at the
  earliest when the previous tile on the same core starts (double buffering: one tile runs while
  the next one's inputs arrive). When a new tile does not fit, the oldest unconsumed outputs are
  written back to off-chip memory (consumers then read them from there) and the tile waits for
  that; if it still does not fit it waits until enough memory frees up.
* Energy = tile costs + link energy of transfers + memory energy of transfers (bits read at the
  source and written at each destination, each end priced at the top memory of the operand the
  transfer is there, as Stream prices a port: :meth:`Workload.transfer_roles`, for the node the
  destination's copy feeds).
* The result carries the mapping's lower bound (:mod:`stream_core.bounds`) and claims no optimality.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import math
import operator
from collections import defaultdict
from collections.abc import Collection, Hashable

import attrs

from stream_core.bounds import lower_bound
from stream_core.context import RunContext
from stream_core.errors import InfeasibleError
from stream_core.ir.accelerator import Link
from stream_core.ir.problem import AllocationProblem
from stream_core.ir.result import GroupRecord, Result, TileRecord, Totals, TransferRecord, energy_not_in_stream
from stream_core.ir.workload import Node, Operand, TensorSpec
from stream_core.tiling import Box, BoxIndex, TileSpec, box_elements, operand_box

NAME = "greedy"

LinkKey = tuple[int, bool]  # (link id, back): a link's resource in one direction (:meth:`Link.backward`)


@attrs.define(eq=False)
class _Buffer:
    """Bits held in a memory (its owner's core id) from ``start`` until ``end`` (``None``: not yet known)."""

    core: int
    start: int
    end: int | None
    bits: int


class _Memory:
    """What a capacity check of one top memory counts: the bits of its open outputs (end not yet
    known), oldest first, and its closed buffers sorted by end, until one ends before every sharing
    core's floor (:meth:`prune`); then, until it ends before the floor of every core that may still
    run tiles, it is counted for a delivery to the memory starting that early (:meth:`fits_from`)."""

    def __init__(self) -> None:
        self.open_bits = 0
        self.unconsumed: dict[Hashable, None] = {}
        self.closed: list[tuple[int, int, _Buffer]] = []  # (end, serial, buffer), sorted
        self.closed_bits = 0
        self.serials: dict[_Buffer, int] = {}  # the closed buffers still counted
        self.pruned: list[tuple[int, int, int]] = []  # (end, serial, bits) of the others, sorted
        self._next = itertools.count()

    def hold(self, buffer: _Buffer) -> None:
        if buffer.end is None:
            self.open_bits += buffer.bits
        else:
            self._insert(buffer, buffer.end)

    def close(self, buffer: _Buffer, end: int) -> None:
        """An open output's end became known."""
        buffer.end = end
        self.open_bits -= buffer.bits
        self._insert(buffer, end)

    def extend(self, buffer: _Buffer, end: int) -> None:
        """A closed buffer is held longer (a later tile reads it too); counted again if it was pruned."""
        serial = self.serials.get(buffer)
        if serial is not None:  # still counted: move it
            del self.closed[bisect.bisect_left(self.closed, (buffer.end, serial))]
            self.closed_bits -= buffer.bits
            del self.serials[buffer]
        buffer.end = end
        self._insert(buffer, end)

    def prune(self, horizon: int, since: int) -> None:
        """Stop counting the closed buffers that end at or before ``horizon``, and forget those that end
        at or before ``since`` (no later delivery starts before it)."""
        cut = bisect.bisect_right(self.closed, (horizon, math.inf))
        for end, serial, buffer in self.closed[:cut]:
            self.closed_bits -= buffer.bits
            del self.serials[buffer]
            if end > since:
                bisect.insort(self.pruned, (end, serial, buffer.bits))
        del self.closed[:cut]
        del self.pruned[: bisect.bisect_right(self.pruned, (since, math.inf))]

    def fits_from(self, at: int, bits: int, capacity: int) -> bool:
        """Whether ``bits`` more fit from ``at`` (not before the last ``since`` of :meth:`prune`) on, beside
        every buffer held after ``at``, counted or not, as if all were held at once: an upper bound (a
        buffer held on after it was pruned may even be counted twice)."""
        earlier = sum(bits for _, _, bits in self.pruned[bisect.bisect_right(self.pruned, (at, math.inf)) :])
        return self.earliest_fit(at, bits + earlier, self.open_bits, capacity) == at

    def earliest_fit(
        self, floor: int, bits: int, open_bits: int, capacity: int, extended: Collection[_Buffer] = ()
    ) -> int | None:
        """The earliest time ``>= floor`` from which ``bits`` more fit beside ``open_bits``, the closed
        buffers still held then and the closed buffers in ``extended``, held from ``floor`` on; ``None``
        if never."""
        closed = self.closed
        i = bisect.bisect_right(closed, (floor, math.inf))
        held = open_bits + self.closed_bits - sum(buffer.bits for _, _, buffer in closed[:i])
        held -= sum(buffer.bits for buffer in extended if buffer in self.serials and (buffer.end or 0) > floor)
        bits += sum(buffer.bits for buffer in extended)
        t = floor
        while held + bits > capacity:
            if i == len(closed):
                return None
            t = closed[i][0]
            while i < len(closed) and closed[i][0] <= t:
                if closed[i][2] not in extended:
                    held -= closed[i][2].bits
                i += 1
        return t

    def _insert(self, buffer: _Buffer, end: int) -> None:
        """Count ``buffer`` (closed, ending at ``end``) among the closed buffers."""
        serial = self.serials[buffer] = next(self._next)
        bisect.insort(self.closed, (end, serial, buffer))
        self.closed_bits += buffer.bits


@attrs.define(eq=False)
class _Produced:
    """Where a scheduled tile's output currently lives and how many consumer tiles still need it; or a
    box of an off-chip tensor a memory received (``copy``), kept while later tiles there read it."""

    key: Hashable
    tensor: str
    core: int
    ready: int
    pending: int
    buffer: _Buffer | None
    last_read: int = 0
    written_back: int | None = None
    copy: bool = False


@attrs.frozen
class _Need:
    """Data a tile needs: from a producer tile of this group (``box``: the part of its output read), or
    from off-chip memory."""

    tensor: str
    bits: int
    producer: tuple[str, int] | None
    box: tuple[tuple[int, int], ...] | None = None


class _Access:
    """One operand of a node: the box and bits it touches per tile, computed once per distinct range
    of the loops its access uses (tiles differing only in other loops share them)."""

    def __init__(self, node: Node, operand: Operand, spec: TensorSpec):
        self.operand = operand
        self.spec = spec
        positions = [node.loop_names.index(d) for d in operand.dims]
        self._pick = operator.itemgetter(*positions) if positions else _nothing
        self.seen: dict[Hashable, tuple[Box | None, int]] = {}
        self.needs: dict[Hashable, tuple[_Need, ...]] = {}  # per key: what a tile reads through it

    def key(self, tile: TileSpec) -> Hashable:
        """The ranges of the loops the access uses."""
        return self._pick(tile.ranges)

    def box_bits(self, tile: TileSpec, key: Hashable) -> tuple[Box | None, int]:
        found = self.seen.get(key)
        if found is None:
            box = operand_box(self.operand, tile.range_map, self.spec)
            found = self.seen[key] = (box, _box_bits(box, self.spec.shape, self.operand.precision))
        return found


def _nothing(_ranges: object) -> tuple[()]:
    return ()


@attrs.frozen
class _NodeOutputs:
    """Output boxes of a node's tiles, with accumulation chains for tiles that share a box."""

    boxes: list[Box | None]
    finals: list[int]  # tiles that complete their output box (last of their chain)
    final: frozenset[int]  # the same, for membership tests
    index: BoxIndex  # over the finals' boxes
    previous: dict[int, int]  # tile -> the tile whose partial sums it accumulates onto
    found: dict[Box | None, list[int]] = attrs.field(factory=dict)  # answers of producers_of

    @classmethod
    def of(cls, boxes: list[Box | None]) -> _NodeOutputs:
        chains: dict[Box | None, list[int]] = {}
        for i, box in enumerate(boxes):
            chains.setdefault(box, []).append(i)
        finals = sorted(chain[-1] for chain in chains.values())
        previous = {later: earlier for chain in chains.values() for earlier, later in itertools.pairwise(chain)}
        return cls(boxes, finals, frozenset(finals), BoxIndex([boxes[i] for i in finals]), previous)

    def producers_of(self, box: Box | None) -> list[int]:
        """The tiles whose completed output overlaps ``box``."""
        if box not in self.found:
            self.found[box] = [self.finals[position] for position in self.index.query(box)]
        return self.found[box]


class _Timeline:
    """Busy intervals of one link, sorted and disjoint; touching ones merge, so back-to-back traffic
    stays one entry. They are kept in chunks that know their widest inner gap, so that a search for a
    free slot skips every chunk without a gap wide enough."""

    CHUNK = 64  # a chunk with more intervals is split in two

    def __init__(self) -> None:
        self.starts: list[list[int]] = []
        self.ends: list[list[int]] = []
        self.first: list[int] = []  # per chunk: its first start,
        self.last: list[int] = []  # its last end,
        self.widest: list[int] = []  # and its widest gap between neighbours (-1: none)

    def earliest(self, t: int, duration: int, extra: _Bookings) -> int:
        """First ``s >= t`` with ``[s, s + duration)`` free here and in ``extra`` (tentative bookings)."""
        while True:
            s = extra.free(self.free(t, duration), duration)
            if s == t:
                return t
            t = s

    def free(self, t: int, duration: int) -> int:
        """First ``s >= t`` with ``[s, s + duration)`` free here."""
        c = bisect.bisect_right(self.last, t)  # the first chunk busy after t
        if c == len(self.last):
            return t
        starts, ends = self.starts[c], self.ends[c]
        i = bisect.bisect_right(ends, t)
        while True:
            n = len(starts)
            while i < n and starts[i] < t + duration:
                t = ends[i]  # ends grow and the first one is past t
                i += 1
            if i < n:
                return t
            c += 1
            while c < len(self.first) and self.first[c] < t + duration and self.widest[c] < duration:
                t = self.last[c]  # every interval of chunk c is in the way in turn
                c += 1
            if c == len(self.first):
                return t
            starts, ends, i = self.starts[c], self.ends[c], 0

    def book(self, start: int, end: int) -> None:
        """Mark ``[start, end)`` busy (it must be free)."""
        if not self.starts:
            self.starts.append([])
            self.ends.append([])
            self.first.append(start)
            self.last.append(end)
            self.widest.append(-1)
        c = max(bisect.bisect_right(self.first, start) - 1, 0)
        starts, ends = self.starts[c], self.ends[c]
        i = bisect.bisect_left(starts, start)
        if i > 0 and ends[i - 1] == start:  # touches the previous interval
            i -= 1
            start = starts[i]
            del starts[i], ends[i]
        if i < len(starts):
            if starts[i] == end:  # touches the next one
                end = ends[i]
                del starts[i], ends[i]
        elif c + 1 < len(self.starts) and self.first[c + 1] == end:  # touches the next chunk's first
            end = self.ends[c + 1][0]
            del self.starts[c + 1][0], self.ends[c + 1][0]
            self._refresh(c + 1)
        starts.insert(i, start)
        ends.insert(i, end)
        self._refresh(c)

    def _refresh(self, c: int) -> None:
        """Recompute chunk ``c``'s summary; drop it when empty, split it when too long."""
        starts, ends = self.starts[c], self.ends[c]
        if not starts:
            for column in (self.starts, self.ends, self.first, self.last, self.widest):
                del column[c]
            return
        if len(starts) > self.CHUNK:
            half = len(starts) // 2
            self.starts.insert(c + 1, starts[half:])
            self.ends.insert(c + 1, ends[half:])
            for column in (self.first, self.last, self.widest):
                column.insert(c + 1, 0)
            del starts[half:], ends[half:]
            self._refresh(c + 1)
        self.first[c], self.last[c] = starts[0], ends[-1]
        self.widest[c] = max(map(operator.sub, starts[1:], ends[:-1]), default=-1)


class _Bookings:
    """A plan's tentative bookings on one link: as booked, to commit them one by one, and merged, to
    search them."""

    def __init__(self) -> None:
        self.booked: list[tuple[int, int]] = []
        self.merged: _Timeline | None = None

    def book(self, start: int, end: int) -> None:
        self.booked.append((start, end))
        if self.merged is None:
            self.merged = _Timeline()
        self.merged.book(start, end)

    def free(self, t: int, duration: int) -> int:
        """First ``s >= t`` with ``[s, s + duration)`` free of these bookings."""
        if self.merged is None:
            return t
        if duration:
            return self.merged.free(t, duration)
        moved = True  # a zero-length slot may sit where two bookings touch
        while moved:
            moved = False
            for start, end in self.booked:
                if start < t < end:
                    t, moved = end, True
        return t


_Shared = tuple[int, tuple[tuple[Link, LinkKey], ...]]  # a transfer's index, the links a branch adds to it


@attrs.define
class _Plan:
    core: int
    start: int
    end: int
    bookings: dict[LinkKey, _Bookings]  # per link direction: tentative
    fetched: list[tuple[_Need, TransferRecord, _Shared | None, tuple[Box, ...]]]  # the transfer shared,
    # if any, and the boxes of other tiles a new fetch covers
    spills: list[tuple[Hashable, TransferRecord | None, int]]  # victim, its write-back if any, when it leaves
    held: list[_Produced]  # copies of off-chip boxes already in the memory that the tile reads
    windowed: bool  # it fetches only the part of some box its memory lacks


class GreedyAllocator:
    def allocate(self, problem: AllocationProblem, context: RunContext) -> Result:
        return _Scheduler(problem, context).run()


class _Scheduler:
    def __init__(self, problem: AllocationProblem, context: RunContext):
        self.problem = problem
        self.acc = problem.accelerator
        self.context = context
        self.core_free: dict[int, int] = defaultdict(int)
        self.links: dict[LinkKey, _Timeline] = defaultdict(_Timeline)
        # per memory (its owner's core id): every buffer, for the memory trace; what capacity checks count
        self.buffers: dict[int, list[_Buffer]] = defaultdict(list)
        self.memories: dict[int, _Memory] = defaultdict(_Memory)
        self.memory_of = {core: self.acc.memory_of(core) for core in self.acc.cores}
        self.last_start: dict[int, int] = defaultdict(int)
        self.group_start = 0
        self.sharers = {owner: group for group in self.acc.memory_sharing for owner in group[:1]}
        # per (memory, tensor): the boxes of it that memory received, with their copies (open or closed)
        self.resident: dict[tuple[int, str], list[tuple[Box | None, _Produced]]] = {}
        # per tensor of the group: the off-chip boxes of it tiles with a known core read (tile, core, box,
        # bits), and an index over those boxes
        self.readers: dict[str, tuple[list[tuple[tuple[str, int], int, Box | None, int]], BoxIndex]] = {}
        self.awaited: dict[tuple[str, int], list[_Produced]] = defaultdict(list)  # tile -> copies kept for it
        self.copies = itertools.count()  # keys of copies
        # (tensor, box) -> its latest off-chip fetch's index; (producer tile, box) -> its latest send's
        self.sent: dict[tuple[Hashable, Box | None], int] = {}
        # a transfer's index -> every core it writes, with the bits that core keeps and the node reading
        # them there (None: none, or not known), whose operand memory it writes (Workload.transfer_roles)
        self.receivers: dict[int, tuple[tuple[int, int, str | None], ...]] = {}
        # per (tensor, step) of the group: each pinned tile's off-chip box of it (tile, core, box, bits)
        self.siblings: dict[tuple[str, int], list[tuple[tuple[str, int], int, Box, int]]] = {}
        self.scheduled: set[tuple[str, int]] = set()
        self.unscheduled: dict[int, int] = defaultdict(int)  # per core: tiles of the group it may still run
        self.tiles: list[TileRecord] = []
        self.transfers: list[TransferRecord] = []
        workload = problem.workload
        nodes = [workload.node(name) for name in problem.tilings]
        self.reads = {n.name: tuple(_Access(n, op, workload.tensor(op.tensor)) for op in n.reads) for n in nodes}
        self.writes = {n.name: _Access(n, n.output, workload.tensor(n.output.tensor)) for n in nodes}
        self.candidates: dict[str, tuple[int, ...]] = {}
        # per (src, dst): each hop's parallel links, with the direction the route crosses them
        self.hops: dict[tuple[int, int], tuple[tuple[tuple[Link, LinkKey], ...], ...]] = {}
        if self.acc.offchip_core_id is None:
            raise InfeasibleError(f"accelerator {self.acc.name!r} has no off-chip core to hold inputs and outputs")
        self.offchip: int = self.acc.offchip_core_id

    # -- driver ------------------------------------------------------------------------------
    def run(self) -> Result:
        groups = []
        start = 0
        for group in self.problem.mapping.groups:
            end = self._schedule_group(group.name, group.nodes, start) + self.problem.drain(group)
            groups.append(GroupRecord(group.name, start, end, NAME))
            start = end
        return self._result(groups, start)

    def _schedule_group(self, group: str, members: tuple[str, ...], start: int) -> int:
        workload = self.problem.workload
        self.group_start = start
        order = {name: i for i, name in enumerate(members)}
        tiles = {name: self.problem.tilings[name].tiles() for name in members}
        outputs = {name: _NodeOutputs.of(self._output_boxes(name, tiles[name])) for name in members}
        needs: dict[tuple[str, int], list[_Need]] = {}
        consumers: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
        for name in members:
            tensor = workload.node(name).output.tensor
            for tile in tiles[name]:
                key = (name, tile.index)
                needs[key] = self._needs(name, tile, outputs)
                earlier = outputs[name].previous.get(tile.index)
                if earlier is not None:  # partial sums of the same output box
                    needs[key].append(_Need(tensor, self._output_bits(name, tile), (name, earlier)))
                for need in needs[key]:
                    if need.producer is not None:
                        consumers[need.producer].append(key)
        self.siblings = self._siblings(tiles, needs)
        self.readers = self._read_boxes(tiles, needs)
        for name in members:
            for tile in tiles[name]:
                for core in self._candidates(name, tile):
                    self.unscheduled[core] += 1
        writeback = {name for name in members if self._needs_writeback(name, set(members))}
        produced: dict[Hashable, _Produced] = {}  # tile outputs and copies of off-chip boxes
        waiting = {key: sum(1 for n in ns if n.producer is not None) for key, ns in needs.items()}
        ready = [(start, order[k[0]], k[1], k[0]) for k, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        group_end = start
        done = 0
        while ready:
            _, _, index, name = heapq.heappop(ready)
            key = (name, index)
            tile = tiles[name][index]
            plan = self._best_plan(name, tile, needs[key], produced, start)
            self.scheduled.add(key)
            info = self._commit(plan, name, tile, group, needs[key], produced, len(consumers[key]))
            for core in self._candidates(name, tile):
                self.unscheduled[core] -= 1
            produced[key] = info
            if name in writeback and index in outputs[name].final:  # partial sums are not results yet
                self._write_back(info, workload.node(name).output.tensor, "writeback")
            self._maybe_release(info)
            group_end = max(group_end, plan.end, info.written_back or 0)
            done += 1
            self.context.progress.count(done, len(needs), "tiles")
            for consumer in consumers[key]:
                waiting[consumer] -= 1
                if waiting[consumer] == 0:
                    ready_at = max(produced[n.producer].ready for n in needs[consumer] if n.producer is not None)
                    heapq.heappush(ready, (ready_at, order[consumer[0]], consumer[1], consumer[0]))
        if done != len(needs):
            raise RuntimeError(f"greedy scheduler: {len(needs) - done} tiles of group {group!r} never became ready")
        return max([group_end] + [t.end for t in self.transfers])

    def _siblings(
        self, tiles: dict[str, list[TileSpec]], needs: dict[tuple[str, int], list[_Need]]
    ) -> dict[tuple[str, int], list[tuple[tuple[str, int], int, Box, int]]]:
        """Per (tensor, step): the off-chip boxes of it that tiles pinned to a core need."""
        out: dict[tuple[str, int], list[tuple[tuple[str, int], int, Box, int]]] = defaultdict(list)
        for name, specs in tiles.items():
            tiling = self.problem.tilings[name]
            for tile in specs:
                core = tiling.core_of_part(tile.part)
                if core is None:
                    continue
                for need in needs[(name, tile.index)]:
                    if need.producer is None and need.box is not None and need.bits:
                        out[(need.tensor, tile.step)].append(((name, tile.index), core, need.box, need.bits))
        return out

    def _read_boxes(
        self, tiles: dict[str, list[TileSpec]], needs: dict[tuple[str, int], list[_Need]]
    ) -> dict[str, tuple[list[tuple[tuple[str, int], int, Box | None, int]], BoxIndex]]:
        """Per tensor: the off-chip boxes of it that tiles with a known core (pinned, or one candidate)
        read, and an index over them."""
        out: dict[str, list[tuple[tuple[str, int], int, Box | None, int]]] = defaultdict(list)
        for name, specs in tiles.items():
            for tile in specs:
                candidates = self._candidates(name, tile)
                if len(candidates) != 1:
                    continue
                for need in needs[(name, tile.index)]:
                    if need.producer is None and need.bits:
                        out[need.tensor].append(((name, tile.index), candidates[0], need.box, need.bits))
        return {tensor: (entries, BoxIndex([box for _, _, box, _ in entries])) for tensor, entries in out.items()}

    # -- dependencies -----------------------------------------------------------------------------
    def _needs(self, name: str, tile: TileSpec, outputs: dict[str, _NodeOutputs]) -> list[_Need]:
        """What a tile reads: overlapping producer tiles of this group, or boxes from off-chip memory."""
        out: list[_Need] = []
        for access in self.reads[name]:
            key = access.key(tile)
            found = access.needs.get(key)
            if found is None:
                found = access.needs[key] = self._operand_needs(access, access.box_bits(tile, key), outputs)
            out.extend(found)
        return out

    def _operand_needs(
        self, access: _Access, box_bits: tuple[Box | None, int], outputs: dict[str, _NodeOutputs]
    ) -> tuple[_Need, ...]:
        operand, spec = access.operand, access.spec
        box, bits = box_bits
        producer = self.problem.workload.producer(operand.tensor)
        if producer is None or producer.name not in outputs:
            return (_Need(operand.tensor, bits, None, box),)
        made = outputs[producer.name]
        parts = {index: _intersection(box, made.boxes[index]) for index in made.producers_of(box)}
        return tuple(
            _Need(
                operand.tensor,
                _box_bits(part, spec.shape, operand.precision),
                (producer.name, index),
                part,
            )
            for index, part in parts.items()
        )

    def _output_boxes(self, name: str, tiles: list[TileSpec]) -> list[Box | None]:
        access = self.writes[name]
        return [access.box_bits(tile, access.key(tile))[0] for tile in tiles]

    def _needs_writeback(self, name: str, members: set[str]) -> bool:
        workload = self.problem.workload
        tensor = workload.node(name).output.tensor
        return tensor in workload.outputs or any(c.name not in members for c in workload.consumers(tensor))

    def _output_bits(self, name: str, tile: TileSpec) -> int:
        access = self.writes[name]
        return access.box_bits(tile, access.key(tile))[1]

    # -- planning ---------------------------------------------------------------------------------
    def _candidates(self, name: str, tile: TileSpec) -> tuple[int, ...]:
        """The cores ``tile`` may run on: its part's pinned core, or the node's feasible cores."""
        pinned = self.problem.tilings[name].core_of_part(tile.part)
        if pinned is not None:
            return (pinned,)
        if name not in self.candidates:
            self.candidates[name] = self.problem.candidate_cores(name)
        return self.candidates[name]

    def _best_plan(self, name: str, tile: TileSpec, needs: list[_Need], produced: dict, floor: int) -> _Plan:
        candidates = self._candidates(name, tile)
        if not candidates:
            raise InfeasibleError(
                f"node {name!r} has no feasible core among {self.problem.tilings[name].mapping.cores}"
            )
        plans = [self._plan_on(name, tile, core, needs, produced, floor) for core in candidates]
        return min(plans, key=lambda p: (p.end, p.core))

    def _plan_on(self, name: str, tile: TileSpec, core: int, needs: list[_Need], produced: dict, floor: int) -> _Plan:
        """The plan on ``core`` fetching only what its memory lacks of boxes it partly holds, unless
        fetching them whole ends sooner, or the copies held on and the parts do not fit."""
        try:
            plan = self._plan(name, tile, core, needs, produced, floor, window=True)
        except InfeasibleError:
            return self._plan(name, tile, core, needs, produced, floor, window=False)
        if not plan.windowed:
            return plan
        whole = self._plan(name, tile, core, needs, produced, floor, window=False)
        return whole if whole.end < plan.end else plan

    def _plan(
        self, name: str, tile: TileSpec, core: int, needs: list[_Need], produced: dict, floor: int, window: bool
    ) -> _Plan:
        """Where and when the tile would run on ``core``, without scheduling anything (it only forgets
        resident copies no later tile can hold on, see :meth:`_held`); with ``window``, fetching only the
        part of a box its memory lacks."""
        bookings: dict[LinkKey, _Bookings] = defaultdict(_Bookings)
        held: dict[int, tuple[_Produced, ...]] = {}  # position in ``needs`` -> the copies in memory serving it
        rest: dict[int, _Need] = {}  # position in ``needs`` -> the part of a partly held box to fetch
        extended: list[_Buffer] = []  # closed copies this tile holds on
        fetch_bits = self._output_bits(name, tile)
        kept: dict[Hashable, int] = defaultdict(int)  # same-memory producer or copy -> bits this tile reads of it
        memory = self.memory_of[core]
        prefetch_from = max(floor, self.last_start[core])
        for position, need in enumerate(needs):
            if need.producer is None:
                copies, missing = self._held(core, need, prefetch_from, window)
                if missing is not None:
                    fetch_bits += missing.bits
                    if not copies:
                        continue
                    rest[position] = missing
                held[position] = copies
                for copy in copies:  # read of them: at most what the tile does not fetch
                    buffer = copy.buffer
                    if buffer is None or buffer.end is None:
                        kept[copy.key] += need.bits - (0 if missing is None else missing.bits)
                    elif buffer not in extended:
                        extended.append(buffer)
                continue
            info = produced[need.producer]
            if info.buffer is not None and self.memory_of[info.core] == memory:
                kept[need.producer] += need.bits
            else:
                fetch_bits += need.bits
        victims, memory_floor = self._make_room(core, fetch_bits, prefetch_from, produced, kept, extended)
        spilled_at: dict[Hashable, int] = {}
        spills: list[tuple[Hashable, TransferRecord | None, int]] = []
        for victim in victims:
            info = produced[victim]
            if info.written_back is not None:  # already stored off-chip: just drop the copy once read
                spilled_at[victim] = max(info.written_back, info.last_read)
                spills.append((victim, None, spilled_at[victim]))
            else:
                record = self._route(
                    info.tensor, info.core, self.offchip, info.buffer.bits, info.ready, bookings, "spill"
                )
                spills.append((victim, record, record.end))
                spilled_at[victim] = record.end
            memory_floor = max(memory_floor, spilled_at[victim])
        arrivals = [floor, self.core_free[core], memory_floor]
        served = {p: copies for p, copies in held.items() if all(c.key not in spilled_at for c in copies)}
        incoming: list[tuple[int, int, _Need]] = []  # (ready time, source core, need)
        for position, need in enumerate(needs):
            if need.producer is None:
                reading = served.get(position)
                if reading is None:
                    incoming.append((floor, self.offchip, need))
                    continue
                arrivals.extend(copy.ready for copy in reading)
                if position in rest:
                    incoming.append((floor, self.offchip, rest[position]))
                continue
            info = produced[need.producer]
            if need.producer in spilled_at:
                incoming.append((spilled_at[need.producer], self.offchip, need))
            elif need.producer in kept:
                arrivals.append(info.ready)
            elif info.buffer is not None:
                incoming.append((info.ready, info.core, need))
            else:  # spilled earlier: read it back from off-chip memory
                incoming.append((info.written_back or info.ready, self.offchip, need))
        fetched: list[tuple[_Need, TransferRecord, _Shared | None, tuple[Box, ...]]] = []
        for ready_at, source, need in sorted(incoming, key=lambda x: (x[0], x[1], x[2].tensor)):
            not_before = max(ready_at, memory_floor)
            shared = self._shareable(need, source, core, not_before, bookings)
            if shared is not None:
                own = self._route(need.tensor, source, core, need.bits, not_before, bookings, book=False)
                found = self.transfers[shared[0]]
                if found.end > own.end:
                    shared = None
                else:  # the branch's new links carry it over the transfer's span
                    for _, key in shared[1]:
                        bookings[key].book(found.start, found.end)
            covered: tuple[Box, ...] = ()
            bits = need.bits
            if shared is None and need.producer is None and source == self.offchip:
                covered, bits = self._cover(need, (name, tile.index), tile.step, core)
            if shared is None:
                record = self._route(need.tensor, source, core, bits, not_before, bookings)
            else:
                record = self.transfers[shared[0]]
            fetched.append((need, record, shared, covered))
            arrivals.append(record.end)
        start = max(arrivals)
        latency = self.problem.costs.get(name, core, tile.shape).latency
        used = list(dict.fromkeys(copy for copies in served.values() for copy in copies))
        windowed = any(position in served for position in rest)
        return _Plan(core, start, start + latency, bookings, fetched, spills, used, windowed)

    def _route(
        self,
        tensor: str,
        src: int,
        dst: int,
        bits: int,
        not_before: int,
        bookings: dict[LinkKey, _Bookings],
        reason: str = "operand",
        book: bool = True,
    ) -> TransferRecord:
        """Book (unless not ``book``) the earliest slot at or after ``not_before`` when the whole route is
        free; on a hop with parallel links, the one free soonest carries it."""
        hops = self._hops(src, dst)
        if all(len(links) == 1 for links in hops):
            route = tuple(links[0] for links in hops)
        else:
            guess = self.acc.transfer_cycles(bits, self.acc.path(src, dst), src, dst)
            route = tuple(
                min(
                    links,
                    key=lambda pair: (
                        self.links[pair[1]].earliest(not_before, guess, bookings[pair[1]]),
                        -pair[0].bandwidth,
                    ),
                )
                for links in hops
            )
        path = tuple(link for link, _ in route)
        duration = self.acc.transfer_cycles(bits, path, src, dst)
        start, agreed = not_before, 0  # agreed: links in a row on which ``start`` is free
        for _, key in itertools.cycle(route) if route else ():
            found = self.links[key].earliest(start, duration, bookings[key])
            agreed = agreed + 1 if found == start else 1
            start = found
            if agreed == len(route):
                break
        end = start + duration
        if duration and book:
            for _, key in route:
                bookings[key].book(start, end)
        energy = self.acc.transfer_energy(bits, path)
        return TransferRecord(tensor, src, dst, tuple(link.id for link in path), start, end, bits, energy, reason)

    def _hops(self, src: int, dst: int) -> tuple[tuple[tuple[Link, LinkKey], ...], ...]:
        """Each hop of the route from ``src`` to ``dst``: its parallel links, in the direction crossed."""
        hops = self.hops.get((src, dst))
        if hops is None:
            hops = self.hops[(src, dst)] = tuple(
                tuple((link, (link.id, link.backward(u))) for link in self.acc.parallel(u, v))
                for u, v in self.acc.hops(src, dst)
            )
        return hops

    def _shareable(
        self, need: _Need, source: int, core: int, not_before: int, bookings: dict[LinkKey, _Bookings]
    ) -> _Shared | None:
        """The latest transfer of ``need``'s box from ``source`` (an off-chip fetch, or a producer tile's
        output sent to another memory) that ``core`` may receive too, with the links its branch to
        ``core`` adds: it starts at or after ``not_before`` (the memory then has room), writes no memory
        of ``core``'s yet, and the branch is free over its span (:meth:`_branch`)."""
        index = self.sent.get((need.tensor if need.producer is None else need.producer, need.box))
        if index is None:
            return None
        record = self.transfers[index]
        memory = self.memory_of[core]
        if (
            record.src != source
            or record.start < not_before
            or any(self.memory_of[c] == memory for c, _, _ in self.receivers[index])
        ):
            return None
        branch = self._branch(record, core, bookings)
        return None if branch is None else (index, branch)

    def _branch(
        self, record: TransferRecord, core: int, bookings: dict[LinkKey, _Bookings]
    ) -> tuple[tuple[Link, LinkKey], ...] | None:
        """The links a branch of ``record`` to ``core`` adds to its tree (one read, a multicast): on each
        hop from its source to ``core`` a link it takes already, else a parallel one free (here and in
        ``bookings``) over its span; ``None`` if a hop has neither or the branch is slower than it."""
        duration = record.end - record.start
        path, added = [], []
        for hop in self._hops(record.src, core):
            taken = [link for link, _ in hop if link.id in record.links]
            if not taken:
                free = [(link, key) for link, key in hop if self._free(key, record.start, duration, bookings)]
                if not free:
                    return None
                added.append(free[0])
                taken = [free[0][0]]
            path.append(taken[0])
        if self.acc.transfer_cycles(record.bits, tuple(path), record.src, core) > duration:
            return None
        return tuple(added)

    def _free(self, key: LinkKey, start: int, duration: int, bookings: dict[LinkKey, _Bookings]) -> bool:
        """Whether link direction ``key`` is free over ``[start, start + duration)``."""
        return self.links[key].earliest(start, duration, bookings[key]) == start

    def _cover(self, need: _Need, key: tuple[str, int], step: int, core: int) -> tuple[tuple[Box, ...], int]:
        """The boxes of ``need``'s tensor that tiles of ``step`` pinned to other memories, not yet
        scheduled, need where they overlap ``need``'s box, and the bits of the hull a fetch covering
        them all reads: each is taken (in core order) only if the hull grows by fewer bits than its own
        and every hop from off-chip to its core may take a link of this fetch's route (else it could
        not receive the fetch: :meth:`_shareable`)."""
        if need.box is None or not need.bits:
            return (), need.bits
        per_element = need.bits // box_elements(need.box)
        memory = self.memory_of[core]
        route = {link.id for hop in self._hops(self.offchip, core) for link, _ in hop}
        hull, bits, covered = need.box, need.bits, []
        others = self.siblings.get((need.tensor, step), ())
        for other, at, box, box_bits in sorted(others, key=lambda x: (x[1], x[0])):
            if other == key or other in self.scheduled or self.memory_of[at] == memory or box == need.box:
                continue
            if not all(any(link.id in route for link, _ in hop) for hop in self._hops(self.offchip, at)):
                continue
            grown = _hull(hull, box)
            grown_bits = box_elements(grown) * per_element
            if grown_bits < bits + box_bits:
                hull, bits = grown, grown_bits
                covered.append(box)
        return tuple(covered), bits

    def _make_room(
        self,
        core: int,
        bits: int,
        floor: int,
        produced: dict,
        kept: dict[Hashable, int],
        extended: Collection[_Buffer] = (),
    ) -> tuple[list[Hashable], int]:
        """Copies to drop and unconsumed outputs to spill, and the earliest time ``>= floor`` from which
        ``bits`` more (and the ``extended`` closed buffers) fit in ``core``'s memory (counting every buffer
        still held there after that time, by any core sharing it).

        Copies of off-chip boxes this tile does not read go first (dropping one costs no transfer), then
        outputs it does not read, oldest first; only if that is not enough, outputs and copies it reads
        (``kept``: producer or copy -> bits it reads), which it then fetches back.
        """
        if self.acc.cores[core].kind == "offchip":
            return [], floor
        memory_id = self.memory_of[core]
        capacity = self.acc.cores[memory_id].summary.memory_bits
        if bits > capacity:
            raise InfeasibleError(
                f"a tile needs {bits} bits on core {core} ({self.acc.cores[core].name}), "
                f"whose memory holds {capacity} bits"
            )
        # a core's floors only grow and are at least the group's start, so buffers freed before every
        # sharing core's floor never matter again
        memory = self.memories[memory_id]
        sharers = self.sharers.get(memory_id, (core,))
        memory.prune(min(floor, *(max(self.group_start, self.last_start[m]) for m in sharers)), self._since())
        open_bits = memory.open_bits
        victims: list[Hashable] = []
        if open_bits + bits > capacity:
            unconsumed = memory.unconsumed
            order = itertools.chain(
                (k for k in unconsumed if k not in kept and produced[k].copy),
                (k for k in unconsumed if k not in kept and not produced[k].copy),
                (k for k in unconsumed if k in kept),
            )
            for key in order:
                if open_bits + bits <= capacity:
                    break
                victims.append(key)
                open_bits -= produced[key].buffer.bits
                bits += kept.get(key, 0)  # read back from off-chip instead
        fits = memory.earliest_fit(floor, bits, open_bits, capacity, extended)
        if fits is None:
            raise InfeasibleError(
                f"core {core} ({self.acc.cores[core].name}) cannot hold {bits} more bits even after spilling "
                f"every unconsumed output (capacity {capacity} bits)"
            )
        return victims, fits

    # -- committing -------------------------------------------------------------------------------
    def _commit(
        self, plan: _Plan, name: str, tile: TileSpec, group: str, needs: list[_Need], produced: dict, n_consumers: int
    ) -> _Produced:
        memory = self.memory_of[plan.core]
        for victim, record, at in plan.spills:
            info = produced[victim]
            if record is not None:
                self._append(record, None)
                info.written_back = record.end
            owner = self.memories[self.memory_of[info.core]]
            owner.close(info.buffer, at)
            owner.unconsumed.pop(victim, None)
            info.buffer = None
        self._book(plan.bookings)
        for need, record, shared, covered in plan.fetched:
            if shared is not None:
                self._share(shared[0], plan.core, need.bits, name, shared[1])
            else:
                if need.producer is None:
                    for box in (need.box, *covered):
                        self.sent[(need.tensor, box)] = len(self.transfers)
                elif record.src == produced[need.producer].core:
                    self.sent[(need.producer, need.box)] = len(self.transfers)
                self._append(record, name, need.bits)
            if need.producer is not None:
                self._hold(_Buffer(memory, record.start, plan.end, need.bits))
                continue
            buffer = _Buffer(memory, record.start, None, need.bits)
            self._keep(plan.core, need.tensor, need.box, buffer, record.end, plan.end, produced)
            if shared is None:
                self._deliver(len(self.transfers) - 1, need, covered, produced)
        for copy in plan.held:
            copy.last_read = max(copy.last_read, plan.end)
            if copy.buffer is not None and copy.buffer.end is not None:  # closed: the tile holds it on
                self.memories[copy.buffer.core].extend(copy.buffer, plan.end)
        for copy in self.awaited.pop((name, tile.index), ()):
            copy.pending -= 1
            self._maybe_release(copy)
        cost = self.problem.costs.get(name, plan.core, tile.shape)
        self.tiles.append(
            TileRecord(name, tile.index, plan.core, plan.start, plan.end, cost.energy_pj, cost.model, group)
        )
        self.core_free[plan.core] = plan.end
        self.last_start[plan.core] = plan.start
        for need in needs:
            if need.producer is not None:
                info = produced[need.producer]
                info.pending -= 1
                info.last_read = max(info.last_read, plan.end)
                self._maybe_release(info)
        output = _Buffer(memory, plan.start, None, self._output_bits(name, tile))
        self._hold(output)
        self.memories[memory].unconsumed[(name, tile.index)] = None
        tensor = self.problem.workload.node(name).output.tensor
        return _Produced((name, tile.index), tensor, plan.core, plan.end, n_consumers, output)

    def _keep(
        self, core: int, tensor: str, box: Box | None, buffer: _Buffer, ready: int, read: int, produced: dict
    ) -> None:
        """``core``'s memory holds ``buffer``, the copy of ``box`` of off-chip ``tensor`` arriving at
        ``ready`` and read until ``read``: on until the later tiles there (core known, not yet scheduled)
        reading boxes inside it have run, unless dropped for room (:meth:`_make_room`)."""
        memory = self.memory_of[core]
        readers = [key for key, at, _, _ in self._readers(tensor, box) if self.memory_of[at] == memory]
        copy = _Produced(("copy", next(self.copies)), tensor, core, ready, len(readers), buffer, read, ready, copy=True)
        self._hold(buffer)
        self.memories[memory].unconsumed[copy.key] = None
        produced[copy.key] = copy
        self.resident.setdefault((memory, tensor), []).append((box, copy))
        for reader in readers:
            self.awaited[reader].append(copy)
        self._maybe_release(copy)

    def _held(
        self, core: int, need: _Need, prefetch_from: int, window: bool
    ) -> tuple[tuple[_Produced, ...], _Need | None]:
        """The copies in ``core``'s memory the tile reads for ``need`` (each kept open, or closed not before
        ``prefetch_from`` by a tile on ``core`` or on a core sharing its memory, which the tile holds on),
        and what it still fetches (``None``: nothing): a copy of a box holding ``need``'s, else (with
        ``window``) copies each leaving one box of it to fetch (:func:`_missing`), the smallest left first,
        until one holds what is left; else no copy and ``need`` itself."""
        memory = self.memory_of[core]
        copies = self.resident.get((memory, need.tensor))
        if not copies:
            return (), need
        # a closed copy ending before every sharing core's last start can never be held on again
        horizon = min(self.last_start[c] for c in self.sharers.get(memory, (core,)))
        copies[:] = [
            (box, copy)
            for box, copy in copies
            if copy.buffer is not None and (copy.buffer.end is None or copy.buffer.end >= horizon)
        ]
        usable = [
            (box, copy)
            for box, copy in copies
            if copy.buffer is not None and (copy.buffer.end is None or copy.buffer.end >= prefetch_from)
        ]
        used: list[_Produced] = []
        left = need.box
        while True:
            holding = next((copy for box, copy in usable if _contains(box, left)), None)
            if holding is not None:
                return (*used, holding), None
            if not window or left is None:
                break
            parts = [(part, copy) for box, copy in usable if (part := _missing(box, left)) is not None]
            if not parts:
                break
            left, copy = min(parts, key=lambda found: box_elements(found[0]))
            used.append(copy)
        if not used or need.box is None or left is None:
            return (), need
        return tuple(used), _Need(need.tensor, need.bits // box_elements(need.box) * box_elements(left), None, left)

    def _deliver(self, index: int, need: _Need, covered: tuple[Box, ...], produced: dict) -> None:
        """Fetch ``index`` (of ``need``'s box and the ``covered`` ones) writes other memories too, where
        later tiles (core known, not yet scheduled) read boxes inside what it carries, its links reach
        them and they have room from its start: each keeps the hull of its readers' boxes for them."""
        record = self.transfers[index]
        carried = None if need.box is None else functools.reduce(_hull, covered, need.box)
        receiving = {self.memory_of[c] for c, _, _ in self.receivers[index]}
        found: dict[int, list[tuple[int, Box | None, int, str]]] = defaultdict(list)
        for (node, _), core, box, bits in self._readers(need.tensor, carried):
            if self.memory_of[core] not in receiving:
                found[self.memory_of[core]].append((core, box, bits, node))
        shape = self.problem.workload.tensor(need.tensor).shape
        for memory, readers in found.items():
            core, node = readers[0][0], readers[0][3]
            boxes = [box for _, box, _, _ in readers if box is not None]
            hull = functools.reduce(_hull, boxes) if len(boxes) == len(readers) else None
            precision = max(bits // box_elements(box or tuple((0, n) for n in shape)) for _, box, bits, _ in readers)
            bits = _box_bits(hull, shape, precision)
            # the fetch writes ``core`` too only over links it takes already (no branch added)
            if self._branch(record, core, defaultdict(_Bookings)) != () or not self._room(memory, record.start, bits):
                continue
            self._share(index, core, bits, node)
            self._keep(
                core, need.tensor, hull, _Buffer(memory, record.start, None, bits), record.end, record.end, produced
            )

    def _room(self, memory: int, at: int, bits: int) -> bool:
        """Whether ``bits`` more fit in ``memory`` from ``at`` on (:meth:`_Memory.fits_from`)."""
        if self.acc.cores[memory].kind == "offchip":
            return False
        return self.memories[memory].fits_from(at, bits, self.acc.cores[memory].summary.memory_bits)

    def _since(self) -> int:
        """The earliest a fetch not yet planned may start: the lowest prefetch floor of the cores that may
        still run tiles of the group."""
        floors = (max(self.group_start, self.last_start[c]) for c, n in self.unscheduled.items() if n)
        return min(floors, default=self.group_start)

    def _readers(self, tensor: str, box: Box | None) -> list[tuple[tuple[str, int], int, Box | None, int]]:
        """The tiles of the group not yet scheduled, with a known core, that read an off-chip box of
        ``tensor`` inside ``box``: (tile, core, box, bits)."""
        found = self.readers.get(tensor)
        if found is None:
            return []
        entries, index = found
        return [
            entry
            for entry in map(entries.__getitem__, index.query(box))
            if entry[0] not in self.scheduled and _contains(box, entry[2])
        ]

    def _append(self, record: TransferRecord, consumer: str | None, kept: int | None = None) -> None:
        """Add transfer ``record``; its destination keeps ``kept`` of its bits (default: all) for node
        ``consumer`` (None: none)."""
        self.receivers[len(self.transfers)] = ((record.dst, record.bits if kept is None else kept, consumer),)
        self.transfers.append(record)

    def _share(
        self, index: int, core: int, bits: int, consumer: str, branch: tuple[tuple[Link, LinkKey], ...] = ()
    ) -> None:
        """Transfer ``index`` writes ``bits`` (what it keeps) to ``core``'s memory too, for node
        ``consumer``, over the ``branch`` links it adds to its tree: a multicast, labelled as TETRA
        labels one."""
        receivers = self.receivers[index] = (*self.receivers[index], (core, bits, consumer))
        record = self.transfers[index]
        added = tuple(link for link, _ in branch)
        self.transfers[index] = attrs.evolve(
            record,
            links=record.links + tuple(link.id for link in added),
            energy_pj=record.energy_pj + self.acc.transfer_energy(record.bits, added),
            reason=f"operand (multicast to cores {', '.join(str(c) for c, _, _ in receivers)})",
        )

    def _hold(self, buffer: _Buffer) -> None:
        self.buffers[buffer.core].append(buffer)
        self.memories[buffer.core].hold(buffer)

    def _write_back(self, info: _Produced, tensor: str, reason: str) -> None:
        if info.written_back is not None or info.buffer is None:
            return
        if info.core == self.offchip or info.buffer.bits == 0:
            info.written_back = info.ready
            return
        bookings: dict[LinkKey, _Bookings] = defaultdict(_Bookings)
        record = self._route(tensor, info.core, self.offchip, info.buffer.bits, info.ready, bookings, reason)
        self._book(bookings)
        self._append(record, None)
        info.written_back = record.end

    def _book(self, bookings: dict[LinkKey, _Bookings]) -> None:
        for key, booked in bookings.items():
            for start, end in booked.booked:
                self.links[key].book(start, end)

    def _maybe_release(self, info: _Produced) -> None:
        if info.buffer is not None and info.pending == 0:
            memory = self.memories[self.memory_of[info.core]]
            memory.close(info.buffer, max(info.ready, info.last_read, info.written_back or 0))
            memory.unconsumed.pop(info.key, None)

    # -- result -----------------------------------------------------------------------------------
    def _result(self, groups: list[GroupRecord], latency: int) -> Result:
        cores = self.acc.cores
        roles = functools.cache(self.problem.workload.transfer_roles)
        memory_energy = partials_memory = 0.0
        partials = self.problem.workload.partial_sum_tensors
        for index, record in enumerate(self.transfers):  # each end priced at its operand's memory
            receivers = self.receivers[index]
            source_role = roles(record.tensor, receivers[0][2])[0]
            energy = record.bits * cores[record.src].summary.read_energy(source_role)
            for core, bits, consumer in receivers:
                energy += bits * cores[core].summary.write_energy(roles(record.tensor, consumer)[1])
            memory_energy += energy
            if record.tensor in partials:
                partials_memory += energy
        busy: dict[int, int] = defaultdict(int)
        for t in self.tiles:
            busy[t.core] += t.duration
        utilisation = {c.id: (busy[c.id] / latency if latency else 0.0) for c in self.acc.compute_cores}
        node_energy: dict[str, float] = defaultdict(float)
        for t in self.tiles:
            node_energy[t.node] += t.energy_pj
        totals = Totals(
            latency=latency,
            compute_energy_pj=sum(t.energy_pj for t in self.tiles),
            transfer_energy_pj=sum(t.energy_pj for t in self.transfers),
            memory_energy_pj=memory_energy,
            utilisation=utilisation,
            energy_not_in_stream_pj=energy_not_in_stream(self.problem.workload, node_energy, partials_memory),
        )
        return Result(
            workload=self.problem.workload.name,
            accelerator=self.acc.name,
            tiles=sorted(self.tiles, key=lambda t: (t.start, t.core, t.node, t.index)),
            transfers=sorted(self.transfers, key=lambda t: (t.start, t.src, t.dst, t.tensor)),
            memory=_occupancy(self.buffers),
            groups=groups,
            totals=totals,
            lower_bound=lower_bound(self.problem),
            optimality=("greedy list schedule: no optimality claim",),
        )


def _intersection(a: tuple | None, b: tuple | None) -> tuple | None:
    if a is None:
        return b
    if b is None:
        return a
    return tuple((max(lo1, lo2), min(hi1, hi2)) for (lo1, hi1), (lo2, hi2) in zip(a, b, strict=True))


def _contains(outer: Box | None, inner: Box | None) -> bool:
    """Whether box ``outer`` holds box ``inner`` (``None``: the whole tensor)."""
    if outer is None:
        return True
    if inner is None:
        return False
    return all(lo1 <= lo2 and hi2 <= hi1 for (lo1, hi1), (lo2, hi2) in zip(outer, inner, strict=True))


def _missing(held: Box | None, need: Box | None) -> Box | None:
    """The part of box ``need`` that box ``held`` lacks, when it is one box: ``held`` spans ``need`` on
    every axis but one and, on that one, overlaps it from one end (a sliding window); else ``None``."""
    if held is None or need is None:
        return None
    short = [
        axis for axis, ((lo1, hi1), (lo2, hi2)) in enumerate(zip(held, need, strict=True)) if lo2 < lo1 or hi1 < hi2
    ]
    if len(short) != 1:
        return None
    axis = short[0]
    (lo1, hi1), (lo2, hi2) = held[axis], need[axis]
    if lo1 <= lo2 < hi1 < hi2:
        part = (hi1, hi2)
    elif lo2 < lo1 < hi2 <= hi1:
        part = (lo2, lo1)
    else:
        return None
    return (*need[:axis], part, *need[axis + 1 :])


def _hull(a: Box, b: Box) -> Box:
    """The smallest box holding both."""
    return tuple((min(lo1, lo2), max(hi1, hi2)) for (lo1, hi1), (lo2, hi2) in zip(a, b, strict=True))


def _box_bits(box: tuple | None, shape: tuple[int, ...], precision: int) -> int:
    if box is None:
        box = tuple((0, n) for n in shape)
    return box_elements(box) * precision


def _occupancy(buffers: dict[int, list[_Buffer]]) -> dict[int, tuple[tuple[int, int], ...]]:
    out = {}
    for core, items in sorted(buffers.items()):
        events: dict[int, int] = defaultdict(int)
        for b in items:
            events[b.start] += b.bits
            if b.end is not None:
                events[b.end] -= b.bits
        level = 0
        steps = []
        for t, delta in sorted(events.items()):
            level += delta
            steps.append((t, level))
        out[core] = tuple(steps)
    return out
