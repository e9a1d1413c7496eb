"""Transfer records of one transfer mode and their fixed layout inside the transfer's timeslot.

A *record* is one circuit-switched data movement: one source core, one or more destination cores
(several for a multicast: over one bus, or over the union of point-to-point routes), the links it
crosses, and its bits at every firing (read once at the source; each destination writes only the
piece it keeps); alone it lasts ``Accelerator.transfer_cycles`` (the narrowest
link, or longer where an end core has a measured bandwidth). Data between cores sharing a memory
stays in place and makes no record. All records of a transfer share its timeslot and get fixed
offsets (:func:`layout`): records sharing links either go one after another, or, when that is
shorter, all at once as a *bundle* sharing each link's bandwidth (as Stream shares a link between
the transfers on it), so many small pieces over a wide link take ``ceil(their bits / bandwidth)``
cycles together rather than a cycle each. The slot latency is the layout's makespan. A
point-to-point link is full duplex: its two directions are separate resources (:func:`oriented`);
a bus is one resource for all its cores.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import attrs
import numpy as np

from stream_core.ir.accelerator import Accelerator, Link, link_directions
from stream_tetra.iteration_space import ReuseLevel
from stream_tetra.pieces import Pieces

LinkKey = tuple[str, int]  # ("link", id) from a link's first core to its second, or a bus; ("link<", id) back


def oriented(links: Sequence[Link], src: int) -> tuple[LinkKey, ...]:
    """The key of each of ``links`` (a route or a multicast tree) in the direction data crosses it,
    walking outward from core ``src`` (:func:`stream_core.ir.link_directions`): ``("link", id)``
    leaving a point-to-point link's first core or crossing a bus, ``("link<", id)`` leaving its second."""
    backward = link_directions(links, src)
    missing = [link.id for link in links if link.id not in backward]
    if missing:
        raise ValueError(f"links {missing} are not reached from core {src}")
    return tuple(("link<" if backward[link.id] else "link", link.id) for link in links)


class RouteBook:
    """Candidate routes per (source, destination) core pair: the accelerator's preferred route first,
    then other simple routes (``Accelerator.paths``) that use no link twice (a route through a bus
    and back over the same bus is not an alternative), up to ``limit`` in all."""

    def __init__(self, accelerator: Accelerator, limit: int):
        self.accelerator = accelerator
        self.limit = max(1, limit)
        self._routes: dict[tuple[int, int], tuple[tuple[Link, ...], ...]] = {}

    def routes(self, src: int, dst: int) -> tuple[tuple[Link, ...], ...]:
        key = (src, dst)
        if key not in self._routes:
            best = self.accelerator.path(src, dst)
            others = [] if self.limit == 1 else self.accelerator.paths(src, dst, limit=self.limit + 1)
            distinct = [r for r in others if r != best and len({link.id for link in r}) == len(r)]
            out = [best, *distinct]
            self._routes[key] = tuple(out[: self.limit])
        return self._routes[key]

    def route(self, src: int, dst: int, plan: int) -> tuple[Link, ...]:
        options = self.routes(src, dst)
        return options[min(plan, len(options) - 1)]


@attrs.frozen
class Roles:
    """The operand roles (:class:`~stream_core.ir.OperandRole`) whose top memories a record reads at its
    source and writes at each destination (``writes`` in ``dsts`` order; ``None`` or missing: the core's
    default memory), priced by ``CoreSummary.read_energy`` / ``write_energy``."""

    read: str | None
    writes: tuple[str | None, ...]

    def write(self, i: int) -> str | None:
        return self.writes[i] if i < len(self.writes) else None


@attrs.frozen(eq=False)
class RecordSpec:
    src: int
    dsts: tuple[int, ...]
    links: tuple[Link, ...]
    bits: np.ndarray  # per firing
    accelerator: Accelerator = attrs.field(repr=False)
    offset: int = 0
    #: A scatter's energies per firing (each destination its own piece over its own route): on the
    #: links, and in the memories (read at the source, written at the destination); ``None``: ``bits``
    #: times the per-bit energies of every link and the source, ``kept`` times each destination's.
    scatter_pj: tuple[np.ndarray, np.ndarray] | None = None
    #: Per firing, the cycles the record's bundle keeps its links (:func:`layout`); ``None``: the
    #: record is laid out alone and keeps them for its own time.
    hold: np.ndarray | None = None
    #: The memory read at the source and written at every destination: the top memory of these
    #: operand roles (:class:`Roles`; Stream 2.1.1's ``PortRegistry.port_for``).
    roles: Roles = attrs.field(factory=lambda: Roles(None, ()))
    #: Per destination, in ``dsts`` order, the bits per firing it keeps: a receiver of a multicast
    #: writes only its own piece of the hull that crossed the links; empty: ``bits`` at each.
    kept: tuple[np.ndarray, ...] = ()

    def energies(self) -> tuple[np.ndarray, np.ndarray]:
        """pJ per firing on the links crossed and in the memories read (``bits`` at the source) and
        written (what each destination keeps)."""
        if self.scatter_pj is not None:
            return self.scatter_pj
        cores = self.accelerator.cores
        memory = self.bits * cores[self.src].summary.read_energy(self.roles.read)
        for i, d in enumerate(self.dsts):
            kept = self.kept[i] if self.kept else self.bits
            memory = memory + kept * cores[d].summary.write_energy(self.roles.write(i))
        return self.bits * sum(link.energy_per_bit for link in self.links), memory

    def timing(self, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per element of ``bits``: the cycles it takes, the slowest destination's
        ``Accelerator.transfer_cycles``, and that destination (the first of equals; a transfer record
        names it, so its duration can be checked from its two ends)."""
        values, inverse = np.unique(np.asarray(bits, dtype=np.int64), return_inverse=True)
        cycles, dsts = [], []
        for v in values:
            times = [self.accelerator.transfer_cycles(int(v), self.links, self.src, d) for d in self.dsts]
            slowest = times.index(max(times))
            cycles.append(times[slowest])
            dsts.append(self.dsts[slowest])
        shape = np.shape(bits)
        return (
            np.asarray(cycles, dtype=np.int64)[inverse].reshape(shape),
            np.asarray(dsts, dtype=np.int64)[inverse].reshape(shape),
        )

    def firing_timing(self) -> tuple[np.ndarray, np.ndarray]:
        """Per firing: the cycles the record keeps its links (its own :meth:`timing`, or its bundle's
        time) and the destination :meth:`timing` names; 0 cycles where it moves nothing."""
        cycles, dsts = self.timing(self.bits)
        if self.hold is not None:
            cycles = np.where(self.bits > 0, np.maximum(cycles, self.hold), 0)
        return cycles, dsts

    @functools.cached_property
    def max_cycles(self) -> int:
        """The longest firing (a measured bandwidth's efficiency grows with the size, so a smaller
        firing may take longer than the largest)."""
        return int(self.firing_timing()[0].max()) if len(self.bits) else 0

    @property
    def link_ids(self) -> tuple[int, ...]:
        return tuple(link.id for link in self.links)

    @functools.cached_property
    def link_keys(self) -> tuple[LinkKey, ...]:
        """The resource each link is in the direction this record crosses it (:func:`oriented`)."""
        return oriented(self.links, self.accelerator.anchor(self.src))


def build_records(
    pieces: Pieces,
    level: ReuseLevel | None,
    src_cores: Sequence[int],
    dst_cores: Sequence[int],
    plan: int,
    routes: RouteBook,
    roles: Roles,
) -> list[list[RecordSpec]]:
    """The record sets that may move ``pieces`` with the given core of every source and destination part;
    ``roles`` names the operand memory read at the source and, per destination part, the one written.

    Each source part's data is read once per memory it lands in: destination parts whose cores share a
    memory receive their hull once (when that is no more than their pieces). Memories reached over one
    bus get one bus multicast (when the hull is no more than the pieces; each keeps only its own piece,
    so disjoint pieces are a scatter: the hull read once, each piece written once); memories reached over
    point-to-point routes and needing the same data at every firing get it as one multicast over the
    union of their routes, read once and crossing each link once (as an AIE object FIFO broadcasts a
    tile; never more energy or link load than a unicast each). When several such records remain, one
    multicast of all their hull over the union of their routes (as stream-dse 2.1.1 sends a constant
    input down a multicast path) is taken when their pieces overlap (the hull is less than their bits)
    and that costs no more energy; it moves more bits over each link, so a second set, with the
    per-data records instead, is offered too. What is left leaving the source over one link goes as
    one scatter when that is faster (:func:`_scattered`)."""
    shared: list[RecordSpec] = []
    apart: list[RecordSpec] = []
    multicast = False
    acc = routes.accelerator
    for sp, s_core in enumerate(src_cores):
        bus_groups: dict[int, list[_Delivery]] = {}
        point_to_point: list[_Delivery] = []
        for delivery in _deliveries(pieces, level, sp, s_core, dst_cores, roles.writes, acc):
            route = routes.route(s_core, delivery.core, plan)
            if len(route) == 1 and route[0].kind == "bus":
                bus_groups.setdefault(route[0].id, []).append(delivery)
            else:
                point_to_point.append(delivery)
        common: list[RecordSpec] = []
        singles: list[RecordSpec] = []
        for _link_id, members in sorted(bus_groups.items()):
            link = routes.route(s_core, members[0].core, plan)
            if len(members) > 1:
                hull = pieces.multicast(level, sp, _parts(members))
                if int(hull.sum()) <= sum(int(m.bits.sum()) for m in members):
                    common.append(_record(s_core, members, link, hull, acc, roles.read))
                    continue
            singles.extend(_record(s_core, [m], link, m.bits, acc, roles.read) for m in members)
        copies = [
            _tree(s_core, same, [routes.route(s_core, m.core, plan) for m in same], acc, roles.read)
            for same in _alike(pieces, level, sp, point_to_point)
        ]
        apart += [*common, *_scattered(singles + copies)]
        if len(copies) > 1:
            hull = pieces.multicast(level, sp, _parts(point_to_point))
            together = _tree(s_core, point_to_point, [r.links for r in copies], acc, roles.read, hull)
            overlap = int(hull.sum()) < sum(int(r.bits.sum()) for r in copies)  # else pieces apart do better
            if overlap and _pj(together) <= sum(_pj(r) for r in copies):
                shared += [*common, together, *_scattered(singles)]
                multicast = True
                continue
        shared += [*common, *_scattered(singles + copies)]
    return [layout(shared), layout(apart)] if multicast else [layout(shared)]


def _alike(pieces: Pieces, level: ReuseLevel | None, sp: int, deliveries: list[_Delivery]) -> list[list[_Delivery]]:
    """``deliveries`` in classes receiving the same data at every firing (their hull is each one's box),
    in order of first member."""
    classes: list[list[_Delivery]] = []
    for delivery in deliveries:
        for same in classes:
            first = same[0]
            if np.array_equal(first.bits, delivery.bits) and np.array_equal(
                pieces.multicast(level, sp, first.parts + delivery.parts), first.bits
            ):
                same.append(delivery)
                break
        else:
            classes.append([delivery])
    return classes


def _tree(
    src: int,
    members: Sequence[_Delivery],
    paths: Sequence[tuple[Link, ...]],
    acc: Accelerator,
    read: str | None,
    bits: np.ndarray | None = None,
) -> RecordSpec:
    """One record from ``src`` to every member over the union of ``paths`` (one member: its unicast),
    carrying ``bits`` (default: the first member's)."""
    tree = {link.id: link for path in paths for link in path}
    return _record(src, members, tuple(tree.values()), members[0].bits if bits is None else bits, acc, read)


def _record(
    src: int,
    members: Sequence[_Delivery],
    links: tuple[Link, ...],
    bits: np.ndarray,
    acc: Accelerator,
    read: str | None,
) -> RecordSpec:
    """One record from ``src`` to ``members`` (in core order) over ``links``, reading ``bits`` from the
    memory of role ``read`` at the source and writing each member's own bits into its role's memory."""
    ordered = sorted(members, key=lambda m: m.core)
    roles = Roles(read, tuple(m.role for m in ordered))
    kept = tuple(m.bits for m in ordered)
    return RecordSpec(src, tuple(m.core for m in ordered), links, bits, acc, roles=roles, kept=kept)


def _scattered(singles: list[RecordSpec]) -> list[RecordSpec]:
    """Unicasts from one source leaving it over the same link, as one scatter when that takes fewer
    cycles than their sequence and no more than their bundle (:func:`shared_cycles`)."""
    by_first: dict[int, list[RecordSpec]] = {}
    for record in singles:
        by_first.setdefault(record.links[0].id, []).append(record)
    out: list[RecordSpec] = []
    for group in by_first.values():
        if len(group) > 1:
            links = {link.id: link for r in group for link in r.links}
            parts = [r.energies() for r in group]
            scatter = RecordSpec(
                group[0].src,
                tuple(sorted({d for r in group for d in r.dsts})),
                tuple(links.values()),
                np.sum([r.bits for r in group], axis=0),
                group[0].accelerator,
                scatter_pj=(np.sum([p[0] for p in parts], axis=0), np.sum([p[1] for p in parts], axis=0)),
            )
            together = shared_cycles(group)
            faster = scatter.max_cycles < sum(r.max_cycles for r in group)
            if faster and (together is None or scatter.max_cycles <= together.max()):
                out.append(scatter)
                continue
        out.extend(group)
    return out


def _pj(record: RecordSpec) -> float:
    """All the energy of a record's firings."""
    return float(sum(part.sum() for part in record.energies()))


@attrs.frozen(eq=False)
class _Delivery:
    """What one memory receives from one source part: the destination parts whose cores use it, the core
    named as the destination (the first of them), the bits per firing, and the operand role whose
    memory takes them (the first part's)."""

    parts: tuple[int, ...]
    core: int
    bits: np.ndarray
    role: str | None


def _deliveries(
    pieces: Pieces,
    level: ReuseLevel | None,
    sp: int,
    s_core: int,
    dst_cores: Sequence[int],
    roles: Sequence[str | None],
    acc: Accelerator,
) -> list[_Delivery]:
    by_memory: dict[int, list[tuple[int, int]]] = {}
    for dp, d_core in enumerate(dst_cores):
        if not acc.shares_memory(s_core, d_core):  # else the same core, or one memory: the data is in place
            by_memory.setdefault(acc.memory_of(d_core), []).append((dp, d_core))
    out = []
    for members in by_memory.values():
        parts = tuple(dp for dp, _ in members)
        each = [pieces.piece(level, sp, dp) for dp in parts]
        if len(parts) > 1:
            shared = pieces.multicast(level, sp, parts)
            if int(shared.sum()) <= sum(int(b.sum()) for b in each):
                out.append(_Delivery(parts, members[0][1], shared, roles[parts[0]]))
                continue
        out.extend(_Delivery((dp,), d_core, b, roles[dp]) for (dp, d_core), b in zip(members, each, strict=True))
    return [d for d in out if d.bits.any()]


def _parts(members: Sequence[_Delivery]) -> tuple[int, ...]:
    return tuple(p for m in members for p in m.parts)


def layout(records: list[RecordSpec]) -> list[RecordSpec]:
    """Fixed offsets. Records connected by shared links (a *component*) go one after another, longest
    first, each as early as all of its links are free; or, when that ends later than their bundle
    (:func:`shared_cycles`), all from offset 0 for the bundle's time. Records keep their order."""
    ordered = sorted(records, key=lambda r: (-r.max_cycles, r.src, r.dsts, r.link_ids))
    placed: dict[int, RecordSpec] = {}
    for component in _components(ordered):
        free: dict[LinkKey, int] = {}
        sequence = []
        for record in component:
            offset = max((free.get(k, 0) for k in record.link_keys), default=0)
            for k in record.link_keys:
                free[k] = offset + record.max_cycles
            sequence.append(attrs.evolve(record, offset=offset))
        together = shared_cycles(component) if len(component) > 1 else None
        if together is not None and together.max() < max(free.values()):
            sequence = [attrs.evolve(record, offset=0, hold=together) for record in component]
        placed.update((id(record), out) for record, out in zip(component, sequence, strict=True))
    return [placed[id(record)] for record in ordered]


def _components(records: list[RecordSpec]) -> list[list[RecordSpec]]:
    """``records`` grouped by shared links in the same direction (connected through chains of them),
    in order."""
    root: dict[LinkKey, LinkKey] = {}

    def find(k: LinkKey) -> LinkKey:
        while root.setdefault(k, k) != k:
            k = root[k]
        return k

    for record in records:
        for k in record.link_keys[1:]:
            root[find(k)] = find(record.link_keys[0])
    groups: dict[LinkKey, list[RecordSpec]] = {}
    for record in records:
        groups.setdefault(find(record.link_keys[0]), []).append(record)
    return list(groups.values())


def shared_cycles(records: Sequence[RecordSpec]) -> np.ndarray | None:
    """Per firing, the cycles ``records`` take all at once sharing their links: the most loaded link
    direction's ``ceil(bits / bandwidth)`` (each record moves its bits at an even rate over all of its links, so no
    link carries more than its bandwidth in any cycle). ``None`` when an end core has a measured
    bandwidth: that is measured for one transfer, so such records go one after another."""
    acc = records[0].accelerator
    if any(core in acc.core_bandwidth for r in records for core in (r.src, *r.dsts)):
        return None
    load: dict[LinkKey, np.ndarray] = {}
    bandwidth: dict[LinkKey, float] = {}
    for record in records:
        for link, key in zip(record.links, record.link_keys, strict=True):
            load[key] = load.get(key, 0) + record.bits
            bandwidth[key] = link.bandwidth
    return np.max([np.ceil(load[i] / bandwidth[i]).astype(np.int64) for i in load], axis=0)


def busy(records: Sequence[RecordSpec]) -> dict[LinkKey, tuple[int, int]]:
    """Per link direction (:func:`oriented`): first start and last end offset of the records inside the slot."""
    out: dict[LinkKey, tuple[int, int]] = {}
    for record in records:
        end = record.offset + record.max_cycles
        if record.max_cycles == 0:
            continue
        for k in record.link_keys:
            lo, hi = out.get(k, (math.inf, 0))
            out[k] = (int(min(lo, record.offset)), int(max(hi, end)))
    return out
