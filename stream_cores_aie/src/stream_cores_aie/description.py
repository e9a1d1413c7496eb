"""The parsed AIE core: every figure the cost model and the TETRA constraints use, resolved."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import attrs

from stream_core.ir.accelerator import CoreSummary

_TABLES = ("peak_macs", "vector_lanes", "mac_pj")
#: Fields kept for the report only: they change no cost, so they stay out of the fingerprint.
_REPORTED = ("banks", "operand_precision", "dma_buffer_descriptors", "dma_iterations", "dma_given")


def _frozen_map(value: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((str(k), float(v)) for k, v in dict(value).items()))


@attrs.frozen
class AieCore:
    """One ``aie2.<kind>`` core file after validation and defaulting.

    Units: bits, bits/cycle, cycles, pJ. ``utilization`` is the core file's kernel utilisation in
    percent (``None`` when the file gives none). ``mm2s``/``s2mm`` are the DMA channels out of /
    into the tile, ``channel_bits`` the width of one channel (the stream-switch width).
    ``operator_types`` restricts the ops the tile may run (``None``: any). Stream 2.1.1's
    ``banks``, ``operand_precision``, ``dma.buffer_descriptors`` and ``dma.iterations`` are kept as
    read and reported in :attr:`notes`; ``dma_given`` says the file had a ``dma`` block.
    """

    name: str
    kind: str
    architecture: str
    capacity_bits: int
    bandwidth_min: float
    bandwidth_max: float
    max_object_fifo_depth: int
    utilization: float | None
    peak_macs: tuple[tuple[str, float], ...] = attrs.field(converter=_frozen_map)
    vector_lanes: tuple[tuple[str, float], ...] = attrs.field(converter=_frozen_map)
    mm2s: int
    s2mm: int
    channel_bits: int
    buffer_descriptors: int
    kernel_call_overhead: int
    reserved_bytes: int
    double_buffer: bool
    mac_pj: tuple[tuple[str, float], ...] = attrs.field(converter=_frozen_map)
    byte_pj: float
    operator_types: tuple[str, ...] | None = None
    banks: tuple[tuple[str, int], ...] = ()
    operand_precision: tuple[tuple[str, str], ...] = ()
    dma_buffer_descriptors: int | None = None
    dma_iterations: int | None = None
    dma_given: bool = False
    file: str | None = attrs.field(default=None, eq=False)
    _summary: CoreSummary = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_summary", self._make_summary())

    def peak(self, dtype: str) -> float:
        return dict(self.peak_macs)[dtype]

    def lanes(self, dtype: str) -> float:
        return dict(self.vector_lanes)[dtype]

    def mac_energy(self, dtype: str) -> float:
        return dict(self.mac_pj)[dtype]

    @property
    def usable_bits(self) -> int:
        """Capacity left for operands after the reserved bytes (stack)."""
        return self.capacity_bits - 8 * self.reserved_bytes

    @property
    def summary(self) -> CoreSummary:
        """Core-type-neutral figures; MAC peak and energy are the bf16 ones (the NPU's main type)."""
        return self._summary

    def _make_summary(self) -> CoreSummary:
        compute = self.kind == "compute"
        return CoreSummary(
            memory_bits=self.capacity_bits,
            read_bandwidth=self.bandwidth_max,
            write_bandwidth=self.bandwidth_max,
            peak_macs_per_cycle=self.peak("bf16") if compute else 0.0,
            peak_ops_per_cycle=self.lanes("bf16") if compute else 0.0,
            mac_energy_pj=self.mac_energy("bf16") if compute else 0.0,
            read_energy_pj_per_bit=self.byte_pj / 8,
            write_energy_pj_per_bit=self.byte_pj / 8,
            operator_types=self.operator_types,
        )

    @property
    def notes(self) -> tuple[str, ...]:
        """One sentence per field read but not (fully) modelled (contract 3: no file name)."""
        notes = []
        if self.dma_given:
            notes.append(
                "dma: mm2s/s2mm x channel_bits are no DMA port rates here, unlike Stream 2.1.1 (transfers are "
                "timed on links; the channels cap TETRA's DMA use)"
            )
        if self.dma_buffer_descriptors is not None or self.dma_iterations is not None:
            notes.append(
                "dma.buffer_descriptors/dma.iterations: reported only; they matter to Stream 2.1.1's code "
                "generation (chained shim re-reads), not to its costs (our BD cap is 'buffer_descriptors')"
            )
        if self.banks:
            notes.append("banks: reported only, not priced (as in Stream 2.1.1)")
        if self.operand_precision:
            notes.append(
                "operand_precision: reported only; the aie model takes data types from the kernel kwargs or "
                "the operands (Stream 2.1.1's AIE model ignores it too)"
            )
        return tuple(notes)

    def as_dict(self) -> dict[str, Any]:
        """Every cost-relevant field (not the file path, nor the fields kept for the report)."""
        out: dict[str, Any] = {}
        for field in attrs.fields(type(self)):
            if field.name in ("file", "_summary", *_REPORTED):
                continue
            value = getattr(self, field.name)
            out[field.name] = dict(value) if field.name in _TABLES else value
        return out

    def fingerprint(self) -> str:
        text = json.dumps(self.as_dict(), sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
