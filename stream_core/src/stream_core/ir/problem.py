"""What an allocator receives: the costed, tiled, mapped workload on its accelerator."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import attrs

from stream_core.ir.accelerator import Accelerator
from stream_core.ir.cost import CostResult
from stream_core.ir.mapping import FusedGroup, Mapping
from stream_core.ir.workload import Workload
from stream_core.tiling import NodeTiling


class CostTable:
    """Cost results per (node, core, tile shape), the model asked for each, and counts of how they
    were obtained."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, int, tuple[int, ...]], CostResult] = {}
        self._asked: dict[tuple[str, int, tuple[int, ...]], str] = {}
        self.stats: Counter[str] = Counter()

    def add(self, node: str, core: int, shape: tuple[int, ...], result: CostResult, asked: str = "") -> None:
        """Record ``result``; ``asked`` names the model that was asked when another one answered."""
        self._entries[(node, core, shape)] = result
        self._asked[(node, core, shape)] = asked or result.model

    def get(self, node: str, core: int, shape: tuple[int, ...]) -> CostResult:
        return self._entries[(node, core, shape)]

    def feasible(self, node: str, core: int, shapes: Iterable[tuple[int, ...]]) -> bool:
        return all(self._entries[(node, core, s)].feasible for s in shapes)

    def items(self) -> Iterable[tuple[tuple[str, int, tuple[int, ...]], CostResult]]:
        return self._entries.items()

    def models_used(self) -> Counter[str]:
        return Counter(r.model for r in self._entries.values() if r.feasible)

    def asked(self, node: str, core: int, shape: tuple[int, ...]) -> str:
        return self._asked[(node, core, shape)]


@attrs.frozen
class AllocationProblem:
    """Everything an allocator needs: the workload, hardware, mapping, tilings and costs."""

    workload: Workload
    accelerator: Accelerator
    mapping: Mapping
    tilings: dict[str, NodeTiling]
    costs: CostTable
    #: The workload and mapping as the user or mapper gave them, when split reductions were made explicit
    #: in ``workload`` and ``mapping`` (:func:`stream_core.reductions.lower_split_reductions`); ``None``
    #: when they are the ones given.
    unlowered: tuple[Workload, Mapping] | None = None

    @property
    def as_given(self) -> tuple[Workload, Mapping]:
        """The workload and mapping before split reductions were made explicit (a mapping file's terms)."""
        return self.unlowered or (self.workload, self.mapping)

    def candidate_cores(self, node: str) -> tuple[int, ...]:
        """Cores the node may run on (pinned parts or candidates) whose costs are feasible."""
        tiling = self.tilings[node]
        shapes = list(tiling.shapes())
        return tuple(c for c in dict.fromkeys(tiling.mapping.cores) if self.costs.feasible(node, c, shapes))

    def drain(self, group: FusedGroup) -> int:
        """Cycles the group's last results take to leave the systolic arrays computing them, after its
        last tile. A cost result's ``drain_cycles`` detail is not in its latency (the next tile enters
        the array behind it), so, as stream-dse 2.1.1 does, a group ends the longest chain of drains
        through its nodes after its last activity; a node's drain is the largest of its tiles'."""
        members = set(group.nodes)
        own: dict[str, int] = {}
        for (name, _core, _shape), result in self.costs.items():
            if name in members:
                own[name] = max(own.get(name, 0), math.ceil(result.detail("drain_cycles", 0) or 0))
        if not any(own.values()):
            return 0
        chain: dict[str, int] = {}
        for node in self.workload.nodes:
            if node.name in members:
                before = (self.workload.producer(op.tensor) for op in node.reads)
                chain[node.name] = own.get(node.name, 0) + max(
                    (chain.get(p.name, 0) for p in before if p is not None and p.name in members), default=0
                )
        return max(chain.values(), default=0)
