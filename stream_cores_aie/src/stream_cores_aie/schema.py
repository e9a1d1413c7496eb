"""Validation of an AIE core file: Stream's mini-schema plus our optional fields, all problems at once.

Stream's fields (accepted unmodified, as stream-dse 2.1.1 checks them): ``name``, ``type``,
``memory: {capacity, bandwidth_min, bandwidth_max}`` (bits, bits/cycle), ``max_object_fifo_depth``
(int >= 1), ``utilization`` (percent, optional, ``aie2.compute`` only), the ``dma`` block
(``mm2s``, ``s2mm``, ``channel_bits`` required when it is given, ``buffer_descriptors`` and
``iterations`` optional; integers >= 1) and the extension fields Stream allows on every core:
``operator_types`` (op types the tile may run), ``banks: {count, width, stripe}`` (positive
integers, ``stripe`` optional) and ``operand_precision: {input, accumulator}`` (element type names
of Stream's ``ELEMENT_BITS``). Ours, each optional with the default of
:mod:`stream_cores_aie.defaults`: ``architecture``,
``peak_macs_per_cycle``, ``vector_lanes``, ``buffer_descriptors``, ``kernel_call_overhead``,
``reserved_bytes``, ``double_buffer`` and ``energy: {mac_pj, byte_pj}``. ``provided_by`` belongs to
stream-core (it strips it before we see the file and quotes it when no plugin reads ``aie2.*``); it
is tolerated here for cores that pass it through.

YAML 1.1 (PyYAML) reads ``1e10`` as a string; such scientific-notation strings are taken as numbers.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from stream_core.errors import ProblemCollector
from stream_core.ir import CORE_ELEMENT_BITS
from stream_core.yamlio import is_int, is_number, type_name
from stream_cores_aie import defaults
from stream_cores_aie.description import AieCore

KNOWN_KEYS = (
    "name",
    "type",
    "memory",
    "max_object_fifo_depth",
    "utilization",
    "dma",
    "operator_types",
    "banks",
    "operand_precision",
    "architecture",
    "peak_macs_per_cycle",
    "vector_lanes",
    "buffer_descriptors",
    "kernel_call_overhead",
    "reserved_bytes",
    "double_buffer",
    "energy",
    "provided_by",
)
MEMORY_KEYS = ("capacity", "bandwidth_min", "bandwidth_max")
DMA_KEYS = ("mm2s", "s2mm", "channel_bits", "buffer_descriptors", "iterations")
BANK_KEYS = ("count", "width", "stripe")
PRECISION_KEYS = ("input", "accumulator")
ENERGY_KEYS = ("mac_pj", "byte_pj")
_SCIENTIFIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+$")


def as_number(value: Any) -> float | int | None:
    """A finite YAML number (or a scientific-notation string), else ``None``."""
    if is_number(value):
        return value
    if isinstance(value, str) and _SCIENTIFIC.match(value.strip()) and math.isfinite(number := float(value)):
        return number
    return None


class FieldReader:
    """Typed accessors that record a problem (and return ``None``) for a bad value."""

    def __init__(self, problems: ProblemCollector):
        self.problems = problems

    def unknown_keys(self, data: Mapping[str, Any], known: tuple[str, ...], prefix: str = "") -> None:
        for key in sorted((k for k in data if k not in known), key=str):
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
            self.problems.add(f"{prefix}{key}", f"unknown field; {hint}")

    def mapping(self, data: Mapping[str, Any], key: str, field: str, *, required: bool = False) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            if required:
                self.problems.add(field, "missing required field (a mapping)")
            return {}
        if not isinstance(value, dict):
            self.problems.add(field, f"expected a mapping, got {type_name(value)}")
            return {}
        return value

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        field: str,
        what: str,
        check: Callable[[float], bool],
        *,
        required: bool = False,
        integer: bool = False,
    ) -> Any:
        raw = data.get(key)
        if raw is None:
            if required:
                self.problems.add(field, f"missing required field ({what})")
            return None
        value = raw if is_int(raw) else as_number(raw)
        if value is None or (integer and not float(value).is_integer()) or not check(value):
            self.problems.add(field, f"expected {what}, got {raw!r} ({type_name(raw)})")
            return None
        return int(value) if integer else float(value)

    def dtype_table(
        self, data: Mapping[str, Any], field: str, what: str, check: Callable[[float], bool]
    ) -> dict[str, float]:
        """A partial ``{dtype: number}`` table at dotted path ``field`` (its last part is the key)."""
        table = self.mapping(data, field.rsplit(".", 1)[-1], field)
        out: dict[str, float] = {}
        for dtype in table:
            if dtype not in defaults.DTYPES:
                self.problems.add(
                    f"{field}.{dtype}", f"unknown data type; expected one of {', '.join(defaults.DTYPES)}"
                )
                continue
            value = self.number(table, dtype, f"{field}.{dtype}", what, check)
            if value is not None:
                out[dtype] = value
        return out


def positive(v: float) -> bool:
    return v > 0


def _non_negative(v: float) -> bool:
    return v >= 0


def parse_core(data: dict[str, Any], kind: str, file: str | None) -> AieCore:
    """Validate ``data`` (one ``aie2.<kind>`` core file) and fill in defaults; raises ``InputError``
    listing every problem (file, dotted field and what was expected)."""
    problems = ProblemCollector(file)
    read = FieldReader(problems)
    read.unknown_keys(data, KNOWN_KEYS)

    name = data.get("name")
    if name is None:
        problems.add("name", "missing required field (a string naming the core)")
    elif not isinstance(name, str) or not name.strip():
        problems.add("name", f"expected a non-empty string, got {type_name(name)}")

    memory = read.mapping(data, "memory", "memory", required=True)
    read.unknown_keys(memory, MEMORY_KEYS, "memory.")
    capacity = read.number(
        memory,
        "capacity",
        "memory.capacity",
        "a positive integer number of bits",
        positive,
        required=True,
        integer=True,
    )
    bw_min = read.number(
        memory, "bandwidth_min", "memory.bandwidth_min", "a positive number of bits/cycle", positive, required=True
    )
    bw_max = read.number(
        memory, "bandwidth_max", "memory.bandwidth_max", "a positive number of bits/cycle", positive, required=True
    )
    if bw_min is not None and bw_max is not None and bw_max < bw_min:
        problems.add("memory.bandwidth_max", f"must be >= bandwidth_min ({bw_min:g}), got {bw_max:g}")

    depth = read.number(
        data,
        "max_object_fifo_depth",
        "max_object_fifo_depth",
        "an integer >= 1",
        lambda v: v >= 1,
        required=True,
        integer=True,
    )
    utilization = read.number(data, "utilization", "utilization", "a percentage in (0, 100]", lambda v: 0 < v <= 100)
    if utilization is not None and kind != "compute":
        problems.add("utilization", f"only aie2.compute cores take a utilization (as in Stream 2.1.1), not aie2.{kind}")

    architecture = data.get("architecture", defaults.DEFAULT_ARCHITECTURE)
    if architecture not in defaults.ARCHITECTURES:
        problems.add("architecture", f"expected one of {', '.join(defaults.ARCHITECTURES)}, got {architecture!r}")
        architecture = defaults.DEFAULT_ARCHITECTURE

    peak = read.dtype_table(data, "peak_macs_per_cycle", "a number >= 0 of MACs per cycle", _non_negative)
    lanes = read.dtype_table(data, "vector_lanes", "a positive number of results per cycle", positive)

    dma = read.mapping(data, "dma", "dma")
    read.unknown_keys(dma, DMA_KEYS, "dma.")
    given = "dma" in data
    default_mm2s, default_s2mm = defaults.DMA_CHANNELS[kind]
    mm2s = read.number(dma, "mm2s", "dma.mm2s", "an integer >= 1 of channels", positive, required=given, integer=True)
    s2mm = read.number(dma, "s2mm", "dma.s2mm", "an integer >= 1 of channels", positive, required=given, integer=True)
    channel_bits = read.number(
        dma,
        "channel_bits",
        "dma.channel_bits",
        "a positive integer of bits/cycle",
        positive,
        required=given,
        integer=True,
    )
    dma_bds = read.number(
        dma, "buffer_descriptors", "dma.buffer_descriptors", "an integer >= 1", positive, integer=True
    )
    iterations = read.number(dma, "iterations", "dma.iterations", "an integer >= 1", positive, integer=True)

    operator_types = _operator_types(data.get("operator_types"), problems)
    banks = _banks(read, data)
    precision = read.mapping(data, "operand_precision", "operand_precision")
    read.unknown_keys(precision, PRECISION_KEYS, "operand_precision.")
    for key in PRECISION_KEYS:
        if key in precision and not (isinstance(precision[key], str) and precision[key] in CORE_ELEMENT_BITS):
            problems.add(
                f"operand_precision.{key}",
                f"expected an element type ({', '.join(CORE_ELEMENT_BITS)}), got {precision[key]!r}",
            )

    bds = read.number(
        data, "buffer_descriptors", "buffer_descriptors", "an integer >= 1", lambda v: v >= 1, integer=True
    )
    overhead = read.number(
        data, "kernel_call_overhead", "kernel_call_overhead", "an integer >= 0 of cycles", _non_negative, integer=True
    )
    reserved = read.number(
        data, "reserved_bytes", "reserved_bytes", "an integer >= 0 of bytes", _non_negative, integer=True
    )
    reserved = defaults.RESERVED_BYTES[kind] if reserved is None else reserved
    if capacity is not None and 8 * reserved >= capacity:
        problems.add("reserved_bytes", f"{reserved} bytes leave nothing of memory.capacity ({capacity} bits)")

    double_buffer = data.get("double_buffer", True)
    if not isinstance(double_buffer, bool):
        problems.add("double_buffer", f"expected true or false, got {double_buffer!r}")

    energy = read.mapping(data, "energy", "energy")
    read.unknown_keys(energy, ENERGY_KEYS, "energy.")
    mac_pj = read.dtype_table(energy, "energy.mac_pj", "a number >= 0 of pJ", _non_negative)
    byte_pj = read.number(energy, "byte_pj", "energy.byte_pj", "a number >= 0 of pJ per byte", _non_negative)

    problems.raise_if_any()
    return AieCore(
        name=str(name).strip(),
        kind=kind,
        architecture=architecture,
        capacity_bits=capacity,
        bandwidth_min=bw_min,
        bandwidth_max=bw_max,
        max_object_fifo_depth=depth,
        utilization=utilization,
        peak_macs={**defaults.PEAK_MACS[architecture], **peak},
        vector_lanes={**defaults.VECTOR_LANES[architecture], **lanes},
        mm2s=default_mm2s if mm2s is None else mm2s,
        s2mm=default_s2mm if s2mm is None else s2mm,
        channel_bits=defaults.STREAM_BITS[architecture] if channel_bits is None else channel_bits,
        buffer_descriptors=defaults.BUFFER_DESCRIPTORS[kind] if bds is None else bds,
        kernel_call_overhead=defaults.KERNEL_CALL_OVERHEAD if overhead is None else overhead,
        reserved_bytes=reserved,
        double_buffer=double_buffer,
        mac_pj={**defaults.MAC_PJ, **mac_pj},
        byte_pj=defaults.BYTE_PJ[kind] if byte_pj is None else byte_pj,
        operator_types=operator_types,
        banks=banks,
        operand_precision=tuple(precision.items()),
        dma_buffer_descriptors=dma_bds,
        dma_iterations=iterations,
        dma_given=given,
        file=file,
    )


def _banks(read: FieldReader, data: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    """``banks: {count, width, stripe}`` as read (``stripe`` defaults to 1 word), ``()`` when absent."""
    banks = read.mapping(data, "banks", "banks")
    if not isinstance(data.get("banks"), dict):
        return ()
    read.unknown_keys(banks, BANK_KEYS, "banks.")
    units = {"count": "banks", "width": "bytes", "stripe": "words"}
    values = {
        key: read.number(
            banks,
            key,
            f"banks.{key}",
            f"an integer >= 1 of {units[key]}",
            positive,
            required=key != "stripe",
            integer=True,
        )
        for key in BANK_KEYS
    }
    return tuple((key, 1 if key == "stripe" and value is None else value) for key, value in values.items())


def _operator_types(value: Any, problems: ProblemCollector) -> tuple[str, ...] | None:
    """``operator_types``: a list of op type names (``None`` when absent)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.add("operator_types", f"expected a list of operator type names, got {value!r}")
        return None
    return tuple(v.strip() for v in value)
