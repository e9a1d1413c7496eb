"""Transfer records of one transfer mode and their fixed layout inside the transfer's timeslot.

A *record* is one circuit-switched data movement: one source core, one or more destination cores
(several only for a bus multicast), the links of its route, and its bits at every firing; it lasts
``Accelerator.transfer_cycles`` (the narrowest link, or longer where an end core has a measured
bandwidth). Data between cores sharing a memory stays in place and makes no record. All
records of a transfer share its timeslot; each gets a fixed offset computed with its longest
firing, so at every firing the records occupy disjoint link intervals and the slot latency is the
layout's makespan.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import attrs
import numpy as np

from stream_core.ir.accelerator import Accelerator, Link
from stream_tetra.iteration_space import ReuseLevel
from stream_tetra.pieces import Pieces


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


@attrs.frozen(eq=False)
class RecordSpec:
    src: int
    dsts: tuple[int, ...]
    links: tuple[Link, ...]
    bits: np.ndarray  # per firing
    accelerator: Accelerator = attrs.field(repr=False)
    offset: int = 0

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

    @functools.cached_property
    def max_cycles(self) -> int:
        """The longest firing (a measured bandwidth's efficiency grows with the size, so a smaller
        firing may take longer than the largest)."""
        return int(self.timing(self.bits)[0].max()) if len(self.bits) else 0

    @property
    def link_ids(self) -> tuple[int, ...]:
        return tuple(link.id for link in self.links)


def build_records(
    pieces: Pieces,
    level: ReuseLevel | None,
    src_cores: Sequence[int],
    dst_cores: Sequence[int],
    plan: int,
    routes: RouteBook,
) -> list[RecordSpec]:
    """Records moving ``pieces`` with the given core of every source and destination part."""
    records: list[RecordSpec] = []
    acc = routes.accelerator
    for sp, s_core in enumerate(src_cores):
        bus_groups: dict[int, list[tuple[int, int, np.ndarray]]] = {}
        for dp, d_core in enumerate(dst_cores):
            if acc.shares_memory(s_core, d_core):  # the same core, or one memory: the data is in place
                continue
            bits = pieces.piece(level, sp, dp)
            if not bits.any():
                continue
            route = routes.route(s_core, d_core, plan)
            if len(route) == 1 and route[0].kind == "bus":
                bus_groups.setdefault(route[0].id, []).append((dp, d_core, bits))
            else:
                records.append(RecordSpec(s_core, (d_core,), route, bits, acc))
        for _link_id, members in sorted(bus_groups.items()):
            link = routes.route(s_core, members[0][1], plan)
            if len(members) > 1:
                shared = pieces.multicast(level, sp, tuple(m[0] for m in members))
                if int(shared.sum()) <= sum(int(m[2].sum()) for m in members):
                    dsts = tuple(sorted({m[1] for m in members}))  # parts on one core receive it once
                    records.append(RecordSpec(s_core, dsts, link, shared, acc))
                    continue
            records.extend(RecordSpec(s_core, (d_core,), link, bits, acc) for _dp, d_core, bits in members)
    return layout(records)


def layout(records: list[RecordSpec]) -> list[RecordSpec]:
    """Fixed offsets: longest records first, each as early as all of its links are free."""
    ordered = sorted(records, key=lambda r: (-r.max_cycles, r.src, r.dsts, r.link_ids))
    free: dict[int, int] = {}
    out = []
    for record in ordered:
        offset = max((free.get(i, 0) for i in record.link_ids), default=0)
        end = offset + record.max_cycles
        for i in record.link_ids:
            free[i] = end
        out.append(attrs.evolve(record, offset=offset))
    return out


def busy(records: Sequence[RecordSpec]) -> dict[tuple[str, int], tuple[int, int]]:
    """Per link: first start and last end offset of the records inside the slot."""
    out: dict[tuple[str, int], tuple[int, int]] = {}
    for record in records:
        end = record.offset + record.max_cycles
        if record.max_cycles == 0:
            continue
        for i in record.link_ids:
            lo, hi = out.get(("link", i), (math.inf, 0))
            out[("link", i)] = (int(min(lo, record.offset)), int(max(hi, end)))
    return out
