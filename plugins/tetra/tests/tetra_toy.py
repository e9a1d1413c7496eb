"""An in-process test plugin: the ``tetratoy`` core type and its cost model (hand-checkable numbers).

A core file::

    name: fast
    type: tetratoy.compute
    rate: 4              # operations (MACs or element ops) per cycle
    memory_bits: 4096
    bandwidth: 8         # bits/cycle of its memory (used by no test: transfers use link bandwidths)
    op_energy: 0.5       # pJ per operation
    bit_energy: 0.1      # pJ per bit read or written
    drain: 0             # cycles a tile's results take to leave the array (a systolic drain), default 0
    role_energy: {weight: [0.05, 0.05]}  # pJ per bit read / written in an operand role's own top memory

Cost of a tile: ``ceil(work / rate)`` cycles and ``work * op_energy`` pJ, where ``work`` is the tile's
MACs (MAC ops) or iteration points (other ops); a ``drain`` is reported as the ``drain_cycles`` detail.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import attrs

from stream_core import hookimpl
from stream_core.ir import CoreSummary, CostRequest, CostResult
from stream_core.plugins import lazy
from stream_core.records import CoreTypeRecord, CostModelRecord


@attrs.frozen
class ToyCore:
    name: str
    rate: float
    memory_bits: int
    bandwidth: float
    op_energy: float
    bit_energy: float
    drain: int = 0  # cycles a tile's results take to leave the array (a systolic core's drain)
    role_energy: tuple[tuple[str, float, float], ...] = ()  # (role, read, write pJ/bit) of its own memory

    @property
    def summary(self) -> CoreSummary:
        return CoreSummary(
            memory_bits=self.memory_bits,
            read_bandwidth=self.bandwidth,
            write_bandwidth=self.bandwidth,
            peak_macs_per_cycle=self.rate,
            peak_ops_per_cycle=self.rate,
            mac_energy_pj=self.op_energy,
            read_energy_pj_per_bit=self.bit_energy,
            write_energy_pj_per_bit=self.bit_energy,
            operand_energies=self.role_energy,
        )

    def fingerprint(self) -> str:
        fields = (self.rate, self.memory_bits, self.bandwidth, self.op_energy, self.bit_energy, self.drain)
        return ":".join(map(str, (*fields, self.role_energy)))


class ToyCoreType:
    def parse(self, data: dict[str, Any], *, kind: str, file: str | None) -> ToyCore:
        return ToyCore(
            name=str(data.get("name", "toy")),
            rate=float(data.get("rate", 0)),
            memory_bits=int(data["memory_bits"]),
            bandwidth=float(data.get("bandwidth", 8)),
            op_energy=float(data.get("op_energy", 0.0)),
            bit_energy=float(data.get("bit_energy", 0.0)),
            drain=int(data.get("drain", 0)),
            role_energy=tuple((role, float(r), float(w)) for role, (r, w) in data.get("role_energy", {}).items()),
        )


class ToyCostModel:
    def cost(self, requests: Sequence[CostRequest], context: Any) -> list[CostResult]:
        out = []
        for request in requests:
            core: ToyCore = request.core.description
            work = request.node.macs or request.node.iteration_points
            cycles = max(1, math.ceil(work / core.rate))
            drain = {"drain_cycles": core.drain} if core.drain else {}
            out.append(CostResult(cycles, work * core.op_energy, "tetratoy-cost", details=drain))
        return out


@hookimpl
def stream_register_core_types() -> Iterator[CoreTypeRecord]:
    yield CoreTypeRecord(
        name="tetratoy",
        description="test cores: a rate and a memory",
        factory=lazy("tetra_toy", "ToyCoreType"),
        kinds={"compute", "offchip"},
        default_cost_model="tetratoy-cost",
    )


@hookimpl
def stream_register_cost_models() -> Iterator[CostModelRecord]:
    yield CostModelRecord(
        name="tetratoy-cost",
        description="ceil(work / rate) cycles, work x op_energy pJ",
        factory=lazy("tetra_toy", "ToyCostModel"),
        core_types={"tetratoy"},
    )
