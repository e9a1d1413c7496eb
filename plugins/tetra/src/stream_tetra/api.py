"""Public API for packages that add constraints to the TETRA MILP (version 0.1).

Another package implements the hook ``tetra_register_constraints`` (see
:mod:`stream_tetra.hookspecs`) and returns :class:`ConstraintFamily` records. For every fused
group whose accelerator has a core of one of the family's ``namespaces``, the allocator calls
``family.build(ctx)`` with a :class:`ModelContext` after the built-in variables and constraints
exist and before solving. Everything a family may use is on the context; it is stable within
API version 0.1 (new members may be added, none removed or changed).

Vocabulary:

* *buffer*: data a core holds for one transfer (its destination side), or a node's output
  boxes on the producing core. A buffer has *levels* (Stream's stop levels ``s``; ``-1``: one tile
  at a time); each level has ``tiles`` (tiles resident, ring depth included), ``reuse`` (steps
  served per transfer), ``bds`` (buffer descriptors a memory tile would need), ``bits`` and a
  ``resident`` indicator ``w[t,c,s]`` (a linear expression that is 1 when the buffer sits on that
  core at that level in the chosen solution, else 0).
* *transfer*: one tensor edge (off-chip input, producer to consumer, or write-back). ``into(c)`` /
  ``out_of(c)`` are 0/1 expressions telling whether it moves data into / out of core ``c`` (a DMA
  channel in use). ``slot`` is its timeslot.
* ``latency`` is the variable of the first lexicographic level (the group's latency in cycles),
  ``interval`` the iteration interval ``II`` (cycles between the starts of consecutive iterations),
  ``slot_start(s)`` the start of slot ``s`` within an iteration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from stream_core.ir.accelerator import Accelerator, Core
from stream_core.ir.lp import Constraint, LinExpr, Model, Var

API_VERSION = "0.1"


def _namespaces(items: Iterable[str]) -> frozenset[str]:
    return frozenset(items)


@attrs.frozen
class ConstraintFamily:
    """A named group of constraints (and optional objective terms) added to every group's MILP.

    ``namespaces``: core-type namespaces (``"aie2"``, ``"zigzag"``, ...) the family applies to; it is
    built only when the accelerator has at least one core of one of them (empty: always).
    ``build(ctx)`` adds variables, constraints and objective terms through ``ctx``.
    """

    name: str
    build: Callable[[ModelContext], None] = attrs.field(eq=False)
    namespaces: frozenset[str] = attrs.field(default=frozenset(), converter=_namespaces)
    description: str = ""

    def applies_to(self, accelerator: Accelerator) -> bool:
        if not self.namespaces:
            return True
        return any(core.namespace in self.namespaces for core in accelerator.cores.values())


@attrs.frozen
class BufferLevel:
    level: int
    tiles: int
    reuse: int
    bds: int
    bits: int
    resident: LinExpr = attrs.field(eq=False)


@attrs.frozen
class BufferView:
    name: str
    tensor: str
    node: str
    role: str  # "input" (from off-chip), "intermediate" (from a producer in the group), "output"
    core: int
    levels: tuple[BufferLevel, ...]


@attrs.frozen
class TransferView:
    name: str
    tensor: str
    kind: str  # "input" | "edge" | "output"
    slot: int
    _into: Mapping[int, LinExpr] = attrs.field(eq=False, repr=False)
    _out_of: Mapping[int, LinExpr] = attrs.field(eq=False, repr=False)

    def into(self, core: int) -> LinExpr:
        return self._into.get(core, LinExpr())

    def out_of(self, core: int) -> LinExpr:
        return self._out_of.get(core, LinExpr())


@attrs.frozen
class Capacity:
    """A ``demand <= capacity`` constraint registered for infeasibility reports."""

    family: str
    name: str
    core: int
    demand: LinExpr = attrs.field(eq=False)
    capacity: float
    unit: str
    terms: tuple[tuple[str, LinExpr], ...] = attrs.field(default=(), eq=False)


@attrs.frozen
class ObjectiveTerm:
    name: str
    expr: LinExpr = attrs.field(eq=False)
    priority: int


class ModelContext:
    """What a :class:`ConstraintFamily` sees of one group's MILP (API version 0.1)."""

    version = API_VERSION

    def __init__(
        self,
        *,
        model: Model,
        accelerator: Accelerator,
        group: str,
        nodes: tuple[str, ...],
        iterations: int,
        latency: Var,
        interval: LinExpr,
        slot_starts: tuple[Var, ...],
        buffers: tuple[BufferView, ...],
        transfers: tuple[TransferView, ...],
        placement: Mapping[str, Mapping[int, LinExpr]],
        settings: Mapping[str, Any],
    ):
        self.model = model
        self.accelerator = accelerator
        self.group = group
        self.nodes = nodes
        self.iterations = iterations
        self.latency = latency
        self.interval = interval
        self._slot_starts = slot_starts
        self.buffers = buffers
        self.transfers = transfers
        self._placement = placement
        self._settings = dict(settings)
        self.family = ""
        self.capacities: list[Capacity] = []
        self.violated: list[Capacity] = []
        self.added: list[Constraint] = []
        self.latency_terms: list[LinExpr] = []
        self.objectives: list[ObjectiveTerm] = []

    # -- facts ----------------------------------------------------------------------------------
    @property
    def n_slots(self) -> int:
        return len(self._slot_starts) - 1

    def slot_start(self, slot: int) -> Var:
        """Start of timeslot ``slot`` inside an iteration (``slot_start(n_slots)`` = the period)."""
        return self._slot_starts[slot]

    def slot_latency(self, slot: int) -> LinExpr:
        return self._slot_starts[slot + 1] - self._slot_starts[slot]

    def cores(self, namespace: str | None = None, kind: str | None = None) -> tuple[Core, ...]:
        """The accelerator's cores, optionally only those of a namespace and/or kind, by id."""
        return tuple(
            core
            for _, core in sorted(self.accelerator.cores.items())
            if (namespace is None or core.namespace == namespace) and (kind is None or core.kind == kind)
        )

    def buffers_on(self, core: int) -> tuple[BufferView, ...]:
        return tuple(b for b in self.buffers if b.core == core)

    def placed_on(self, node: str, core: int) -> LinExpr:
        """1 when ``node`` (or one of its parts) runs on ``core``."""
        return self._placement.get(node, {}).get(core, LinExpr())

    def dma_in(self, core: int) -> LinExpr:
        """Number of transfers that move data into ``core`` (distinct tensor edges)."""
        return Model.sum(t.into(core) for t in self.transfers)

    def dma_out(self, core: int) -> LinExpr:
        return Model.sum(t.out_of(core) for t in self.transfers)

    def setting(self, key: str, default: Any = None) -> Any:
        """A run setting (``--set key=value``), e.g. ``ctx.setting("aie.max_dma", 8)``."""
        return self._settings.get(key, default)

    # -- additions --------------------------------------------------------------------------------
    def add(self, constraint: Constraint, name: str) -> Constraint:
        """Add a constraint; ``name`` is prefixed with the family name for infeasibility reports."""
        added = self.model.add(constraint, name=f"{self.family}:{name}" if self.family else name)
        self.added.append(added)
        return added

    def add_capacity(
        self,
        name: str,
        core: int,
        demand: LinExpr,
        capacity: float,
        unit: str = "bits",
        terms: Iterable[tuple[str, LinExpr]] = (),
    ) -> None:
        """Add ``demand <= capacity`` for ``core``; an infeasible model then reports the smallest
        demand any allocation reaches on that core, with ``terms`` (labelled parts of the demand).
        A demand without variables is checked at once (no constraint is added)."""
        demand = LinExpr.of(demand)
        record = Capacity(self.family, name, core, demand, capacity, unit, tuple(terms))
        self.capacities.append(record)
        if demand.terms:
            self.add(demand <= capacity, f"{name}[core {core}]")
        elif demand.constant > capacity:
            self.violated.append(record)

    def add_latency_term(self, expr: LinExpr | Var) -> None:
        """Add ``expr`` to the first objective level (as Stream adds the DMA channel peaks)."""
        self.latency_terms.append(LinExpr.of(expr))

    def add_objective(self, name: str, expr: LinExpr | Var, priority: int) -> None:
        """A further objective level minimised after the built-in ones; higher ``priority`` first."""
        self.objectives.append(ObjectiveTerm(name, LinExpr.of(expr), priority))
