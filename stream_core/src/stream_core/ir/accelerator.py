"""Accelerator IR: cores (typed by the plugin that read them), links and buses, the off-chip core.

A core's ``type`` is ``<namespace>.<kind>``: the namespace names the core-type plugin that parsed the
core file and owns its ``description`` object; the kind is one of :data:`CORE_KINDS`. Every
description also gives the framework a :class:`CoreSummary`, the few numbers that core-type-neutral
code (roofline costing, memory capacity checks, schedulers) needs.

Memory sharing (Stream 2.1.1): in each group of :attr:`Accelerator.memory_sharing` the first core
owns the one top memory the group uses. Data between members stays in place (no route, 0 cycles),
and a member without links of its own sends and receives through its owner's links.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:  # networkx takes ~0.1 s to import: loaded when a route is first asked for
    import networkx as nx

CORE_KINDS = ("compute", "memory", "shim", "offchip")


@attrs.frozen
class CoreSummary:
    """Core-type-neutral capabilities of a core. Bandwidths in bits/cycle, energies in pJ.

    ``memory_bits`` is the capacity of the core's top on-core memory (what holds a tile's operands).
    ``operand_memories`` lists the top memory of each operand role: one entry per memory, the roles it
    holds (``input``, ``weight``, ``output``, as :class:`~stream_core.ir.OperandRole`) and its size in
    bits, a memory shared by several roles listed once; empty: only ``memory_bits`` is known (it holds
    every operand).
    ``operand_energies`` gives (role, read pJ/bit, write pJ/bit) of each role's top memory where that
    differs from ``read_energy_pj_per_bit`` / ``write_energy_pj_per_bit`` (which price every other
    role): a transfer reads and writes the memory of the operand it is, as Stream prices a port.
    ``operator_types`` restricts the ONNX ops the core may run (``None``: no restriction).
    """

    memory_bits: int
    read_bandwidth: float
    write_bandwidth: float
    peak_macs_per_cycle: float = 0.0
    peak_ops_per_cycle: float = 0.0
    mac_energy_pj: float = 0.0
    read_energy_pj_per_bit: float = 0.0
    write_energy_pj_per_bit: float = 0.0
    operator_types: tuple[str, ...] | None = attrs.field(
        default=None, converter=lambda v: None if v is None else tuple(v)
    )
    operand_memories: tuple[tuple[tuple[str, ...], int], ...] = attrs.field(
        default=(), converter=lambda v: tuple((tuple(roles), int(bits)) for roles, bits in v)
    )
    operand_energies: tuple[tuple[str, float, float], ...] = attrs.field(
        default=(), converter=lambda v: tuple((str(role), float(r), float(w)) for role, r, w in v)
    )

    def read_energy(self, role: str | None = None) -> float:
        """pJ per bit read from the top memory of operand ``role`` (``None``: the default memory)."""
        return next((r for name, r, _ in self.operand_energies if name == role), self.read_energy_pj_per_bit)

    def write_energy(self, role: str | None = None) -> float:
        """pJ per bit written into the top memory of operand ``role`` (``None``: the default memory)."""
        return next((w for name, _, w in self.operand_energies if name == role), self.write_energy_pj_per_bit)

    def can_run(self, op_type: str) -> bool:
        return self.operator_types is None or op_type in self.operator_types


@runtime_checkable
class CoreDescription(Protocol):
    """What a core-type plugin's parsed core file must offer (its other fields are its own business)."""

    name: str

    @property
    def summary(self) -> CoreSummary: ...

    def fingerprint(self) -> str:
        """Stable hash of everything that affects a cost estimate on this core."""
        ...


@attrs.frozen
class Core:
    id: int
    type: str
    description: Any = attrs.field(eq=False, repr=False)
    coordinates: tuple[int, int] | None = None
    source: str | None = None

    @property
    def namespace(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def kind(self) -> str:
        return self.type.split(".", 1)[1]

    @property
    def name(self) -> str:
        return str(getattr(self.description, "name", f"core{self.id}"))

    @property
    def summary(self) -> CoreSummary:
        return self.description.summary

    @property
    def is_compute(self) -> bool:
        return self.kind == "compute"

    def fingerprint(self) -> str:
        return f"{self.type}:{self.description.fingerprint()}"


@attrs.frozen
class Link:
    """A point-to-point link (two cores, full duplex) or a bus (one shared resource for all its cores)."""

    id: int
    kind: str
    cores: tuple[int, ...] = attrs.field(converter=tuple)
    bandwidth: float
    energy_per_bit: float = 0.0

    @property
    def label(self) -> str:
        joined = "-".join(str(c) for c in self.cores)
        return f"{self.kind}{self.id}({joined})"

    @property
    def duplex(self) -> bool:
        """Whether its two directions are separate resources: a point-to-point link, not a bus."""
        return self.kind != "bus" and len(self.cores) == 2

    def backward(self, leaving: int) -> bool:
        """Whether data leaving core ``leaving`` over it uses its second direction (from its second core
        to its first); always false on a bus, which is one resource."""
        return self.duplex and leaving == self.cores[1]


def link_directions(links: Sequence[Link], src: int) -> dict[int, bool]:
    """For each of ``links`` (a route or a multicast tree) reached walking outward from core ``src``,
    nearest first: whether data crosses it backward (:meth:`Link.backward`). Links not reached from
    ``src`` are absent."""
    out: dict[int, bool] = {}
    frontier = [src]
    for core in frontier:
        for link in links:
            if link.id not in out and core in link.cores:
                out[link.id] = link.backward(core)
                frontier.extend(c for c in link.cores if c != core)
    return out


@attrs.frozen
class BandwidthModel:
    """A core's measured transfer rate (Stream's ``bandwidth: {<core id>: ...}``), bits/cycle.

    ``contiguous`` is one direction's rate at a contiguous access, ``ceiling`` reads and writes
    together, ``strided[direction]`` measured rates per contiguous span in bytes, and ``burst`` the
    bytes one access moves (used when nothing is measured for a direction).
    """

    ceiling: float
    contiguous: float
    strided: Mapping[str, Mapping[int, float]] = attrs.field(factory=dict)
    burst: int | None = None

    def efficiency(self, span_bytes: float, direction: str) -> float:
        """Fraction of ``contiguous`` a transfer in contiguous runs of ``span_bytes`` gets.

        Without a table: ``span / (span rounded up to whole bursts)`` when ``burst`` is set, else 1.
        With one: 1 from twice the largest measured span on, else linear in ``log(span)`` between
        the measured points (spans below the smallest take the smallest's rate).
        """
        table = sorted(self.strided.get(direction, {}).items())
        if not table:
            if self.burst and span_bytes > 0:
                return span_bytes / (math.ceil(span_bytes / self.burst) * self.burst)
            return 1.0
        full = 2 * table[-1][0]
        if span_bytes >= full:
            return 1.0
        points = [(math.log(span), rate / self.contiguous) for span, rate in table] + [(math.log(full), 1.0)]
        x = math.log(max(span_bytes, table[0][0]))
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            if x <= x1:
                return min(1.0, y0 + (y1 - y0) * (x - x0) / (x1 - x0))
        return 1.0

    def cycles(self, bits: int, direction: str, span_bytes: float) -> int:
        """Cycles ``bits`` take through this core in ``direction`` (``read`` out of it, ``write`` into it)."""
        return math.ceil(bits / (self.contiguous * self.efficiency(span_bytes, direction)))


@attrs.define(frozen=True, eq=False)
class Accelerator:
    name: str
    cores: Mapping[int, Core] = attrs.field(converter=lambda cores: dict(cores))
    links: tuple[Link, ...] = attrs.field(converter=tuple[Link, ...])
    offchip_core_id: int | None = None
    #: Groups of cores sharing one top memory, each owned by its first core.
    memory_sharing: tuple[tuple[int, ...], ...] = attrs.field(
        default=(), converter=lambda groups: tuple(tuple(g) for g in groups)
    )
    source: str | None = None
    #: Measured transfer rates of cores (Stream's ``bandwidth`` entries keyed by a core id).
    core_bandwidth: Mapping[int, BandwidthModel] = attrs.field(factory=dict, converter=lambda models: dict(models))
    #: Accelerator-level blocks the core keeps for the plugins that read them (``kernel_library`` as a
    #: resolved path, ``bandwidth``, ``reconfiguration``, ``memory_aliases``, ``technology_node``).
    annotations: Mapping[str, Any] = attrs.field(factory=dict, converter=lambda blocks: dict(blocks))
    #: Fields accepted but not (fully) modelled, one sentence each, for ``stream validate`` and the summary.
    notes: tuple[str, ...] = attrs.field(default=(), converter=tuple[str, ...])
    _routes: dict[tuple[int, int], tuple[tuple[int, ...], tuple[Link, ...]]] = attrs.field(
        init=False, repr=False, factory=dict
    )

    @functools.cached_property
    def graph(self) -> nx.MultiDiGraph[int]:
        """The link graph: an edge each way between every two cores a link or bus joins, keyed by the link's
        id. Built on first use (not kept in pickles), so a run that needs no route never imports networkx."""
        import networkx as nx

        graph: nx.MultiDiGraph[int] = nx.MultiDiGraph()
        graph.add_nodes_from(self.cores)
        for link in self.links:
            for a in link.cores:
                for b in link.cores:
                    if a != b:
                        graph.add_edge(a, b, key=link.id, link=link)
        return graph

    @functools.cached_property
    def _neighbours(self) -> dict[int, frozenset[int]]:
        """The cores each core shares a link or bus with."""
        joined: dict[int, set[int]] = {}
        for link in self.links:
            for a in link.cores:
                joined.setdefault(a, set()).update(b for b in link.cores if b != a)
        return {core: frozenset(others) for core, others in joined.items() if others}

    def connected(self, a: int, b: int) -> bool:
        """Whether data can go between ``a`` and ``b``: they share a memory, or links join their anchors."""
        if self.shares_memory(a, b):
            return True
        start, goal = self.anchor(a), self.anchor(b)
        seen, todo = {start}, [start]
        while todo:
            core = todo.pop()
            if core == goal:
                return True
            for other in self._neighbours.get(core, ()):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        return False

    def core(self, core_id: int) -> Core:
        return self.cores[core_id]

    @property
    def offchip_core(self) -> Core | None:
        return None if self.offchip_core_id is None else self.cores[self.offchip_core_id]

    @property
    def compute_cores(self) -> tuple[Core, ...]:
        return tuple(c for c in self.cores.values() if c.is_compute)

    def link(self, link_id: int) -> Link:
        return self._link_by_id[link_id]

    @functools.cached_property
    def _link_by_id(self) -> dict[int, Link]:
        return {link.id: link for link in self.links}

    def shares_memory(self, a: int, b: int) -> bool:
        return self.memory_of(a) == self.memory_of(b)

    def memory_of(self, core_id: int) -> int:
        """The core owning the top memory ``core_id`` uses: the first of its sharing group, else itself."""
        return next((group[0] for group in self.memory_sharing if core_id in group), core_id)

    def anchor(self, core_id: int) -> int:
        """Where ``core_id``'s data enters and leaves the links: its memory's owner when it has no link
        of its own, else itself."""
        return core_id if core_id in self._neighbours else self.memory_of(core_id)

    def path(self, src: int, dst: int) -> tuple[Link, ...]:
        """Links of the route from ``src`` to ``dst``: fewest hops, then widest bottleneck, then lowest ids.
        Empty between cores sharing a memory."""
        return self._route(src, dst)[1]

    def hops(self, src: int, dst: int) -> tuple[tuple[int, int], ...]:
        """The core pairs that route passes, in order (each joined by :meth:`parallel` links)."""
        nodes = self._route(src, dst)[0]
        return tuple(itertools.pairwise(nodes))

    def parallel(self, u: int, v: int) -> tuple[Link, ...]:
        """Every link or bus joining ``u`` to ``v``, widest first (several stream channels, say)."""
        edges: dict[Any, dict[str, Any]] = self.graph.get_edge_data(u, v, default={})
        links = [data["link"] for data in edges.values()]
        return tuple(sorted(links, key=lambda link: (-link.bandwidth, link.id)))

    def _route(self, src: int, dst: int) -> tuple[tuple[int, ...], tuple[Link, ...]]:
        key = (src, dst)
        if key not in self._routes:
            self._routes[key] = self._best_route(src, dst)
        return self._routes[key]

    def _best_route(self, src: int, dst: int) -> tuple[tuple[int, ...], tuple[Link, ...]]:
        if self.shares_memory(src, dst):
            return (src,), ()
        import networkx as nx

        src, dst = self.anchor(src), self.anchor(dst)
        try:
            candidates = list(nx.all_shortest_paths(self._simple_graph, src, dst))
        except nx.NetworkXNoPath:
            raise ValueError(f"accelerator {self.name!r}: no link path from core {src} to core {dst}") from None
        routes = [
            (tuple(nodes), tuple(self._best_link(u, v) for u, v in itertools.pairwise(nodes))) for nodes in candidates
        ]
        return min(routes, key=lambda r: (-min(link.bandwidth for link in r[1]), [link.id for link in r[1]]))

    def paths(self, src: int, dst: int, limit: int = 4) -> tuple[tuple[Link, ...], ...]:
        """Up to ``limit`` simple routes (as link sequences), shortest first; for allocators that choose."""
        if self.shares_memory(src, dst):
            return ((),)
        import networkx as nx

        routes: list[tuple[Link, ...]] = []
        try:
            for nodes in nx.shortest_simple_paths(self._simple_graph, self.anchor(src), self.anchor(dst)):
                routes.append(tuple(self._best_link(u, v) for u, v in itertools.pairwise(nodes)))
                if len(routes) >= limit:
                    break
        except nx.NetworkXNoPath:
            return ()
        return tuple(routes)

    @functools.cached_property
    def _simple_graph(self) -> nx.DiGraph[int]:
        """The link graph with parallel links merged (what route searches walk)."""
        import networkx as nx

        return nx.DiGraph(self.graph)

    def _best_link(self, u: int, v: int) -> Link:
        return self.parallel(u, v)[0]

    def transfer_cycles(
        self,
        bits: int,
        path: tuple[Link, ...],
        src: int | None = None,
        dst: int | None = None,
        span_bytes: float | None = None,
    ) -> int:
        """Cycles a transfer of ``bits`` over ``path`` takes; 0 for an empty path.

        The link time is ``ceil(bits / narrowest bandwidth)``. When ``src`` (read side) or ``dst``
        (write side) has a measured :class:`BandwidthModel`, the transfer takes at least
        ``ceil(bits / (contiguous x efficiency(span)))`` there, as in Stream 2.1.1. ``span_bytes`` is
        the length of the transfer's contiguous runs; by default the whole transfer is one run.
        """
        if not path or bits <= 0:
            return 0
        cycles = math.ceil(bits / min(link.bandwidth for link in path))
        span = bits / 8 if span_bytes is None else span_bytes
        for core, direction in ((src, "read"), (dst, "write")):
            model = self.core_bandwidth.get(core) if core is not None else None
            if model is not None:
                cycles = max(cycles, model.cycles(bits, direction, span))
        return cycles

    def transfer_energy(self, bits: int, path: tuple[Link, ...]) -> float:
        return float(bits) * sum(link.energy_per_bit for link in path)
