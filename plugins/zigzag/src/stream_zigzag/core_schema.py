"""Validation and normalisation of ZigZag/Stream core YAML (both formats) into one canonical dict.

Accepted unmodified:

* **current format** (ZigZag >= 3.6, Stream 1.x): per memory ``size``, ``r_cost``, ``w_cost``, ``area``,
  ``latency``, ``operands``, ``ports`` (``name``, ``type``, ``bandwidth_min``, ``bandwidth_max``,
  ``allocation``), ``served_dimensions``, optional ``mem_type``, ``force_double_buffering``;
  ``operational_array`` with ``unit_energy``, ``unit_area``, ``dimensions``, ``sizes``, optional
  ``systolic_dimensions``;
* **older format** (ZigZag 3.0-3.5): per memory ``r_bw``, ``w_bw``, ``r_port``, ``w_port``, ``rw_port``,
  optional ``min_r_granularity``/``min_w_granularity``, and ``ports`` as a list of per-operand dicts
  (``{fh: w_port_1, tl: r_port_1}``, in the order of ``operands``); ``operational_array`` with
  ``multiplier_energy``/``multiplier_area`` (and ``input_precision``, which only in-memory-compute
  cores use; accepted and ignored). Ports are generated as old ZigZag did: ``r_port_i`` at ``r_bw``,
  ``w_port_i`` at ``w_bw``, ``rw_port_i`` at ``r_bw`` (minimum = the granularity, default the width).

Both spellings of allocation and dataflow items are accepted (see :mod:`stream_zigzag.entries`).
Optional top-level keys: ``type`` (read by stream-core), ``dataflows``, ``operator_types``,
``utilization`` (kept, unused by ZigZag), ``operand_precision`` (stream-dse 2.1.1's
``{input, accumulator: <element type>}`` or the older ``{I1|I2|O|O_final: bits}``; see
:mod:`stream_zigzag.precision`), ``banks`` (stream-dse 2.1.1's ``{count, width, stripe}``; kept and
reported, not priced).

Every problem is reported with the file and the key path (``memories.sram_2MB.ports[1].allocation[2]``).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from stream_core.errors import ProblemCollector
from stream_core.yamlio import is_int, is_number, type_name
from stream_zigzag import precision
from stream_zigzag.entries import pair_items

MEMORY_OPERANDS = ("I1", "I2", "O")
DIRECTIONS = {"fh": "write", "fl": "write", "tl": "read", "th": "read"}
PORT_TYPES = ("read", "write", "read_write")
PORT_NAME = re.compile(r"^[r]?[w]?_port_\d+$")
OA_DIMENSION = re.compile(r"^D\d$")
LOOP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

TOP_KEYS = {
    "name",
    "type",
    "memories",
    "operational_array",
    "dataflows",
    "operator_types",
    "utilization",
    "operand_precision",
    "banks",
}
CURRENT_MEMORY_KEYS = {
    "size", "r_cost", "w_cost", "area", "latency", "mem_type", "auto_cost_extraction", "operands", "ports",
    "served_dimensions", "force_double_buffering",
}  # fmt: skip
LEGACY_ONLY_KEYS = {"r_bw", "w_bw", "r_port", "w_port", "rw_port", "min_r_granularity", "min_w_granularity"}
PORT_KEYS = {"name", "type", "bandwidth_min", "bandwidth_max", "allocation"}
ARRAY_KEYS = {
    "dimensions", "sizes", "unit_energy", "unit_area", "systolic_dimensions", "is_imc", "multiplier_energy",
    "multiplier_area", "input_precision",
}  # fmt: skip
BANK_KEYS = {"count": ..., "width": ..., "stripe": 1}  # key -> default (``...``: required)


def _unknown_keys(data: dict[str, Any], known: set[str], prefix: str, problems: ProblemCollector) -> None:
    for key in sorted(set(data) - known, key=str):
        close = difflib.get_close_matches(str(key), sorted(known), n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(sorted(known))}"
        problems.add(f"{prefix}{key}", f"unknown key; {hint}")


class CoreSchema:
    """Validates one core file's data; :meth:`normalise` returns the canonical dict or records problems."""

    def __init__(self, data: Any, problems: ProblemCollector, kind: str = "compute"):
        self.data = data
        self.problems = problems
        self.kind = kind
        self.dimensions: list[str] = []

    # -- small typed getters -------------------------------------------------------------------
    def _int(self, where: dict[str, Any], key: str, field: str, *, minimum: int = 0, default: Any = ...) -> int | None:
        value = where.get(key, default)
        if value is ...:
            self.problems.add(field, f"missing required field (an integer >= {minimum})")
            return None
        if not is_int(value) or value < minimum:
            self.problems.add(field, f"expected an integer >= {minimum}, got {value!r} ({type_name(value)})")
            return None
        return value

    def _number(self, where: dict[str, Any], key: str, field: str, *, default: Any = ...) -> float | None:
        value = where.get(key, default)
        if value is ...:
            self.problems.add(field, "missing required field (a non-negative number)")
            return None
        if not is_number(value) or value < 0:
            self.problems.add(field, f"expected a non-negative number, got {value!r} ({type_name(value)})")
            return None
        return float(value)

    def _bool(self, where: dict[str, Any], key: str, field: str) -> bool:
        value = where.get(key, False)
        if not isinstance(value, bool):
            self.problems.add(field, f"expected true or false, got {value!r}")
            return False
        return value

    def _list(self, where: dict[str, Any], key: str, field: str, *, required: bool = True) -> list[Any] | None:
        value = where.get(key)
        if value is None:
            if required:
                self.problems.add(field, "missing required field (a list)")
            return None
        if not isinstance(value, list):
            self.problems.add(field, f"expected a list, got {type_name(value)}")
            return None
        return value

    # -- top level -----------------------------------------------------------------------------
    def normalise(self) -> dict[str, Any] | None:
        data = self.data
        if not isinstance(data, dict):
            self.problems.add(None, f"expected a mapping describing a core, got {type_name(data)}")
            return None
        _unknown_keys(data, TOP_KEYS, "", self.problems)
        name = data.get("name")
        if name is None:
            self.problems.add("name", "missing required field (a string naming the core)")
        elif not isinstance(name, str) or not name.strip():
            self.problems.add("name", f"expected a non-empty string, got {type_name(name)}")
        array = self._operational_array(data.get("operational_array"))
        memories = self._memories(data.get("memories"))
        out: dict[str, Any] = {
            "name": str(name),
            "memories": memories,
            "operational_array": array,
            "dataflows": self._dataflows(data.get("dataflows")),
            "operator_types": self._operator_types(data.get("operator_types")),
            "utilization": self._utilization(data.get("utilization")),
            "operand_precision": precision.validate(data.get("operand_precision"), self.problems),
            "banks": self._banks(data.get("banks")),
        }
        return None if self.problems else out

    def notes(self) -> tuple[str, ...]:
        """One sentence per field of this core that is accepted but not (fully) modelled."""
        data = self.data if isinstance(self.data, dict) else {}
        array = data.get("operational_array")
        array = array if isinstance(array, dict) else {}
        declared = data.get("operand_precision")
        notes = []
        if "banks" in data:
            notes.append("banks: reported only, not priced (as in Stream 2.1.1)")
        if "utilization" in data:
            notes.append(
                "utilization: kept, not used by the ZigZag cost model (stream-dse 2.1.1 rejects it on ZigZag cores)"
            )
        if isinstance(declared, dict) and "input" in declared:
            notes.append(
                "operand_precision.input: informational (as in Stream 2.1.1) unless --set zigzag.precision=hardware"
            )
        if "input_precision" in array:
            notes.append("operational_array.input_precision: ignored (only in-memory-compute cores use it)")
        return tuple(notes)

    def _operator_types(self, raw: Any) -> list[str] | None:
        if raw is None:
            return None
        if not isinstance(raw, list) or not all(isinstance(t, str) and t for t in raw):
            self.problems.add("operator_types", f"expected a list of ONNX operator type names, got {raw!r}")
            return None
        return list(raw)

    def _utilization(self, raw: Any) -> float | None:
        if raw is None:
            return None
        if not is_number(raw) or not 0 < raw <= 100:
            self.problems.add("utilization", f"expected a percentage in (0, 100], got {raw!r}")
            return None
        return float(raw)

    def _banks(self, raw: Any) -> dict[str, int] | None:
        """stream-dse 2.1.1's ``banks``: whole positive ``count``, ``width`` (bytes), optional ``stripe`` (words)."""
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.problems.add("banks", f"expected a mapping {{count, width, stripe}}, got {type_name(raw)}")
            return None
        _unknown_keys(raw, set(BANK_KEYS), "banks.", self.problems)
        out: dict[str, int] = {}
        for key, default in BANK_KEYS.items():
            value = self._int(raw, key, f"banks.{key}", minimum=1, default=default)
            if value is not None:
                out[key] = value
        return out if len(out) == len(BANK_KEYS) else None

    # -- operational array ---------------------------------------------------------------------
    def _operational_array(self, raw: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dimensions": [],
            "sizes": [],
            "unit_energy": 0.0,
            "unit_area": 0.0,
            "systolic_dimensions": [],
        }
        if raw is None:
            self.problems.add(
                "operational_array", "missing required field (a mapping with dimensions, sizes, unit_energy)"
            )
            return out
        if not isinstance(raw, dict):
            self.problems.add("operational_array", f"expected a mapping, got {type_name(raw)}")
            return out
        _unknown_keys(raw, ARRAY_KEYS, "operational_array.", self.problems)
        dims = self._list(raw, "dimensions", "operational_array.dimensions") or []
        for i, d in enumerate(dims):
            if not isinstance(d, str) or not OA_DIMENSION.match(d):
                self.problems.add(f"operational_array.dimensions[{i}]", f"expected a name like D1, got {d!r}")
        if len(set(map(str, dims))) != len(dims):
            self.problems.add("operational_array.dimensions", f"dimensions must be unique, got {dims}")
        self.dimensions = [str(d) for d in dims]
        sizes = self._list(raw, "sizes", "operational_array.sizes") or []
        least = 1 if self.kind == "compute" else 0  # memory-only cores have no MAC array (Stream writes 0)
        for i, s in enumerate(sizes):
            if not is_int(s) or s < least:
                what = "a positive integer (a compute core needs MAC units)" if least else "a non-negative integer"
                self.problems.add(f"operational_array.sizes[{i}]", f"expected {what}, got {s!r}")
        if dims and sizes and len(dims) != len(sizes):
            self.problems.add(
                "operational_array.sizes", f"expected {len(dims)} sizes (one per dimension), got {len(sizes)}"
            )
        out["dimensions"], out["sizes"] = self.dimensions, list(sizes)
        out["unit_energy"] = self._aliased_number(raw, "unit_energy", "multiplier_energy", required=True)
        out["unit_area"] = self._aliased_number(raw, "unit_area", "multiplier_area", required=False)
        systolic = self._list(raw, "systolic_dimensions", "operational_array.systolic_dimensions", required=False) or []
        for i, d in enumerate(systolic):
            if d not in self.dimensions:
                self.problems.add(
                    f"operational_array.systolic_dimensions[{i}]",
                    f"{d!r} is not one of the dimensions {self.dimensions}",
                )
        out["systolic_dimensions"] = list(systolic)
        if self._bool(raw, "is_imc", "operational_array.is_imc"):
            self.problems.add("operational_array.is_imc", "in-memory-compute cores are not supported by stream-zigzag")
        precision = raw.get("input_precision")
        if precision is not None and not (
            isinstance(precision, list) and len(precision) == 2 and all(is_int(p) for p in precision)
        ):
            self.problems.add(
                "operational_array.input_precision",
                f"expected two integers [input bits, weight bits], got {precision!r}",
            )
        return out

    def _aliased_number(self, raw: dict[str, Any], key: str, legacy: str, *, required: bool) -> float:
        field = f"operational_array.{key}"
        if key in raw and legacy in raw:
            self.problems.add(f"operational_array.{legacy}", f"give either '{key}' or the older '{legacy}', not both")
        source = key if key in raw or legacy not in raw else legacy
        if source not in raw:
            if required:
                self.problems.add(
                    field, f"missing required field (a non-negative number; older files call it '{legacy}')"
                )
            return 0.0
        value = self._number(raw, source, f"operational_array.{source}")
        return 0.0 if value is None else value

    # -- dataflows -----------------------------------------------------------------------------
    def _dataflows(self, raw: Any) -> list[list[Any]] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.problems.add("dataflows", f'expected a mapping like {{D1: ["K, 16"]}}, got {type_name(raw)}')
            return None
        out: list[list[Any]] = []
        for oa_dim, value in raw.items():
            field = f"dataflows.{oa_dim}"
            if oa_dim not in self.dimensions:
                self.problems.add(field, f"{oa_dim!r} is not a dimension of the operational array {self.dimensions}")
                continue
            if not isinstance(value, list | str):
                self.problems.add(field, f'expected a list of "<LOOP>, <factor>" items, got {type_name(value)}')
                continue
            entries = parse_unrolling(value, field, self.problems)
            if entries:
                out.append([oa_dim, entries])
        return out or None

    # -- memories ------------------------------------------------------------------------------
    def _memories(self, raw: Any) -> list[dict[str, Any]]:
        if raw is None:
            self.problems.add("memories", "missing required field (a mapping of memories, innermost first)")
            return []
        if not isinstance(raw, dict) or not raw:
            self.problems.add("memories", f"expected a non-empty mapping of memories, got {type_name(raw)}")
            return []
        memories = [m for m in (self._memory(str(name), mem) for name, mem in raw.items()) if m is not None]
        self._check_required_directions(memories)
        return memories

    def _memory(self, name: str, mem: Any) -> dict[str, Any] | None:
        prefix = f"memories.{name}"
        if not isinstance(mem, dict):
            self.problems.add(prefix, f"expected a mapping describing the memory, got {type_name(mem)}")
            return None
        legacy = any(k in mem for k in ("r_bw", "w_bw", "r_port", "w_port", "rw_port"))
        known = CURRENT_MEMORY_KEYS | LEGACY_ONLY_KEYS if legacy else CURRENT_MEMORY_KEYS
        _unknown_keys(mem, known, f"{prefix}.", self.problems)
        out: dict[str, Any] = {
            "name": name,
            "size": self._int(mem, "size", f"{prefix}.size", minimum=1),
            "r_cost": self._number(mem, "r_cost", f"{prefix}.r_cost"),
            "w_cost": self._number(mem, "w_cost", f"{prefix}.w_cost"),
            "area": self._number(mem, "area", f"{prefix}.area", default=0.0),
            "latency": self._int(mem, "latency", f"{prefix}.latency", default=1),
            "mem_type": str(mem.get("mem_type", "sram")),
            "force_double_buffering": self._bool(mem, "force_double_buffering", f"{prefix}.force_double_buffering"),
        }
        if self._bool(mem, "auto_cost_extraction", f"{prefix}.auto_cost_extraction"):
            self.problems.add(
                f"{prefix}.auto_cost_extraction", "CACTI cost extraction is not supported; give r_cost, w_cost and area"
            )
        operands = self._list(mem, "operands", f"{prefix}.operands") or []
        for i, op in enumerate(operands):
            if op not in MEMORY_OPERANDS:
                self.problems.add(f"{prefix}.operands[{i}]", f"unknown memory operand {op!r}; expected I1, I2 or O")
        if len(set(map(str, operands))) != len(operands):
            self.problems.add(f"{prefix}.operands", f"operands must be unique, got {operands}")
        out["operands"] = [op for op in operands if op in MEMORY_OPERANDS]
        served = self._list(mem, "served_dimensions", f"{prefix}.served_dimensions")
        for i, d in enumerate(served or []):
            if d not in self.dimensions:
                self.problems.add(
                    f"{prefix}.served_dimensions[{i}]",
                    f"{d!r} is not a dimension of the operational array {self.dimensions}",
                )
        out["served_dimensions"] = sorted(str(d) for d in served or [])
        ports = (
            self._legacy_ports(mem, prefix, out["operands"]) if legacy else self._ports(mem, prefix, out["operands"])
        )
        out["ports"] = ports
        return out

    def _ports(self, mem: dict[str, Any], prefix: str, operands: list[str]) -> list[dict[str, Any]]:
        raw = self._list(mem, "ports", f"{prefix}.ports")
        if raw is None:
            return []
        ports: list[dict[str, Any]] = []
        names: set[str] = set()
        for index, port in enumerate(raw):
            field = f"{prefix}.ports[{index}]"
            if not isinstance(port, dict):
                self.problems.add(
                    field,
                    "expected a mapping with name, type, bandwidth_min, bandwidth_max, allocation, "
                    f"got {type_name(port)}",
                )
                continue
            if "name" not in port and port and set(port) <= set(DIRECTIONS):
                self.problems.add(
                    field,
                    "this is the older per-operand port format ({fh: w_port_1, tl: r_port_1}); it needs the memory's "
                    "r_bw/w_bw and r_port/w_port/rw_port counts, or write ports as {name, type, bandwidth_min, "
                    "bandwidth_max, allocation}",
                )
                continue
            _unknown_keys(port, PORT_KEYS, f"{field}.", self.problems)
            name = port.get("name")
            if not isinstance(name, str) or not PORT_NAME.match(name):
                self.problems.add(
                    f"{field}.name",
                    f"expected a port name matching {PORT_NAME.pattern} (e.g. r_port_1, rw_port_1), got {name!r}",
                )
                name = None
            elif name in names:
                self.problems.add(f"{field}.name", f"port name {name!r} is used twice in this memory")
            kind = port.get("type")
            if kind not in PORT_TYPES:
                self.problems.add(f"{field}.type", f"expected one of {', '.join(PORT_TYPES)}, got {kind!r}")
                kind = None
            bw_min = self._int(port, "bandwidth_min", f"{field}.bandwidth_min", minimum=1)
            bw_max = self._int(port, "bandwidth_max", f"{field}.bandwidth_max", minimum=1)
            if bw_min is not None and bw_max is not None and bw_min > bw_max:
                self.problems.add(
                    f"{field}.bandwidth_min", f"bandwidth_min ({bw_min}) exceeds bandwidth_max ({bw_max})"
                )
            allocation = self._allocation(port.get("allocation"), f"{field}.allocation", operands, kind)
            if name is not None and kind is not None:
                names.add(name)
                ports.append(
                    {
                        "name": name,
                        "type": kind,
                        "bandwidth_min": bw_min,
                        "bandwidth_max": bw_max,
                        "allocation": allocation,
                    }
                )
        self._check_unique_allocations(ports, f"{prefix}.ports")
        return ports

    def _allocation(self, raw: Any, field: str, operands: list[str], kind: str | None) -> list[str]:
        if raw is None:
            self.problems.add(
                field, 'missing required field (a list of "<operand>, <direction>" items such as "I1, tl")'
            )
            return []
        if not isinstance(raw, list | str):
            self.problems.add(field, f'expected a list of "<operand>, <direction>" items, got {type_name(raw)}')
            return []
        pairs, bad = pair_items(raw)
        for index, item in bad:
            self.problems.add(f"{field}[{index}]", f'expected "<I1|I2|O>, <fh|tl|fl|th>" (e.g. "I1, tl"), got {item!r}')
        out: list[str] = []
        for operand, direction, index in pairs:
            where = f"{field}[{index}]"
            ok = True
            if operand not in MEMORY_OPERANDS:
                self.problems.add(where, f"unknown operand {operand!r} in {operand}, {direction}; expected I1, I2 or O")
                ok = False
            elif operand not in operands:
                self.problems.add(where, f"operand {operand!r} is not stored in this memory (operands: {operands})")
                ok = False
            if direction not in DIRECTIONS:
                self.problems.add(where, f"unknown direction {direction!r}; expected fh, tl, fl or th")
                ok = False
            elif kind is not None and kind != "read_write" and DIRECTIONS[direction] != kind:
                self.problems.add(
                    where, f"direction {direction!r} needs a {DIRECTIONS[direction]} port, but this port is {kind}"
                )
                ok = False
            if ok:
                out.append(f"{operand}, {direction}")
        return out

    def _legacy_ports(self, mem: dict[str, Any], prefix: str, operands: list[str]) -> list[dict[str, Any]]:
        """Generate the ports old ZigZag created from the counts and translate the per-operand allocation."""
        counts = {
            k: self._int(mem, k, f"{prefix}.{k}", default=d) for k, d in (("r_port", 1), ("w_port", 1), ("rw_port", 0))
        }
        r_bw = self._int(mem, "r_bw", f"{prefix}.r_bw", minimum=1)
        needs_w = bool(counts["w_port"])
        w_bw = self._int(mem, "w_bw", f"{prefix}.w_bw", minimum=1) if needs_w else mem.get("w_bw")
        r_min = (
            self._int(mem, "min_r_granularity", f"{prefix}.min_r_granularity", minimum=1)
            if "min_r_granularity" in mem
            else r_bw
        )
        w_min = (
            self._int(mem, "min_w_granularity", f"{prefix}.min_w_granularity", minimum=1)
            if "min_w_granularity" in mem
            else w_bw
        )
        ports: dict[str, dict[str, Any]] = {}
        for kind, count_key, bw, bw_min in (
            ("read", "r_port", r_bw, r_min),
            ("write", "w_port", w_bw, w_min),
            ("read_write", "rw_port", r_bw, r_min),
        ):
            for i in range(1, (counts[count_key] or 0) + 1):
                name = f"{count_key}_{i}"
                ports[name] = {
                    "name": name,
                    "type": kind,
                    "bandwidth_min": bw_min,
                    "bandwidth_max": bw,
                    "allocation": [],
                }
        raw = self._list(mem, "ports", f"{prefix}.ports")
        if raw is None:
            return list(ports.values())
        if len(raw) != len(operands):
            self.problems.add(
                f"{prefix}.ports",
                f"the older port format lists one entry per operand ({len(operands)}: {operands}), got {len(raw)}",
            )
        for index, (entry, operand) in enumerate(zip(raw, operands, strict=False)):
            field = f"{prefix}.ports[{index}]"
            if not isinstance(entry, dict):
                self.problems.add(
                    field,
                    f"expected a mapping such as {{fh: w_port_1, tl: r_port_1}} for operand {operand}, "
                    f"got {type_name(entry)}",
                )
                continue
            for direction, port_name in entry.items():
                where = f"{field}.{direction}"
                if direction not in DIRECTIONS:
                    self.problems.add(where, f"unknown direction {direction!r}; expected fh, tl, fl or th")
                elif not isinstance(port_name, str) or port_name not in ports:
                    available = ", ".join(ports) or "none (all port counts are 0)"
                    self.problems.add(
                        where, f"no port named {port_name!r}; the r_port/w_port/rw_port counts give: {available}"
                    )
                elif ports[port_name]["type"] != "read_write" and DIRECTIONS[direction] != ports[port_name]["type"]:
                    self.problems.add(
                        where,
                        f"direction {direction!r} needs a {DIRECTIONS[direction]} port, "
                        f"but {port_name} is {ports[port_name]['type']}",
                    )
                else:
                    ports[port_name]["allocation"].append(f"{operand}, {direction}")
        return list(ports.values())

    def _check_unique_allocations(self, ports: list[dict[str, Any]], field: str) -> None:
        seen: dict[str, str] = {}
        for port in ports:
            for item in port["allocation"]:
                if item in seen and seen[item] != port["name"]:
                    self.problems.add(field, f'"{item}" is allocated to both {seen[item]} and {port["name"]}')
                seen.setdefault(item, port["name"])

    def _check_required_directions(self, memories: list[dict[str, Any]]) -> None:
        """ZigZag needs, per operand and level: ``tl``; for O also ``fl``; below the operand's top level
        also ``fh`` (and ``th`` for O). Without them its cost model fails at run time."""
        top = {
            op: max((i for i, m in enumerate(memories) if op in m["operands"]), default=-1) for op in MEMORY_OPERANDS
        }
        for level, mem in enumerate(memories):
            allocated = {item for port in mem["ports"] for item in port["allocation"]}
            for op in mem["operands"]:
                needed = ["tl", "fl"] if op == "O" else ["tl"]
                if level < top[op]:
                    needed += ["fh", "th"] if op == "O" else ["fh"]
                for direction in needed:
                    if f"{op}, {direction}" not in allocated:
                        kind = DIRECTIONS[direction]
                        self.problems.add(
                            f"memories.{mem['name']}.ports",
                            f"operand {op} has no '{direction}' allocation; ZigZag needs it to {_PURPOSE[direction]} "
                            f'(allocate "{op}, {direction}" to a {kind} or read_write port)',
                        )


_PURPOSE = {
    "tl": "read data toward the lower level",
    "fl": "write results coming up from the lower level",
    "fh": "write data coming from the higher level",
    "th": "read results toward the higher level",
}


def parse_unrolling(value: Any, field: str, problems: ProblemCollector) -> list[list[Any]]:
    """``["K, 16", "C, 2"]`` (any accepted spelling) -> ``[["K", 16], ["C", 2]]``; problems are recorded."""
    pairs, bad = pair_items(value)
    for index, item in bad:
        problems.add(f"{field}[{index}]", f'expected "<LOOP>, <factor>" (e.g. "K, 16"), got {item!r}')
    out: list[list[Any]] = []
    for loop, factor, index in pairs:
        if not LOOP_NAME.match(loop):
            problems.add(f"{field}[{index}]", f"expected a loop name such as K or OX, got {loop!r}")
        elif not is_int(factor) or factor < 1:
            problems.add(f"{field}[{index}]", f"expected a positive integer unroll factor for {loop}, got {factor!r}")
        else:
            out.append([loop, factor])
    return out
