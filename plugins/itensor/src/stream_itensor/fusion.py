"""Kernel fusion under an on-chip memory budget (StreamTensor's greedy topological grouping).

Kernels are visited in topological order. A kernel joins the current group when the group's memory
plus the kernel's local buffer plus the converter buffers of its edges from kernels already in the
group fit the budget; otherwise it starts a new group. Edges inside a group stream through FIFOs;
edges between groups go through external memory (the DMA reads in any order, so they need no
converter). Groups are contiguous runs of the topological order, so they can run one after the other.
A kernel that alone exceeds the budget still forms a group, marked ``over_budget``.

FIFO buffers are not counted here: their depths depend on the grouping and are sized afterwards.

A backend whose memory comes in blocks or whose compute is a scarce resource too (an FPGA's BRAM36,
URAM and DSPs per SLR) passes ``check``: called with the graph and a candidate group's kernels, it
returns ``None`` when they fit one placement unit, else the reason; a kernel joins only when both the
byte budget and the check accept the grown group.

The budget is given in bytes, or as an :class:`~stream_core.ir.Accelerator` whose on-chip capacity
(the sum of ``summary.memory_bits`` of every core that is not off-chip) is the budget, or ``None``
(unlimited: one group).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from stream_core.ir import Accelerator
from stream_itensor.graph import StreamEdge, StreamGraph


def budget_bits(budget: int | Accelerator | None) -> int | None:
    """The budget in bits: bytes x 8, an accelerator's summed on-chip capacity, or ``None``."""
    if budget is None:
        return None
    if isinstance(budget, Accelerator):
        return sum(core.summary.memory_bits for core in budget.cores.values() if core.kind != "offchip")
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ValueError(f"a memory budget is a non-negative number of bytes or an Accelerator, got {budget!r}")
    return budget * 8


@attrs.frozen
class FusionGroup:
    """Kernels fused into one dataflow region (one kernel / bitstream on an FPGA) and their memory."""

    name: str
    kernels: tuple[str, ...]
    local_bits: int
    converter_bits: int
    over_budget: bool = False
    #: Why the group alone does not fit (the ``check``'s reason), or ``""``.
    refusal: str = ""

    @property
    def memory_bits(self) -> int:
        return self.local_bits + self.converter_bits


@attrs.frozen
class FusionPlan:
    graph: StreamGraph
    groups: tuple[FusionGroup, ...]
    budget_bits: int | None
    _group_of: dict[str, str] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_group_of", {k: g.name for g in self.groups for k in g.kernels})

    def group_of(self, kernel: str) -> FusionGroup:
        name = self._group_of[kernel]
        return next(g for g in self.groups if g.name == name)

    def is_intra(self, edge: StreamEdge) -> bool:
        return self._group_of[edge.producer] == self._group_of[edge.consumer]

    def intra_edges(self, group: str) -> tuple[StreamEdge, ...]:
        """Edges streaming inside ``group`` (FIFOs and converters)."""
        return tuple(e for e in self.graph.edges if self._group_of[e.producer] == group and self.is_intra(e))

    @property
    def inter_edges(self) -> tuple[StreamEdge, ...]:
        """Edges through external memory."""
        return tuple(e for e in self.graph.edges if not self.is_intra(e))


#: ``check(graph, kernels)``: ``None`` when the kernels fit one placement unit, else the reason.
GroupCheck = Callable[[StreamGraph, tuple[str, ...]], str | None]


def fuse(graph: StreamGraph, budget: int | Accelerator | None = None, check: GroupCheck | None = None) -> FusionPlan:
    """Group the kernels of ``graph`` under ``budget`` and ``check`` (see the module docstring)."""
    limit = budget_bits(budget)
    groups: list[FusionGroup] = []
    members: list[str] = []
    local = converters = 0

    def close() -> None:
        refusal = (check(graph, tuple(members)) or "") if check is not None else ""
        over = (limit is not None and local + converters > limit) or bool(refusal)
        groups.append(FusionGroup(f"group{len(groups)}", tuple(members), local, converters, over, refusal))

    for kernel in graph.kernels:
        inside = set(members)
        extra = sum(
            e.converter.buffer_bits
            for e in graph.in_edges(kernel.name)
            if e.converter is not None and e.producer in inside
        )
        over = limit is not None and local + converters + kernel.local_bits + extra > limit
        if members and (over or (check is not None and check(graph, (*members, kernel.name)) is not None)):
            close()
            members, local, converters = [kernel.name], kernel.local_bits, 0
        else:
            members.append(kernel.name)
            local += kernel.local_bits
            converters += extra
    if members:
        close()
    return FusionPlan(graph, tuple(groups), limit)
