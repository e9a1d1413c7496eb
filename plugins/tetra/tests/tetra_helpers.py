"""Helpers of stream-tetra's tests: core dicts for the tetratoy core type, the examples folder."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__import__("stream_core").__file__).parent / "examples"


def core(name: str, rate: float = 4, memory_bits: int = 4096, op_energy: float = 0.5, bit_energy: float = 0.1):
    return {
        "name": name,
        "type": "tetratoy.compute",
        "rate": rate,
        "memory_bits": memory_bits,
        "op_energy": op_energy,
        "bit_energy": bit_energy,
    }


DRAM = {"name": "dram", "type": "tetratoy.offchip", "memory_bits": 10**9, "bit_energy": 1.0}
