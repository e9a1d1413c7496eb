"""The parsed ZigZag core: canonical data, its :class:`CoreSummary` and a fingerprint.

The canonical data (see :mod:`stream_zigzag.core_schema`) is plain JSON-able Python, memories as an
ordered list (innermost first). The fingerprint hashes all of it except the core's name, so two files
that differ only in ``name`` share cost-cache entries while any change to a memory, port, the
operational array, dataflows or precisions gives a new fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import attrs

from stream_core.ir import CoreSummary, OperandRole

#: ZigZag's memory operands and the operand roles they hold, as ``translate`` assigns them.
MEMORY_ROLES = (("I1", OperandRole.INPUT.value), ("I2", OperandRole.WEIGHT.value), ("O", OperandRole.OUTPUT.value))


@attrs.frozen
class ZigZagCore:
    """A ``zigzag.<kind>`` core description (what the ``zigzag`` core type's parser returns)."""

    name: str
    kind: str
    data: dict[str, Any] = attrs.field(eq=False, repr=False)
    summary: CoreSummary = attrs.field(repr=False)
    digest: str
    file: str | None = attrs.field(default=None, eq=False)
    #: One sentence per field accepted but not (fully) modelled (stream-core lists them as notes).
    notes: tuple[str, ...] = attrs.field(default=(), eq=False, converter=tuple[str, ...])

    @classmethod
    def from_data(
        cls, data: dict[str, Any], kind: str, file: str | None = None, notes: tuple[str, ...] = ()
    ) -> ZigZagCore:
        """Build from canonical data (already validated)."""
        payload = {k: v for k, v in data.items() if k != "name"}
        digest = hashlib.blake2b(json.dumps(payload, sort_keys=True).encode(), digest_size=16).hexdigest()
        summary = _summary(data, kind)
        return cls(name=data["name"], kind=kind, data=data, summary=summary, digest=digest, file=file, notes=notes)

    def fingerprint(self) -> str:
        """Stable hash of everything that can change a cost on this core (all fields but ``name``)."""
        return self.digest

    @property
    def memories(self) -> list[dict[str, Any]]:
        return self.data["memories"]

    @property
    def memory_operands(self) -> set[str]:
        return {op for m in self.memories for op in m["operands"]}

    def top_memory(self, operand: str) -> dict[str, Any] | None:
        """The outermost memory holding memory operand ``operand`` (I1, I2, O), or None."""
        holders = [m for m in self.memories if operand in m["operands"]]
        return holders[-1] if holders else None

    @property
    def dataflows(self) -> list[tuple[str, list[tuple[str, int]]]]:
        return [(oa, [(d, f) for d, f in entries]) for oa, entries in self.data["dataflows"] or []]

    @property
    def array_sizes(self) -> dict[str, int]:
        array = self.data["operational_array"]
        return dict(zip(array["dimensions"], array["sizes"], strict=True))

    def zigzag_data(self) -> dict[str, Any]:
        """The normalised dict ZigZag's ``AcceleratorFactory`` builds its accelerator from."""
        array = self.data["operational_array"]
        memories = {}
        for mem in self.memories:
            entry = {k: v for k, v in mem.items() if k != "name"}
            entry["auto_cost_extraction"] = False
            memories[mem["name"]] = entry
        return {
            "name": self.name,
            "memories": memories,  # force_double_buffering included: LOMA counts those slices twice
            "operational_array": {**array, "is_imc": False},
        }


def _port(mem: dict[str, Any], kinds: tuple[str, ...]) -> dict[str, Any] | None:
    return next((p for p in mem["ports"] if p["type"] in kinds), None)


def _summary(data: dict[str, Any], kind: str) -> CoreSummary:
    """Capacity and bandwidths of the top memory holding I1 (the top memory if none holds I1), peak MACs
    per cycle = product of the array sizes (0 for memory and off-chip cores), energies per MAC and per
    bit (``r_cost`` / ``w_cost`` are per full-width port access); ``operand_memories`` from the top
    memories of I1 (input), I2 (weight) and O (output) when all three have one."""
    memories = data["memories"]
    holders = [m for m in memories if "I1" in m["operands"]] or memories
    top = holders[-1]
    read_bw, write_bw = _bandwidths(top)
    read_pj, write_pj = _bit_energies(top)
    array = data["operational_array"]
    peak = float(math.prod(array["sizes"])) if kind == "compute" else 0.0
    return CoreSummary(
        memory_bits=int(top["size"]),
        read_bandwidth=read_bw,
        write_bandwidth=write_bw,
        peak_macs_per_cycle=peak,
        mac_energy_pj=float(array["unit_energy"]) if kind == "compute" else 0.0,
        read_energy_pj_per_bit=read_pj,
        write_energy_pj_per_bit=write_pj,
        operator_types=data["operator_types"],
        operand_memories=_operand_memories(memories),
        operand_energies=_operand_energies(memories, (read_pj, write_pj)),
    )


def _bandwidths(mem: dict[str, Any]) -> tuple[float, float]:
    """Read and write bits per cycle of ``mem``'s ports (0: no such port)."""
    read, write = _port(mem, ("read", "read_write")), _port(mem, ("write", "read_write"))
    return (float(read["bandwidth_max"]) if read else 0.0, float(write["bandwidth_max"]) if write else 0.0)


def _bit_energies(mem: dict[str, Any]) -> tuple[float, float]:
    """pJ per bit read and written at ``mem``: ``r_cost`` / ``w_cost`` per access of its port's full width."""
    read_bw, write_bw = _bandwidths(mem)
    return (mem["r_cost"] / read_bw if read_bw else 0.0, mem["w_cost"] / write_bw if write_bw else 0.0)


def _operand_energies(
    memories: list[dict[str, Any]], default: tuple[float, float]
) -> tuple[tuple[str, float, float], ...]:
    """(role, read pJ/bit, write pJ/bit) of each operand whose top memory is priced unlike ``default``."""
    energies = []
    for operand, role in MEMORY_ROLES:
        holders = [m for m in memories if operand in m["operands"]]
        if holders and (priced := _bit_energies(holders[-1])) != default:
            energies.append((role, *priced))
    return tuple(energies)


def _operand_memories(memories: list[dict[str, Any]]) -> tuple[tuple[tuple[str, ...], int], ...]:
    """Each top memory of I1, I2, O once, with the operand roles it holds; empty unless all three have one."""
    tops: dict[str, tuple[list[str], int]] = {}
    for operand, role in MEMORY_ROLES:
        holders = [m for m in memories if operand in m["operands"]]
        if not holders:
            return ()
        tops.setdefault(holders[-1]["name"], ([], int(holders[-1]["size"])))[0].append(role)
    return tuple((tuple(roles), size) for roles, size in tops.values())
