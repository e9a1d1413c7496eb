"""The steady-state workload of one fused group, ready for the MILP.

Builds, from the allocation problem:

* the nodes' steady-state iterations (:mod:`stream_tetra.iteration_space`),
* *activities*: one compute per node and one transfer per tensor edge, each with its *modes*
  (compute: the core it runs on; transfer: placement option x route plan x stop level) and, per
  mode, its duration, the resources it keeps busy inside its slot, and the iterations it fires in,
* the timeslots (:mod:`stream_tetra.slots`),
* the buffers each mode allocates on each core (ring depth x bits, tiles, reuse, buffer descriptors),
* the *separation* requirements that make iteration ``i+1`` (started ``II`` cycles after ``i``)
  never collide with iteration ``i`` on a core or link and never overwrite a buffer slot before
  its last read.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable

import attrs
import numpy as np

from stream_core.errors import InfeasibleError
from stream_core.ir.mapping import FusedGroup
from stream_core.ir.problem import AllocationProblem
from stream_tetra.geometry import Boxes, box_bits, hull
from stream_tetra.iteration_space import NodeState, ReuseLevel, Ring, last_use, range_max, reuse_levels, ring_depth
from stream_tetra.iterations import Edge, group_states
from stream_tetra.pieces import EdgePieces, InputPieces, OutputPieces, Pieces, SharedPieces
from stream_tetra.settings import TetraSettings
from stream_tetra.slots import SlotRequest, assign_slots
from stream_tetra.transfer_records import RecordSpec, Roles, RouteBook, build_records, busy

Resource = tuple[str, int]  # ("core", id), or a link direction ("link" / "link<", id): transfer_records.oriented


@attrs.define(eq=False)
class Mode:
    """One way an activity can run."""

    index: int
    dur: int
    busy: dict[Resource, tuple[int, int]]
    firings: np.ndarray
    level: ReuseLevel | None = None
    cores: tuple[int, ...] = ()  # compute: core of every part (a core may run several, in part order)
    src_cores: tuple[int, ...] = ()  # transfer: core of every source part
    dst_cores: tuple[int, ...] = ()  # transfer: core of every destination part
    plan: int = 0
    records: list[RecordSpec] = attrs.field(factory=list)
    needs: tuple[tuple[str, int], ...] = ()  # (candidate node, core) this mode requires
    serves: str = ""  # input: the later input activity this shared delivery serves too (:class:`Share`)
    serves_on: tuple[int, ...] = ()  # input, shared: the core of every part of the served activity
    served_by: str = ""  # input: the earlier input activity whose shared delivery serves this one

    @property
    def last_firing(self) -> int:
        return int(self.firings[-1]) if len(self.firings) else -1

    def describe(self) -> str:
        parts = []
        if self.cores:
            parts.append(f"cores {list(self.cores)}")
        if self.src_cores or self.dst_cores:
            parts.append(f"{list(self.src_cores)}->{list(self.dst_cores)}")
            parts.append(f"plan {self.plan}")
        if self.level is not None:
            parts.append(f"level {self.level.level}")
        if self.serves:
            parts.append(f"shared with {self.serves}")
        if self.served_by:
            parts.append(f"served by {self.served_by}")
        return ", ".join(parts)


@attrs.define(eq=False)
class Activity:
    key: str
    kind: str  # compute | input | edge | output
    node: str  # compute: the node; input/edge: the consumer; output: the producer
    order: int
    deps: tuple[str, ...]
    modes: list[Mode]
    tensor: str = ""
    producer: str = ""
    pieces: Pieces | None = None
    slot: int = -1
    rings: dict[int, Ring] = attrs.field(factory=dict)  # stop level -> its buffer ring
    local: bool = False  # an edge whose data never leaves the producer's cores (no slot of its own)
    waits: np.ndarray | None = None  # edge: per consumer step, the producer iteration it waits for (-1: none)
    reads: list[Read] = attrs.field(factory=list)  # input: every node reading the delivery (``node`` first)
    shares: dict[str, Share] = attrs.field(factory=dict)  # input: later input activities it may serve, by key

    @property
    def is_transfer(self) -> bool:
        return self.kind != "compute"

    @property
    def consumers(self) -> tuple[str, ...]:
        """The nodes reading what an input or edge delivers (its ``node`` first)."""
        return tuple(r.node for r in self.reads) if self.reads else (self.node,)


@attrs.frozen(eq=False)
class Read:
    """A node reading an input delivery: its own view of the operand, and per stop level of the
    delivery the block each of its steps reads."""

    node: str
    pieces: InputPieces
    blocks: dict[int, np.ndarray]


@attrs.frozen(eq=False)
class Share:
    """A later input activity of the same tensor that the modes of an input activity with
    ``serves == key`` deliver too (to the cores of their ``serves_on``): its readers' reads of this
    delivery and, per stop level, the ring each of its cores keeps of what they read until their last
    use (on a core the serving readers use too, beside their own ring)."""

    node: str
    reads: list[Read]
    rings: dict[int, Ring]
    pieces: SharedPieces


@attrs.frozen
class BufferEntry:
    """The buffer on ``core`` when mode ``mode`` of ``activity`` is chosen."""

    activity: str
    mode: int
    core: int
    level: int
    bits: int
    tiles: int
    reuse: int
    bds: int


@attrs.frozen
class Buffer:
    name: str
    tensor: str
    node: str
    role: str  # input | intermediate | output
    entries: tuple[BufferEntry, ...]


Span = tuple[tuple[int, int, int], ...]  # (mode, start, end) inside the slot, for the modes concerned


@attrs.frozen
class Separation:
    """Iteration ``i + d`` of activity ``b`` against iteration ``i`` of activity ``a``.

    Applies when ``a`` runs in one of the modes of ``a_span`` and ``b`` in one of ``b_span``; with
    ``(sa, ea)`` and ``(sb, eb)`` their busy intervals inside their slots:

    * ``after``: ``d * II >= (st[a_slot] + ea) - (st[b_slot] + sb)`` (b starts after a ends);
    * ``either``: that, or ``d * II + st[b_slot] + eb <= st[a_slot] + sa`` (b slips in before a).

    ``a_key == b_key`` with ``d`` the gap between consecutive firings is an activity against its own
    next firing. ``resource`` is the core or link they share (``None``: a buffer ring). A ring's
    separation also lists its firing pairs: ``b`` in iteration ``ring.writes[k]`` after ``a`` in
    ``ring.reads[k]`` (``d`` is the least of those distances).
    """

    kind: str
    d: int
    a_key: str
    a_slot: int
    a_span: Span
    b_key: str
    b_slot: int
    b_span: Span
    label: str
    resource: Resource | None = None
    ring: Ring | None = None

    def applies(self, choices: dict[str, int]) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """The two busy intervals under ``choices``, or ``None`` when the separation does not apply."""
        a = next(((s0, e0) for m, s0, e0 in self.a_span if m == choices[self.a_key]), None)
        if self.a_key == self.b_key:
            return None if a is None else (a, a)
        b = next(((s0, e0) for m, s0, e0 in self.b_span if m == choices[self.b_key]), None)
        return None if a is None or b is None else (a, b)


@attrs.frozen
class Finish:
    """The last firing of a mode ends at ``last * II + st[slot] + dur``."""

    activity: str
    mode: int
    last: int
    slot: int
    dur: int


@attrs.define
class SteadyState:
    group: FusedGroup
    nodes: dict[str, NodeState]
    activities: list[Activity]
    n_slots: int
    buffers: list[Buffer]
    separations: list[Separation]
    finishes: list[Finish]
    iterations: int  # iterations including fill and drain
    steady_iterations: int  # largest number of steps of a node (Stream's I for aligned tilings)
    slot_bounds: list[int]
    offchip: int
    _by_key: dict[str, Activity] = attrs.field(init=False, factory=dict)

    def activity(self, key: str) -> Activity:
        return self._by_key[key]

    def __attrs_post_init__(self) -> None:
        self._by_key = {a.key: a for a in self.activities}

    @property
    def period_bound(self) -> int:
        return int(sum(self.slot_bounds))

    def coupled(self, choices: dict[str, int], key: str) -> dict[str, int] | None:
        """``choices`` with the activities ``key`` may serve following its mode: the served mode on the
        cores its mode serves while it shares with one, else (when it was served) its separate mode of
        least duration on the same cores; ``None`` when the served readers run on other cores."""
        a = self.activity(key)
        mode = a.modes[choices[key]]
        out = dict(choices)
        for other in a.shares:
            modes = self.activity(other).modes
            if mode.serves == other:
                served = [m for m in modes if m.served_by and m.dst_cores == mode.serves_on]
                if not served or not self._placed(choices, served[0]):
                    return None
                out[other] = served[0].index
            elif modes[out[other]].served_by:
                alone = [m for m in modes if not m.served_by and m.needs == modes[out[other]].needs]
                out[other] = min(alone, key=lambda m: (m.dur, m.index)).index
        return out

    def _placed(self, choices: dict[str, int], mode: Mode) -> bool:
        """Whether the compute choices put every node ``mode`` needs on its core."""
        return all(self.activity(f"compute:{n}").modes[choices[f"compute:{n}"]].cores[0] == c for n, c in mode.needs)


def build_steady(problem: AllocationProblem, group: FusedGroup, settings: TetraSettings) -> SteadyState:
    return _Builder(problem, group, settings).build()


class _Builder:
    def __init__(self, problem: AllocationProblem, group: FusedGroup, settings: TetraSettings):
        self.problem = problem
        self.group = group
        self.settings = settings
        self.acc = problem.accelerator
        if self.acc.offchip_core_id is None:
            raise InfeasibleError(f"accelerator {self.acc.name!r} has no off-chip core to hold inputs and outputs")
        self.offchip = self.acc.offchip_core_id
        self.routes = RouteBook(self.acc, settings.paths)
        self.whole = settings.transfers == "stream"
        workload = problem.workload
        members = set(group.nodes)
        self.order = [n.name for n in workload.nodes if n.name in members]
        self.position = {name: i for i, name in enumerate(self.order)}
        self.nodes: dict[str, NodeState] = {}
        self.edges: list[Edge] = []
        self.activities: list[Activity] = []
        self.computes: dict[str, Activity] = {}
        self.by_key: dict[str, Activity] = {}

    # -- driver -----------------------------------------------------------------------------------
    def build(self) -> SteadyState:
        self._iterations()
        self._computes()
        self._transfers()
        self._share_across()
        self._slots()
        buffers = self._buffers()
        self.by_key = {a.key: a for a in self.activities}
        separations = list(self._resource_separations()) + list(self._ring_separations())
        finishes = self._finishes()
        iterations = 1 + max(m.last_firing for a in self.activities for m in a.modes)
        bounds = [0] * (1 + max(a.slot for a in self.activities))
        for a in self.activities:
            bounds[a.slot] = max(bounds[a.slot], max(m.dur for m in a.modes))
        return SteadyState(
            group=self.group,
            nodes=self.nodes,
            activities=sorted(self.activities, key=lambda a: (a.slot, a.order, a.key)),
            n_slots=len(bounds),
            buffers=buffers,
            separations=separations,
            finishes=finishes,
            iterations=iterations,
            steady_iterations=max(n.n_steps for n in self.nodes.values()),
            slot_bounds=bounds,
            offchip=self.offchip,
        )

    # -- iterations (forward pass) ------------------------------------------------------------------
    def _iterations(self) -> None:
        self.nodes, self.edges = group_states(self.problem.workload, self.problem.tilings, self.order)

    # -- activities ---------------------------------------------------------------------------------
    def _computes(self) -> None:
        for name in self.order:
            state = self.nodes[name]
            tiling = self.problem.tilings[name]
            firings = state.iterations
            if tiling.parts > 1:
                options = [tuple(tiling.mapping.cores)]
            else:
                candidates = self.problem.candidate_cores(name)
                if not candidates:
                    raise InfeasibleError(
                        f"node {name!r} has no core among {list(tiling.mapping.cores)} on which every tile is feasible"
                    )
                options = [(c,) for c in sorted(candidates)]
            modes = []
            for index, cores in enumerate(options):
                lat: dict[int, int] = {}  # a core listed for several parts runs them one after the other
                for part, core in enumerate(cores):
                    lat[core] = lat.get(core, 0) + self._part_latency(name, part, core)
                needs = ((name, cores[0]),) if len(options) > 1 else ()
                modes.append(
                    Mode(
                        index,
                        dur=max(lat.values()),
                        busy={("core", c): (0, v) for c, v in lat.items()},
                        firings=firings,
                        cores=cores,
                        needs=needs,
                    )
                )
            activity = Activity(f"compute:{name}", "compute", name, self.position[name], (), modes)
            self.activities.append(activity)
            self.computes[name] = activity

    def _part_latency(self, name: str, part: int, core: int) -> int:
        grid = self.nodes[name].grid
        lo, hi = grid.ranges(part, grid.all_steps())
        shapes = np.unique((hi - lo).T, axis=0)
        return max(self.problem.costs.get(name, core, tuple(int(v) for v in s)).latency for s in shapes)

    def _endpoint_options(self, node: str | None) -> list[tuple[int, ...]]:
        if node is None:
            return [(self.offchip,)]
        return [m.cores for m in self.computes[node].modes]

    def _transfers(self) -> None:
        workload = self.problem.workload
        members = set(self.order)
        edge_index = {(e.producer, e.consumer, e.read): e for e in self.edges}
        for name in self.order:
            node = workload.node(name)
            state = self.nodes[name]
            for i, operand in enumerate(node.reads):
                tensor = workload.tensor(operand.tensor)
                producer = workload.producer(operand.tensor)
                if producer is not None and producer.name in members:
                    pstate = self.nodes[producer.name]
                    edge = edge_index[(producer.name, name, i)]
                    uses = last_use(pstate.output.n_boxes, edge.mmin, edge.mmax, state.iterations)
                    needed = np.flatnonzero(uses >= 0)
                    pieces: Pieces = EdgePieces(pstate, state, operand, tensor, needed, self.whole)
                    key = f"edge:{producer.name}->{name}:{operand.tensor}#{i}"
                    activity = self._transfer(key, "edge", name, operand.tensor, producer.name, pieces, [None])
                    activity.rings[-1] = ring_depth(pieces.firings(), uses[needed], self.settings.double_buffering)
                    activity.deps = (f"compute:{producer.name}",)
                    activity.waits = range_max(pstate.completion_iterations(), edge.mmin, edge.mmax)
                    if any(m.records for m in activity.modes):
                        self._add_dep(name, activity.key)
                    else:  # on the producer's cores or their memory: no data moves, no slot of its own
                        activity.local = True
                        self._add_dep(name, f"compute:{producer.name}")
                    continue
                rel = frozenset(operand.dims) if operand.access is not None else frozenset(node.loop_names)
                levels = reuse_levels(state.loops, rel)
                if self.settings.max_levels is not None:
                    levels = levels[: self.settings.max_levels + 1]
                pieces = InputPieces(state, operand, tensor, levels, self.whole)
                if self._join(name, pieces):  # an earlier fetch serves these reads
                    continue
                key = f"input:{name}:{operand.tensor}#{i}"
                activity = self._transfer(key, "input", name, operand.tensor, "", pieces, list(levels))
                own = {level.level: np.arange(state.n_steps) // level.block for level in levels}
                activity.reads = [Read(name, pieces, own)]
                activity.rings = self._input_rings(pieces, activity.reads)
                self._add_dep(name, activity.key)
                self._absorb(activity)
            if self._written_back(name):
                tensor = workload.tensor(node.output.tensor)
                pieces = OutputPieces(state, tensor)
                key = f"output:{name}:{node.output.tensor}"
                activity = self._transfer(key, "output", name, node.output.tensor, name, pieces, [None])
                activity.deps = (f"compute:{name}",)

    def _join(self, name: str, pieces: InputPieces) -> bool:
        """Let ``name`` read an earlier input activity of the same tensor on the same cores whose every
        stop level delivers, no later than each of its steps, a block holding that step's box (a 1x1
        convolution's rows inside a 3x3 one's, or a row tile inside a whole column block fetched
        earlier); the delivery's buffer then lives until its last reader. Taken only when that
        buffer grows by no more than ``name``'s own smallest buffer would take."""
        for a in self._sharers(name, pieces):
            if not isinstance(a.pieces, InputPieces):
                continue
            read = _read(name, a.pieces, pieces)
            if read is not None and self._fits(a, [read], [pieces]):
                a.reads.append(read)
                a.rings = self._input_rings(a.pieces, a.reads)
                self._add_dep(name, a.key)
                return True
        return False

    def _absorb(self, activity: Activity) -> None:
        """Fold into ``activity`` each earlier input activity whose readers all find their blocks in
        its delivery in time (Q's row tiles of I inside K's column blocks, K fetched no later), on the
        terms of :meth:`_join`."""
        pieces = activity.pieces
        assert isinstance(pieces, InputPieces)
        for a in self._sharers(activity.node, pieces):
            if a is activity or not isinstance(a.pieces, InputPieces):
                continue
            found = [_read(r.node, pieces, r.pieces) for r in a.reads]
            reads = [r for r in found if r is not None]
            if len(reads) < len(found) or not self._fits(activity, reads, [a.pieces]):
                continue
            activity.reads += reads
            activity.rings = self._input_rings(pieces, activity.reads)
            self.activities.remove(a)
            for node in a.consumers:
                compute = self.computes[node]
                compute.deps = tuple(dict.fromkeys(activity.key if d == a.key else d for d in compute.deps))

    def _sharers(self, name: str, pieces: InputPieces) -> list[Activity]:
        """Input activities of the same tensor at the same precision whose readers are pinned to the
        cores ``name`` is pinned to (none when ``name`` is not pinned)."""
        cores = self._pinned(name)
        if cores is None:
            return []
        return [
            a
            for a in self.activities
            if a.kind == "input"
            and a.tensor == pieces.tensor.name
            and isinstance(a.pieces, InputPieces)
            and a.pieces.operand.precision == pieces.operand.precision
            and all(self._pinned(node) == cores for node in a.consumers)
        ]

    def _fits(self, a: Activity, reads: list[Read], others: list[InputPieces]) -> bool:
        """Whether ``a``'s buffer, read by ``reads`` too, grows on no part by more than the smallest
        buffers the inputs ``others`` would take on their own."""
        pieces = a.pieces
        assert isinstance(pieces, InputPieces)
        rings = self._input_rings(pieces, [*a.reads, *reads])
        double = self.settings.double_buffering
        for part in range(pieces.dst_parts):
            room = sum(o.least_buffer(part, double) for o in others)
            for level in pieces.levels:
                grown = rings[level.level].depth - a.rings[level.level].depth
                if grown > 0 and grown * int(pieces.received(level, part).max()) > room:
                    return False
        return True

    def _input_rings(
        self, pieces: InputPieces, reads: list[Read], levels: Iterable[ReuseLevel] | None = None
    ) -> dict[int, Ring]:
        """Per stop level (default: every level of ``pieces``), the ring holding each delivered block
        until its last reader's last step."""
        rings = {}
        for level in pieces.levels if levels is None else levels:
            firings = pieces.firings(level)
            last = np.full(len(firings), -1, dtype=np.int64)
            for r in reads:
                np.maximum.at(last, r.blocks[level.level], self.nodes[r.node].iterations)
            rings[level.level] = ring_depth(firings, last, self.settings.double_buffering)
        return rings

    def _pinned(self, name: str) -> tuple[int, ...] | None:
        """The cores of a node with one compute mode (``None``: the solver chooses)."""
        modes = self.computes[name].modes
        return modes[0].cores if len(modes) == 1 else None

    def _add_dep(self, consumer: str, dep: str) -> None:
        compute = self.computes[consumer]
        if dep not in compute.deps:
            compute.deps = (*compute.deps, dep)

    def _written_back(self, name: str) -> bool:
        workload = self.problem.workload
        tensor = workload.node(name).output.tensor
        members = set(self.order)
        return tensor in workload.outputs or any(c.name not in members for c in workload.consumers(tensor))

    def _transfer(
        self,
        key: str,
        kind: str,
        node: str,
        tensor: str,
        producer: str,
        pieces: Pieces,
        levels: list[ReuseLevel | None],
    ) -> Activity:
        src_node = producer if kind in ("edge", "output") else None
        dst_node = node if kind in ("edge", "input") else None
        read, write = self.problem.workload.transfer_roles(tensor, dst_node)
        roles = Roles(read, (write,) * pieces.dst_parts)
        modes: list[Mode] = []
        for src, dst in itertools.product(self._endpoint_options(src_node), self._endpoint_options(dst_node)):
            needs = tuple(
                sorted({(n, cores[0]) for n, cores in ((src_node, src), (dst_node, dst)) if n and self._has_choice(n)})
            )
            for level in levels:
                for mode in self._plans(pieces, level, src, dst, roles, needs):
                    mode.index = len(modes)
                    modes.append(mode)
        activity = Activity(key, kind, node, self.position[node], (), modes, tensor, producer, pieces)
        self.activities.append(activity)
        return activity

    def _plans(
        self,
        pieces: Pieces,
        level: ReuseLevel | None,
        src: tuple[int, ...],
        dst: tuple[int, ...],
        roles: Roles,
        needs: tuple[tuple[str, int], ...] = (),
        serves: str = "",
        serves_on: tuple[int, ...] = (),
    ) -> list[Mode]:
        """The undominated modes moving ``pieces`` at ``level`` from cores ``src`` to ``dst``, reading and
        writing the memories of ``roles`` (one per route plan and record set; indices still to be set)."""
        plans: list[Mode] = []
        for plan in range(self.settings.paths):
            for records in build_records(pieces, level, src, dst, plan, self.routes, roles):
                occupied = busy(records)
                plans.append(
                    Mode(
                        0,
                        dur=max((end for _, end in occupied.values()), default=0),
                        busy=occupied,
                        firings=pieces.firings(level),
                        level=level,
                        src_cores=src,
                        dst_cores=dst,
                        plan=plan,
                        records=records,
                        needs=needs,
                        serves=serves,
                        serves_on=serves_on,
                    )
                )
        return _undominated(plans)

    def _share_across(self) -> None:
        """Offer one fetch for readers of a tensor pinned to different cores. For each input activity
        whose readers find, on every part, their step boxes inside the blocks an earlier input activity
        of the same tensor (readers pinned to other cores) delivers in time, at some stop level, that
        earlier activity gets *shared* modes: the hull of its block read once at the source and multicast
        to both readers' cores (:class:`~stream_tetra.pieces.SharedPieces`), each core keeping in a ring
        of its own what its readers read until their last use; the later activity gets a *served* mode
        (no records). A row of the MILP ties the two, which chooses between them and separate fetches
        (a shared delivery holds the later readers' blocks from the earlier fetch on, so a tight memory
        keeps them apart). Each later activity takes the first earlier one that can serve it."""
        inputs = [a for a in self.activities if a.kind == "input"]
        for k, later in enumerate(inputs):
            for earlier in inputs[:k]:
                if self._share(earlier, later):
                    break

    def _share(self, x: Activity, y: Activity) -> bool:
        xp, yp = x.pieces, y.pieces
        if not isinstance(xp, InputPieces) or not isinstance(yp, InputPieces):
            return False
        if xp.tensor.name != yp.tensor.name or xp.operand.precision != yp.operand.precision:
            return False
        x_options, y_options = self._reader_options(x), self._reader_options(y)
        pairs = [(xo, yo) for xo in x_options for yo in y_options if xo[0] != yo[0] or xo[1] or yo[1]]
        if not pairs:  # readers pinned to the same cores share through _join
            return False
        blocks: dict[int, list[np.ndarray]] = {}
        for level in xp.levels:
            found = [_blocks(xp, r.pieces, level, across=True) for r in y.reads]
            if all(b is not None for b in found):
                blocks[level.level] = [b for b in found if b is not None]
        if not blocks:
            return False
        reads = [Read(r.node, r.pieces, {lv: b[i] for lv, b in blocks.items()}) for i, r in enumerate(y.reads)]
        levels = [level for level in xp.levels if level.level in blocks]
        kept = {
            level.level: [
                _kept(hull([xp.boxes(level, p) for p in range(xp.dst_parts)]), reads, level.level, q)
                for q in range(yp.dst_parts)
            ]
            for level in levels
        }
        pieces = SharedPieces(xp, kept)
        workload = self.problem.workload
        read, x_role = workload.transfer_roles(x.tensor, x.node)
        roles = Roles(read, (x_role,) * xp.dst_parts + (workload.transfer_roles(y.tensor, y.node)[1],) * yp.dst_parts)
        for (x_cores, x_needs), (y_cores, _) in pairs:
            for level in levels:
                dst = (*x_cores, *y_cores)
                for mode in self._plans(pieces, level, (self.offchip,), dst, roles, x_needs, y.key, y_cores):
                    mode.index = len(x.modes)
                    x.modes.append(mode)
        for y_cores, y_needs in dict.fromkeys(yo for _, yo in pairs):
            empty = np.zeros(0, dtype=np.int64)
            y.modes.append(Mode(len(y.modes), 0, {}, empty, dst_cores=y_cores, needs=y_needs, served_by=x.key))
        rings = self._input_rings(xp, reads, levels)
        x.shares[y.key] = Share(y.node, reads, rings, pieces)
        for r in reads:
            self._add_dep(r.node, x.key)
        return True

    def _reader_options(self, a: Activity) -> list[tuple[tuple[int, ...], tuple[tuple[str, int], ...]]]:
        """The cores the readers of input activity ``a`` may run on, each with the compute choice it needs:
        the one set every reader is pinned to, or each candidate core of a single reader the solver
        places (none: readers on different sets)."""
        if len(a.consumers) == 1 and self._has_choice(a.node):
            return [(m.cores, ((a.node, m.cores[0]),)) for m in self.computes[a.node].modes]
        cores = {self._pinned(node) for node in a.consumers}
        pinned = next(iter(cores))
        return [(pinned, ())] if len(cores) == 1 and pinned is not None else []

    def _has_choice(self, node: str) -> bool:
        return len(self.computes[node].modes) > 1

    # -- slots ------------------------------------------------------------------------------------------
    def _slots(self) -> None:
        requests = []
        for a in self.activities:
            if a.local:
                continue
            candidates: tuple[int, ...] = ()
            pinned: frozenset[Hashable]
            if a.kind == "compute":
                if len(a.modes) == 1:
                    pinned, candidates = frozenset(a.modes[0].cores), ()
                else:
                    pinned, candidates = frozenset(), tuple(m.cores[0] for m in a.modes)
            else:
                pinned = frozenset(r for m in a.modes for r in m.busy)  # link directions
            requests.append(SlotRequest(a.key, a.kind, a.order, a.deps, pinned, candidates))
        slots = assign_slots(requests)
        for a in self.activities:
            a.slot = slots[self.computes[a.node].key if a.local else a.key]

    # -- buffers ------------------------------------------------------------------------------------------
    def _buffers(self) -> list[Buffer]:
        out: list[Buffer] = []
        for a in self.activities:
            if a.kind == "compute":
                out.extend(self._output_buffers(a))
            elif a.kind in ("input", "edge"):
                out.extend(self._input_buffers(a))
        return out

    def _input_buffers(self, a: Activity) -> Iterable[Buffer]:
        pieces = a.pieces
        assert pieces is not None
        role = "input" if a.kind == "input" else "intermediate"
        for dp in range(pieces.dst_parts):
            entries = []
            for m in a.modes:
                if m.served_by:  # the serving activity's buffers hold its data
                    continue
                level = m.level
                depth = a.rings[level.level if level else -1].depth
                received = pieces.received(level, dp)
                bits = int(received.max()) if len(received) else 0
                tiles = level.tiles if level else 1
                entries.append(
                    BufferEntry(
                        a.key,
                        m.index,
                        m.dst_cores[dp],
                        level.level if level else -1,
                        depth * bits,
                        depth * tiles,
                        level.reuse if level else 1,
                        level.bds if level else 1,
                    )
                )
            yield Buffer(f"{a.key}@part{dp}", a.tensor, a.node, role, tuple(entries))
        for key, share in a.shares.items():
            for q in range(share.pieces.dst_parts - pieces.dst_parts):
                entries = []
                for m in a.modes:
                    if m.serves != key or m.level is None:
                        continue
                    depth = share.rings[m.level.level].depth
                    bits = int(share.pieces.received(m.level, pieces.dst_parts + q).max())
                    level, core = m.level, m.serves_on[q]
                    entries.append(
                        BufferEntry(
                            a.key, m.index, core, level.level, depth * bits, depth * level.tiles, level.reuse, level.bds
                        )
                    )
                yield Buffer(f"{a.key}@{share.node}:part{q}", a.tensor, share.node, role, tuple(entries))

    def _output_buffers(self, a: Activity) -> Iterable[Buffer]:
        state = self.nodes[a.node]
        node = state.grid.node
        tensor = self.problem.workload.tensor(node.output.tensor)
        depth = state.output_ring(self.settings.double_buffering).depth
        boxes = np.arange(state.output.n_boxes, dtype=np.int64)
        for part in range(state.grid.n_parts):
            lo, hi = state.output.box_ranges(part, boxes)
            bits = int(box_bits(state.grid.operand_boxes(node.output, tensor, lo, hi), node.output.precision).max())
            entries = tuple(BufferEntry(a.key, m.index, m.cores[part], -1, depth * bits, depth, 1, 1) for m in a.modes)
            yield Buffer(f"output:{a.node}@part{part}", tensor.name, a.node, "output", entries)

    # -- separations --------------------------------------------------------------------------------------
    def _resource_separations(self) -> Iterable[Separation]:
        users: dict[Resource, list[tuple[Activity, Mode]]] = {}
        for a in self.activities:
            for m in a.modes:
                for resource in m.busy:
                    users.setdefault(resource, []).append((a, m))
        depth = self.settings.interleave
        distances = _Distances()
        for resource in sorted(users):
            members = users[resource]
            rules: dict[tuple[str, str, str, int], list[tuple[Mode, Mode]]] = {}
            for (a, ma), (b, mb) in itertools.product(members, members):
                if a is b and ma is not mb:
                    continue
                if a is not b and a.slot <= b.slot:
                    continue
                fa, fb = ma.firings, mb.firings
                key_a, key_b = (a.key, _level(ma)), (b.key, _level(mb))
                start = 1
                if a is not b:
                    for d in range(1, depth + 1):
                        if not distances.has(key_a, fa, key_b, fb, d):
                            break
                        rules.setdefault(("either", a.key, b.key, d), []).append((ma, mb))
                        start = d + 1
                d_after = distances.at_least(key_a, fa, key_b, fb, start)
                if d_after is not None:
                    rules.setdefault(("after", a.key, b.key, d_after), []).append((ma, mb))
            for (kind, akey, bkey, d), pairs in rules.items():
                yield from _products(kind, d, resource, self.by_key[akey], self.by_key[bkey], pairs)

    def _ring_separations(self) -> Iterable[Separation]:
        for a in self.activities:
            if a.kind in ("input", "edge"):
                readers = a.reads if a.kind == "input" else None
                for level, ring in sorted(a.rings.items()):
                    writers = [m for m in a.modes if _level(m) == level]
                    yield from self._ring_rules(a, readers, level, ring, writers, f"buffer of {a.key}")
                for key, share in a.shares.items():
                    for level, ring in sorted(share.rings.items()):
                        writers = [m for m in a.modes if m.serves == key and _level(m) == level]
                        label = f"buffer of {a.key} for {key}"
                        yield from self._ring_rules(a, share.reads, level, ring, writers, label)
            if a.kind == "compute":
                ring = self.nodes[a.node].output_ring(self.settings.double_buffering)
                if ring.distance is None:
                    continue
                writer = tuple((m.index, 0, 0) for m in a.modes)
                for r in self.activities:
                    if r.is_transfer and r.producer == a.node and r.kind != "input":
                        reads = tuple((m.index, 0, m.dur) for m in r.modes)
                        yield Separation(
                            "after",
                            ring.distance,
                            r.key,
                            r.slot,
                            reads,
                            a.key,
                            a.slot,
                            writer,
                            f"output buffer of {a.node}",
                            ring=ring,
                        )

    def _ring_rules(
        self, a: Activity, readers: list[Read] | None, level: int, ring: Ring, writers: list[Mode], label: str
    ) -> Iterable[Separation]:
        """A write by ``writers`` (modes of ``a``) after the last read of the block whose slot it takes."""
        if ring.distance is None or not writers:
            return
        for node, own in self._reader_rings(a.node, readers, level, ring):  # the last reader frees the slot
            if own.distance is None:
                continue
            consumer = self.computes[node]
            yield Separation(
                "after",
                own.distance,
                consumer.key,
                consumer.slot,
                tuple((m.index, 0, m.dur) for m in consumer.modes),
                a.key,
                a.slot,
                tuple((m.index, 0, 0) for m in writers),
                label,
                ring=own,
            )

    def _reader_rings(
        self, node: str, readers: list[Read] | None, level: int, ring: Ring
    ) -> Iterable[tuple[str, Ring]]:
        """Per reader of an input delivery (``readers``), ``ring`` with the reads of that reader only (a
        block it does not read puts no bound on the write taking its slot); an edge's one reader
        (``node``; ``readers`` is ``None``) keeps ``ring``."""
        if readers is None:
            yield node, ring
            return
        n = len(ring.writes)
        for r in readers:
            last = np.full(n + ring.depth, -1, dtype=np.int64)
            np.maximum.at(last, r.blocks[level], self.nodes[r.node].iterations)
            reads = last[:n]
            keep = reads >= 0
            if keep.any():
                writes = ring.writes[keep]
                yield r.node, Ring(ring.depth, int(np.min(writes - reads[keep])), writes, reads[keep])

    def _finishes(self) -> list[Finish]:
        out = []
        for a in self.activities:
            if a.kind == "input":
                continue  # its consumer fires in the same iteration, in a later slot
            for m in a.modes:
                if m.last_firing >= 0:
                    out.append(Finish(a.key, m.index, m.last_firing, a.slot, m.dur))
        return out


def _undominated(plans: list[Mode]) -> list[Mode]:
    """Route plans that no other plan beats: another plan with no longer duration, no more bits and
    a subset of its link usage (each interval inside this plan's) makes a plan useless."""

    def covers(worse: Mode, better: Mode) -> bool:
        if better.dur > worse.dur or _bits(better) > _bits(worse):
            return False
        return all(
            r in worse.busy and worse.busy[r][0] <= lo and worse.busy[r][1] >= hi for r, (lo, hi) in better.busy.items()
        )

    kept: list[Mode] = []
    for i, mode in enumerate(plans):
        beaten = any(
            covers(mode, other) and (not covers(other, mode) or j < i) for j, other in enumerate(plans) if j != i
        )
        if not beaten:
            kept.append(mode)
    return kept


def _read(name: str, delivery: InputPieces, reader: InputPieces) -> Read | None:
    """``name``'s reads of ``delivery`` on the same cores: per stop level of the delivery, the latest
    block delivered no later than each of the reader's steps whose box holds that step's box on every
    part, or ``None`` when some step finds none (or the parts differ)."""
    if reader.dst_parts != delivery.dst_parts:
        return None
    blocks = {}
    for level in delivery.levels:
        chosen = _blocks(delivery, reader, level)
        if chosen is None:
            return None
        blocks[level.level] = chosen
    return Read(name, reader, blocks)


def _blocks(delivery: InputPieces, reader: InputPieces, level: ReuseLevel, across: bool = False) -> np.ndarray | None:
    """Per step of ``reader``, the latest block of ``delivery`` at ``level`` delivered no later whose box
    holds the step's box on every part (``None`` when some step finds none). ``across`` (a reader on
    other cores, served by a shared delivery): the box is the hull of the delivery's parts."""
    steps = [reader.step_boxes(p) for p in range(reader.dst_parts)]
    boxes = [delivery.boxes(level, p) for p in range(delivery.dst_parts)]
    if across:
        boxes = [hull(boxes)] * reader.dst_parts
    iterations = reader.consumer.iterations
    chosen = np.searchsorted(delivery.firings(level), iterations, side="right") - 1
    if (chosen < 0).any():
        return None
    everyone = np.arange(len(iterations))
    for s in np.flatnonzero(~_holds(steps, everyone, boxes, chosen)).tolist():  # an earlier block?
        earlier = np.arange(chosen[s] - 1, -1, -1)
        hit = np.flatnonzero(_holds(steps, np.full(len(earlier), s), boxes, earlier))
        if not len(hit):
            return None
        chosen[s] = earlier[hit[0]]
    return chosen


def _kept(delivered: Boxes, reads: list[Read], level: int, part: int) -> Boxes:
    """Per block of a shared delivery (``delivered``: the hull it reads), the hull of what the served
    readers' steps on part ``part`` read of it (an empty box at its corner when they read none)."""
    lo = np.full_like(delivered[0], np.iinfo(np.int64).max)
    hi = np.full_like(delivered[1], np.iinfo(np.int64).min)
    for r in reads:
        step_lo, step_hi = r.pieces.step_boxes(part)
        block = r.blocks[level]
        for axis in range(lo.shape[0]):
            np.minimum.at(lo[axis], block, step_lo[axis])
            np.maximum.at(hi[axis], block, step_hi[axis])
    unread = (lo > hi).any(axis=0)
    lo[:, unread] = delivered[0][:, unread]
    hi[:, unread] = delivered[0][:, unread]
    return lo, hi


def _holds(steps: list[Boxes], step: np.ndarray, boxes: list[Boxes], block: np.ndarray) -> np.ndarray:
    """Per pair ``(step[j], block[j])``, whether the block's box holds the step's box on every part."""
    ok = np.ones(len(step), dtype=bool)
    for (lo, hi), (blo, bhi) in zip(steps, boxes, strict=True):
        ok &= (blo[:, block] <= lo[:, step]).all(axis=0) & (hi[:, step] <= bhi[:, block]).all(axis=0)
    return ok


def _bits(mode: Mode) -> int:
    return sum(int(r.bits.sum()) for r in mode.records)


def _products(
    kind: str, d: int, resource: Resource, a: Activity, b: Activity, pairs: list[tuple[Mode, Mode]]
) -> Iterable[Separation]:
    """Separations covering exactly the mode pairs ``pairs`` (one when they form a product)."""
    label = f"{resource[0]} {resource[1]}: {a.key} / {b.key}"

    def span(modes: Iterable[Mode]) -> Span:
        return tuple(sorted({(m.index, *m.busy[resource]) for m in modes}))

    if a is b:
        yield Separation(kind, d, a.key, a.slot, span(p[0] for p in pairs), b.key, b.slot, (), label, resource)
        return
    by_a: dict[int, set[int]] = {}
    for ma, mb in pairs:
        by_a.setdefault(ma.index, set()).add(mb.index)
    groups: dict[frozenset[int], list[int]] = {}
    for ia, ibs in sorted(by_a.items()):
        groups.setdefault(frozenset(ibs), []).append(ia)
    for targets, ias in sorted(groups.items(), key=lambda kv: kv[1]):
        a_span = span(a.modes[i] for i in ias)
        b_span = span(b.modes[i] for i in sorted(targets))
        yield Separation(kind, d, a.key, a.slot, a_span, b.key, b.slot, b_span, label, resource)


def _level(mode: Mode) -> int:
    return mode.level.level if mode.level is not None else -1


class _Distances:
    """Cached iteration distances between the firings of two modes."""

    def __init__(self) -> None:
        self._has: dict[tuple, bool] = {}
        self._min: dict[tuple, int | None] = {}

    def has(self, ka: tuple, fa: np.ndarray, kb: tuple, fb: np.ndarray, d: int) -> bool:
        key = (ka, kb, d)
        if key not in self._has:
            self._has[key] = bool(np.isin(fa + d, fb).any())
        return self._has[key]

    def at_least(self, ka: tuple, fa: np.ndarray, kb: tuple, fb: np.ndarray, d: int) -> int | None:
        key = (ka, kb, d)
        if key not in self._min:
            idx = np.searchsorted(fb, fa + d)
            ok = idx < len(fb)
            self._min[key] = int(np.min(fb[idx[ok]] - fa[ok])) if ok.any() else None
        return self._min[key]
