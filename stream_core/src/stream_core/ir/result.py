"""Result IR: the schedule an allocator produced and the totals derived from it.

Times are in cycles of the modelled accelerator, energies in pJ, sizes in bits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from itertools import repeat
from typing import Any, TypeVar

import attrs

from stream_core.ir.workload import NodeKind, Workload

R = TypeVar("R", bound=attrs.AttrsInstance)


# Named, typed converters (each field keeps its own copy): mypy's attrs plugin cannot bind a bare ``dict``.
def _per_core(values: Mapping[int, float]) -> dict[int, float]:
    return dict(values)


def _per_name(values: Mapping[str, float]) -> dict[str, float]:
    return dict(values)


def _occupancy(steps: Mapping[int, tuple[tuple[int, int], ...]]) -> dict[int, tuple[tuple[int, int], ...]]:
    return dict(steps)


def _labels(values: Mapping[str, str]) -> dict[str, str]:
    return dict(values)


def _stats(values: Mapping[str, Any]) -> dict[str, Any]:
    return dict(values)


def _node_costs(costs: Mapping[str, Mapping[str, str]]) -> dict[str, Mapping[str, str]]:
    return dict(costs)


@attrs.frozen
class TileRecord:
    """One tile of a node executed on a core."""

    node: str
    index: int
    core: int
    start: int
    end: int
    energy_pj: float
    cost_model: str
    group: str = ""

    @property
    def duration(self) -> int:
        return self.end - self.start


@attrs.frozen
class TransferRecord:
    """Data moved from one core to another over ``links`` (link ids, in order)."""

    tensor: str
    src: int
    dst: int
    links: tuple[int, ...] = attrs.field(converter=tuple[int, ...])
    start: int
    end: int
    bits: int
    energy_pj: float
    reason: str = "operand"

    @property
    def duration(self) -> int:
        return self.end - self.start


@attrs.frozen
class GroupRecord:
    name: str
    start: int
    end: int
    allocator: str = ""
    stats: tuple[tuple[str, Any], ...] = attrs.field(default=(), converter=lambda s: tuple(dict(s).items()))

    @property
    def latency(self) -> int:
        return self.end - self.start


@attrs.frozen
class Totals:
    """Totals of a run; ``energy_pj`` is the sum of the three parts, ``edp`` = energy x latency.

    ``energy_not_in_stream_pj`` names the parts of ``energy_pj`` that Stream 2.1.1 does not count
    (:func:`energy_not_in_stream`), so ``stream_comparable_energy_pj`` counts what Stream counts:
    each tile's cost-model energy, and each transfer's bits times the energy per bit of the memory
    it reads, the memories it writes and the links it crosses.
    """

    latency: int
    compute_energy_pj: float
    transfer_energy_pj: float
    memory_energy_pj: float
    utilisation: Mapping[int, float] = attrs.field(converter=_per_core)
    energy_not_in_stream_pj: Mapping[str, float] = attrs.field(factory=dict, converter=_per_name)

    @property
    def energy_pj(self) -> float:
        return self.compute_energy_pj + self.transfer_energy_pj + self.memory_energy_pj

    @property
    def stream_comparable_energy_pj(self) -> float:
        return self.energy_pj - sum(self.energy_not_in_stream_pj.values())

    @property
    def edp(self) -> float:
        return self.energy_pj * self.latency


@attrs.frozen
class GroupBound:
    """Cycles no schedule of one fused group can beat: ``compute`` (every tile at its fastest allowed
    core, spread at best over the group's cores) and ``offchip`` (the off-chip bits the group must
    move, at the full bandwidth of the links at the off-chip memory)."""

    group: str
    compute: int
    offchip: int
    offchip_bits: int = 0

    @property
    def cycles(self) -> int:
        return max(self.compute, self.offchip)


@attrs.frozen
class LowerBound:
    """A lower bound on a run's latency: groups run one after the other, so their bounds add up."""

    groups: tuple[GroupBound, ...] = attrs.field(converter=tuple[GroupBound, ...])

    @property
    def cycles(self) -> int:
        return sum(g.cycles for g in self.groups)

    @property
    def compute(self) -> int:
        return sum(g.compute for g in self.groups)

    @property
    def offchip(self) -> int:
        return sum(g.offchip for g in self.groups)


@attrs.frozen
class Result:
    """Everything a run produced. ``memory`` maps a core to its occupancy steps ``(cycle, bits)``."""

    workload: str
    accelerator: str
    tiles: tuple[TileRecord, ...] = attrs.field(converter=tuple[TileRecord, ...])
    transfers: tuple[TransferRecord, ...] = attrs.field(converter=tuple[TransferRecord, ...])
    memory: Mapping[int, tuple[tuple[int, int], ...]] = attrs.field(converter=_occupancy)
    groups: tuple[GroupRecord, ...] = attrs.field(converter=tuple[GroupRecord, ...])
    totals: Totals
    provenance: Mapping[str, str] = attrs.field(factory=dict, converter=_labels)
    stats: Mapping[str, Any] = attrs.field(factory=dict, converter=_stats)
    warnings: tuple[str, ...] = attrs.field(default=(), converter=tuple[str, ...])
    #: Inputs accepted but not (fully) modelled, and what an installed plugin would change; one sentence each.
    notes: tuple[str, ...] = attrs.field(default=(), converter=tuple[str, ...])
    #: Per node, how its costs were obtained: ``cost_model`` and, when known, ``fallback_reason``,
    #: ``precision`` and ``precision_fallback`` (see :class:`~stream_core.ir.cost.CostResult`).
    node_costs: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict, converter=_node_costs)
    #: A latency no schedule of this mapping can beat (``None``: the allocator gives none).
    lower_bound: LowerBound | None = None
    #: What the allocator proved and what schedule it realised, one sentence each; an optimality claim
    #: names the model it holds for (e.g. "optimal for the steady-state model"), never a bare "optimal".
    optimality: tuple[str, ...] = attrs.field(default=(), converter=tuple[str, ...])

    def node_rows(self) -> list[dict[str, Any]]:
        """One row per node: cores used, first start, last end, busy cycles, energy, and how it was
        costed (:attr:`node_costs`)."""
        rows: dict[str, dict[str, Any]] = {}
        for t in self.tiles:
            row = rows.setdefault(
                t.node,
                {
                    "node": t.node,
                    "group": t.group,
                    "cores": set(),
                    "start": t.start,
                    "end": t.end,
                    "busy_cycles": 0,
                    "energy_pj": 0.0,
                    "tiles": 0,
                    "cost_model": t.cost_model,
                },
            )
            row["cores"].add(t.core)
            row["start"] = min(row["start"], t.start)
            row["end"] = max(row["end"], t.end)
            row["busy_cycles"] += t.duration
            row["energy_pj"] += t.energy_pj
            row["tiles"] += 1
        out = []
        for row in rows.values():
            row["cores"] = sorted(row["cores"])
            row.update(self.node_costs.get(row["node"], {}))
            out.append(row)
        return sorted(out, key=lambda r: (r["start"], r["node"]))

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        """Pickled with its tiles and transfers as one list per field (:func:`_rebuild_result`): a
        result of 50,000 records loads 3x faster than record by record (each set by attrs' ``__setstate__``)."""
        fields = {f.name: getattr(self, f.name) for f in attrs.fields(Result)}
        fields["tiles"] = _columns(TileRecord, self.tiles)
        fields["transfers"] = _columns(TransferRecord, self.transfers)
        return _rebuild_result, (fields,)


def _columns(cls: type, records: tuple[Any, ...]) -> list[list[Any]]:
    """The values of ``records`` (instances of the attrs class ``cls``), one list per field."""
    return [[getattr(r, f.name) for r in records] for f in attrs.fields(cls)]


def _records(cls: type[R], columns: list[list[Any]]) -> tuple[R, ...]:
    """The records :func:`_columns` took apart, their slots set directly (the values were fields of
    records, so converters have nothing to do); columns that do not fit ``cls`` are a ValueError."""
    names = [f.name for f in attrs.fields(cls)]
    count = len(columns[0]) if columns else 0
    if len(columns) != len(names) or any(len(column) != count for column in columns):
        raise ValueError(f"columns of another shape than {cls.__name__}'s fields")
    records = list(map(object.__new__, repeat(cls, count)))
    for name, column in zip(names, columns, strict=True):
        deque(map(vars(cls)[name].__set__, records, column), maxlen=0)  # slot setters called in C
    return tuple(records)


def _rebuild_result(fields: dict[str, Any]) -> Result:
    """The :class:`Result` pickled by :meth:`Result.__reduce__`."""
    tiles, transfers = _records(TileRecord, fields["tiles"]), _records(TransferRecord, fields["transfers"])
    return Result(**{**fields, "tiles": tiles, "transfers": transfers})


def energy_not_in_stream(
    workload: Workload, node_energy: Mapping[str, float], partial_sums_memory: float = 0.0
) -> dict[str, float]:
    """The parts of a run's energy that Stream 2.1.1 does not count: ``layout_nodes``, the tiles of
    data-movement nodes (Transpose, Reshape, Flatten, ...; ``node_energy``: compute pJ per node), which
    Stream folds into their readers' access maps and prices no node for; for a reduction split over cores
    (:mod:`stream_core.reductions`), which Stream does not add up, ``split_reduction_adds``, the adds'
    tiles, and ``split_reduction_partials``, ``partial_sums_memory``: the memory energy of moving the
    partial sums (:attr:`Workload.partial_sum_tensors`) between cores (Stream prices only the links they
    cross). Empty parts are left out."""
    parts = {"layout_nodes": 0.0, "split_reduction_adds": 0.0, "split_reduction_partials": partial_sums_memory}
    for name, energy in node_energy.items():
        node = workload.node(name)
        if node.kind is NodeKind.DATA_MOVEMENT:
            parts["layout_nodes"] += energy
        elif node.adds_partial_sums:
            parts["split_reduction_adds"] += energy
    return {part: energy for part, energy in parts.items() if energy}
