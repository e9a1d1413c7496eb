"""Cost IR: what a cost model is asked (a tile of a node on a core) and what it answers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from stream_core.ir.accelerator import Core
from stream_core.ir.mapping import Kernel
from stream_core.ir.workload import Node


@attrs.frozen
class CostRequest:
    """Cost ``node`` (already resized to one tile of one core's part) on ``core``."""

    node: Node
    core: Core
    kernel: Kernel | None = None
    #: Cost-model hints from the mapping (e.g. ZigZag ``spatial_mapping``), as frozen pairs.
    hints: tuple[tuple[str, Any], ...] = ()

    def hint(self, key: str, default: Any = None) -> Any:
        return dict(self.hints).get(key, default)

    @property
    def key(self) -> str:
        """Content hash: equal keys mean equal answers from the same model and settings."""
        kernel = "" if self.kernel is None else f"{self.kernel.name}{self.kernel.kwargs!r}"
        text = f"{self.node.signature()}|{self.core.fingerprint()}|{kernel}|{self.hints!r}"
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@attrs.frozen
class CostResult:
    """Latency (cycles) and energy (pJ) of one request, and which model produced them.

    An infeasible result (``feasible=False``) says why in ``reason`` (e.g. which memory is too small for
    which operand, bits needed versus available) so the mapper or user can tile smaller.
    """

    latency: int
    energy_pj: float
    model: str
    ideal_cycles: int = 0
    feasible: bool = True
    reason: str = ""
    memory_utilisation: tuple[tuple[str, float], ...] = attrs.field(
        default=(), converter=lambda m: tuple(m.items()) if isinstance(m, Mapping) else tuple(m)
    )
    details: tuple[tuple[str, Any], ...] = attrs.field(
        default=(), converter=lambda m: tuple(m.items()) if isinstance(m, Mapping) else tuple(m)
    )

    @classmethod
    def infeasible(cls, model: str, reason: str) -> CostResult:
        return cls(latency=0, energy_pj=0.0, model=model, feasible=False, reason=reason)

    def detail(self, key: str, default: Any = None) -> Any:
        return dict(self.details).get(key, default)

    def with_warnings(self, warnings: Iterable[str]) -> CostResult:
        """This result with ``warnings`` (each once, in order) added to its ``warnings`` detail, which the
        core warns each time the answer is used, from the model or from the cost cache; itself when
        there are none."""
        said = tuple(dict.fromkeys((*self.detail("warnings", ()), *warnings)))
        if said == self.detail("warnings", ()):
            return self
        kept = tuple((key, value) for key, value in self.details if key != "warnings")
        return attrs.evolve(self, details=(*kept, ("warnings", said)))
