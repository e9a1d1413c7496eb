"""Stream 2.1.1's AIE kernel library: what each kernel symbol compiles and what one call of it costs.

The accelerator's ``kernel_library`` names the file: TOML when it ends in ``.toml``, else YAML.

* ``family.<matmul|vector>``: ``ops_per_cycle`` (required, > 0: the rate a kernel of the family
  reaches) and, for the matmul unit, ``mac: {m, k, n}`` (the MAC tile it issues per cycle);
* ``kernel.<symbol>``: ``family`` (required, a declared family), ``binding`` and ``object``
  (strings, code generation only), ``dims`` (``[{name, runtime, fixed, blocks, divisor,
  keep_whole}]``: the call's dimensions and the sizes it compiles for), ``cycles`` (measured calls:
  ``[{<dim>: size, ..., cycles}]``) and ``per_op: {cycles, ops}``.

Unknown keys are errors naming the file and the key path, all at once (as Stream raises on them).
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from stream_core.errors import InputError, Problem, ProblemCollector
from stream_core.yamlio import decode_text, is_int, parse_yaml, read_input, type_name
from stream_cores_aie.schema import FieldReader, positive

FAMILIES = ("matmul", "vector")
TOP_KEYS = ("family", "kernel")
FAMILY_KEYS = ("ops_per_cycle", "mac")
MAC_KEYS = ("m", "k", "n")
KERNEL_KEYS = ("family", "binding", "object", "dims", "cycles", "per_op")
DIM_KEYS = ("name", "runtime", "fixed", "blocks", "divisor", "keep_whole")
PER_OP_KEYS = ("cycles", "ops")


@attrs.frozen
class Family:
    ops_per_cycle: float
    mac: tuple[tuple[str, int], ...] = ()

    @property
    def mac_ops(self) -> int | None:
        """MACs of the matmul unit's tile (``m * k * n``), ``None`` without a ``mac`` tile."""
        return math.prod(v for _, v in self.mac) if self.mac else None


@attrs.frozen
class CallDim:
    name: str
    runtime: bool = False
    fixed: int | None = None
    blocks: tuple[int, ...] = ()
    divisor: int | None = None
    keep_whole: bool = False

    def accepts(self, size: int) -> bool:
        """Whether the kernel compiles for ``size`` along this dimension."""
        if self.fixed is not None and size != self.fixed:
            return False
        if self.blocks and size not in self.blocks:
            return False
        return not self.divisor or size % self.divisor == 0


@attrs.frozen
class KernelSpec:
    symbol: str
    family: str
    dims: tuple[CallDim, ...] = ()
    binding: str | None = None
    object: str | None = None
    #: Measured calls: (shape, cycles).
    cycles: tuple[tuple[tuple[tuple[str, int], ...], float], ...] = ()
    per_op: tuple[float, int] | None = None

    def measured_call(self, shape: Mapping[str, int]) -> tuple[float, int, str] | None:
        """Cycles and operations of the measured call for ``shape``, and which one it is: the call of
        exactly that shape, else the one nearest in operations on a log scale, else ``per_op``."""
        for measured, cycles in self.cycles:
            if all(shape.get(name) == size for name, size in measured):
                return cycles, math.prod(v for _, v in measured), f"call {_shape(measured)}"
        want = math.prod(shape.values())
        if self.cycles and want > 0:
            measured, cycles = min(self.cycles, key=lambda mc: abs(math.log(math.prod(v for _, v in mc[0]) / want)))
            return cycles, math.prod(v for _, v in measured), f"nearest call {_shape(measured)}"
        if self.per_op is not None:
            return self.per_op[0], self.per_op[1], "per_op"
        return None


@attrs.frozen
class KernelLibrary:
    file: str
    digest: str
    families: Mapping[str, Family]
    kernels: Mapping[str, KernelSpec]


def _shape(measured: tuple[tuple[str, int], ...]) -> str:
    return "x".join(f"{name}={size}" for name, size in measured) or "()"


def load_library(path: Path) -> KernelLibrary:
    """Read and validate a kernel library file (TOML when it ends in ``.toml``, else YAML)."""
    expected = "a kernel library (TOML or YAML)"
    raw = read_input(path, expected=expected)
    text = decode_text(raw, str(path), expected=expected)
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except RecursionError:
            raise InputError(Problem("invalid TOML: nested too deeply", file=str(path))) from None
        except ValueError as exc:  # TOMLDecodeError, or an integer too long to convert
            raise InputError(Problem(f"invalid TOML: {exc}", file=str(path))) from None
    else:
        data = parse_yaml(text, str(path))
    return parse_library(data, str(path), hashlib.sha256(raw).hexdigest())


def parse_library(data: Any, file: str, digest: str = "") -> KernelLibrary:
    """Validate a parsed library (every problem at once, each with its key path)."""
    problems = ProblemCollector(file)
    read = FieldReader(problems)
    if not isinstance(data, dict):
        problems.add(None, f"expected a table with 'family' and 'kernel', got {type_name(data)}")
        problems.raise_if_any()
    read.unknown_keys(data, TOP_KEYS)
    families = {}
    declared = read.mapping(data, "family", "family")
    for name, entry in declared.items():
        where = f"family.{name}"
        if name not in FAMILIES:
            problems.add(where, f"unknown kernel family; expected one of {', '.join(FAMILIES)}")
        elif (family := _family(read, entry, where)) is not None:
            families[name] = family
    kernels = {}
    for symbol, entry in read.mapping(data, "kernel", "kernel").items():
        spec = _kernel(read, str(symbol), entry, [n for n in declared if n in FAMILIES])
        if spec is not None:
            kernels[spec.symbol] = spec
    problems.raise_if_any()
    return KernelLibrary(file=file, digest=digest, families=families, kernels=kernels)


def _table(read: FieldReader, entry: Any, where: str, known: tuple[str, ...]) -> dict[str, Any] | None:
    if not isinstance(entry, dict):
        read.problems.add(where, f"expected a table, got {type_name(entry)}")
        return None
    read.unknown_keys(entry, known, f"{where}.")
    return entry


def _family(read: FieldReader, entry: Any, where: str) -> Family | None:
    table = _table(read, entry, where, FAMILY_KEYS)
    if table is None:
        return None
    rate = read.number(table, "ops_per_cycle", f"{where}.ops_per_cycle", "a number > 0", positive, required=True)
    mac = {}
    if "mac" in table:
        mac_table = _table(read, table["mac"], f"{where}.mac", MAC_KEYS)
        if mac_table is None:
            return None
        for key in MAC_KEYS:
            mac[key] = read.number(
                mac_table, key, f"{where}.mac.{key}", "an integer >= 1", positive, required=True, integer=True
            )
    if rate is None or None in mac.values():
        return None
    return Family(rate, tuple(mac.items()))


def _kernel(read: FieldReader, symbol: str, entry: Any, families: list[str]) -> KernelSpec | None:
    where = f"kernel.{symbol}"
    table = _table(read, entry, where, KERNEL_KEYS)
    if table is None:
        return None
    problems = read.problems
    before = len(problems.problems)
    family = table.get("family")
    if family is None:
        problems.add(f"{where}.family", f"missing required field (one of {', '.join(FAMILIES)})")
    elif family not in families:
        declared = ", ".join(families) or "none"
        problems.add(f"{where}.family", f"names family {family!r}, which the library does not declare ({declared})")
    for key in ("binding", "object"):
        if key in table and not isinstance(table[key], str):
            problems.add(f"{where}.{key}", f"expected a string, got {type_name(table[key])}")
    raw_dims = _list(read, table, "dims", where)
    dims = tuple(d for i, raw in enumerate(raw_dims) if (d := _dim(read, raw, f"{where}.dims[{i}]")) is not None)
    names = [str(raw.get("name")) for raw in raw_dims if isinstance(raw, dict)]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.add(f"{where}.dims", f"dimension {name!r} is declared twice")
    cycles = []
    for i, row in enumerate(_list(read, table, "cycles", where)):
        measured = _measured(read, row, f"{where}.cycles[{i}]", names)
        if measured is not None:
            cycles.append(measured)
    per_op = None
    if "per_op" in table and (per_op_table := _table(read, table["per_op"], f"{where}.per_op", PER_OP_KEYS)):
        op_cycles = read.number(
            per_op_table, "cycles", f"{where}.per_op.cycles", "a number > 0", positive, required=True
        )
        ops = read.number(
            per_op_table, "ops", f"{where}.per_op.ops", "an integer >= 1", positive, required=True, integer=True
        )
        per_op = (op_cycles, ops)
    if len(problems.problems) > before or family is None:
        return None
    return KernelSpec(
        symbol=symbol,
        family=family,
        dims=dims,
        binding=table.get("binding"),
        object=table.get("object"),
        cycles=tuple(cycles),
        per_op=per_op,
    )


def _list(read: FieldReader, table: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = table.get(key, [])
    if not isinstance(value, list):
        read.problems.add(f"{where}.{key}", f"expected a list, got {type_name(value)}")
        return []
    return value


def _dim(read: FieldReader, entry: Any, where: str) -> CallDim | None:
    table = _table(read, entry, where, DIM_KEYS)
    if table is None:
        return None
    before = len(read.problems.problems)
    name = table.get("name")
    if not isinstance(name, str) or not name:
        read.problems.add(f"{where}.name", f"expected the dimension's name (a string), got {name!r}")
    for key in ("runtime", "keep_whole"):
        if key in table and not isinstance(table[key], bool):
            read.problems.add(f"{where}.{key}", f"expected true or false, got {table[key]!r}")
    sizes = {
        key: read.number(table, key, f"{where}.{key}", "an integer >= 1", positive, integer=True)
        for key in ("fixed", "divisor")
    }
    blocks = table.get("blocks", [])
    if not isinstance(blocks, list) or not all(is_int(b) and b >= 1 for b in blocks):
        read.problems.add(f"{where}.blocks", f"expected a list of integers >= 1, got {blocks!r}")
    if len(read.problems.problems) > before or not isinstance(name, str):
        return None
    return CallDim(
        name=name,
        runtime=table.get("runtime", False),
        fixed=sizes["fixed"],
        blocks=tuple(blocks),
        divisor=sizes["divisor"],
        keep_whole=table.get("keep_whole", False),
    )


def _measured(
    read: FieldReader, row: Any, where: str, names: list[str]
) -> tuple[tuple[tuple[str, int], ...], float] | None:
    table = _table(read, row, where, ("cycles", *names))
    if table is None:
        return None
    cycles = read.number(table, "cycles", f"{where}.cycles", "a number > 0 of cycles", positive, required=True)
    shape = {
        key: read.number(table, key, f"{where}.{key}", "an integer >= 1", positive, integer=True)
        for key in names
        if key in table
    }
    if cycles is None or None in shape.values():
        return None
    return tuple(shape.items()), cycles
