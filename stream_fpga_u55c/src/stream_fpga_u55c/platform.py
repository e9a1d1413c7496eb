"""The FPGA platform file (``data/u55c.yaml``): identity, HBM, on-chip memory and SLR resources.

:func:`load_platform` reads and validates a platform file and reports every problem at once (file and
dotted key path). :data:`DEFAULT_PLATFORM_FILE` is the packaged AMD Alveo U55C.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from stream_core.errors import ProblemCollector
from stream_core.yamlio import is_int, is_number, load_yaml, type_name

DEFAULT_PLATFORM_FILE = Path(str(resources.files("stream_fpga_u55c") / "data" / "u55c.yaml"))

_TOP_KEYS = (
    "name", "description", "platform", "part", "kernel_clock", "hbm", "memory_blocks", "slrs", "dsp_per_op",
    "itensor",  # the stream-itensor view of the platform, read by stream_itensor.api.load_target
)  # fmt: skip
_HBM_KEYS = ("pseudo_channels", "pc_bytes", "pc_bandwidth_gbps", "total_bandwidth_gbps", "slr", "axi_data_bits")
_SLR_KEYS = ("name", "lut", "ff", "bram36", "uram", "dsp")
_DSP_OPS = ("add", "mul", "div", "exp", "sqrt", "compare")


@attrs.frozen
class Slr:
    """Resources of one super logic region available to kernels."""

    name: str
    lut: int
    ff: int
    bram36: int
    uram: int
    dsp: int


@attrs.frozen
class Platform:
    """An Alveo card as the backend needs it."""

    name: str
    description: str
    platform: str
    part: str
    clock_mhz: float
    clock_verified: bool
    hbm_pcs: int
    pc_bytes: int
    pc_bandwidth_gbps: float
    hbm_slr: int
    axi_data_bits: int
    bram36_bits: int
    uram_bits: int
    slrs: tuple[Slr, ...]
    dsp_per_op: tuple[tuple[str, int], ...]
    source: str

    @property
    def hbm_bandwidth_gbps(self) -> float:
        """Aggregate theoretical HBM bandwidth in GB/s (1e9 bytes/s)."""
        return self.hbm_pcs * self.pc_bandwidth_gbps

    @property
    def on_chip_bytes(self) -> int:
        """BRAM36 plus URAM capacity of all SLRs, in bytes."""
        return sum(self.slr_bytes(s) for s in self.slrs)

    @property
    def group_budget_bytes(self) -> int:
        """The fusion budget: BRAM36 plus URAM bytes of the smallest SLR (a fused group is one kernel in one SLR)."""
        return min(self.slr_bytes(s) for s in self.slrs)

    def slr_bytes(self, slr: Slr) -> int:
        return (slr.bram36 * self.bram36_bits + slr.uram * self.uram_bits) // 8

    def dsp(self, op: str) -> int:
        return dict(self.dsp_per_op)[op]


def _positive(problems: ProblemCollector, data: dict[str, Any] | None, key: str, field: str, *, integer: bool) -> Any:
    """``data[key]`` if it is a positive number, else None with a problem (``data`` None: a section that is
    not a mapping, reported already)."""
    if data is None:
        return None
    value = data.get(key)
    ok = is_int(value) if integer else is_number(value)
    if value is None:
        problems.add(field, "missing required field")
    elif not ok or value <= 0:
        problems.add(field, f"expected a positive {'integer' if integer else 'number'}, got {value!r}")
    else:
        return value
    return None


def _unknown(problems: ProblemCollector, data: dict[str, Any] | None, known: tuple[str, ...], prefix: str) -> None:
    for key in data or ():
        if key not in known:
            problems.add(f"{prefix}{key}", f"unknown key; expected one of {', '.join(known)}")


def _section(problems: ProblemCollector, data: dict[str, Any], key: str) -> dict[str, Any] | None:
    """``data[key]`` if it is a mapping, else None with a problem."""
    value = data.get(key)
    if not isinstance(value, dict):
        problems.add(key, f"expected a mapping, got {type_name(value)}")
        return None
    return value


def _slrs(problems: ProblemCollector, raw: Any) -> list[Slr]:
    if not isinstance(raw, list) or not raw:
        problems.add("slrs", f"expected a non-empty list of SLRs, got {type_name(raw)}")
        return []
    out = []
    for i, entry in enumerate(raw):
        field = f"slrs[{i}]"
        if not isinstance(entry, dict):
            problems.add(field, f"expected a mapping with {', '.join(_SLR_KEYS)}")
            continue
        _unknown(problems, entry, _SLR_KEYS, f"{field}.")
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            problems.add(f"{field}.name", f"expected a non-empty string, got {name!r}")
        values = [_positive(problems, entry, k, f"{field}.{k}", integer=True) for k in _SLR_KEYS[1:]]
        if isinstance(name, str) and name and None not in values:
            out.append(Slr(name, *values))
    return out


def load_platform(path: Path | str | None = None) -> Platform:
    """Read and validate a platform file (default: the packaged U55C); raises ``InputError`` listing every problem."""
    path = Path(path) if path is not None else DEFAULT_PLATFORM_FILE
    data = load_yaml(path)
    problems = ProblemCollector(str(path))
    if not isinstance(data, dict):
        problems.add(None, f"expected a mapping with {', '.join(_TOP_KEYS)}, got {type_name(data)}")
        problems.raise_if_any()
    _unknown(problems, data, _TOP_KEYS, "")
    for key in ("name", "platform", "part"):
        if not isinstance(data.get(key), str) or not data.get(key):
            problems.add(key, f"expected a non-empty string, got {data.get(key)!r}")
    clock = _section(problems, data, "kernel_clock")
    mhz = _positive(problems, clock, "mhz", "kernel_clock.mhz", integer=False)
    hbm = _section(problems, data, "hbm")
    _unknown(problems, hbm, _HBM_KEYS, "hbm.")
    pcs = _positive(problems, hbm, "pseudo_channels", "hbm.pseudo_channels", integer=True)
    pc_bytes = _positive(problems, hbm, "pc_bytes", "hbm.pc_bytes", integer=True)
    pc_bw = _positive(problems, hbm, "pc_bandwidth_gbps", "hbm.pc_bandwidth_gbps", integer=False)
    axi = _positive(problems, hbm, "axi_data_bits", "hbm.axi_data_bits", integer=True)
    hbm = hbm or {}
    total = hbm.get("total_bandwidth_gbps")
    if total is not None and pcs and pc_bw and abs(total - pcs * pc_bw) > 1e-6 * total:
        problems.add("hbm.total_bandwidth_gbps", f"{total} != pseudo_channels x pc_bandwidth_gbps = {pcs * pc_bw}")
    blocks = _section(problems, data, "memory_blocks")
    bram_bits = _positive(problems, blocks, "bram36_bits", "memory_blocks.bram36_bits", integer=True)
    uram_bits = _positive(problems, blocks, "uram_bits", "memory_blocks.uram_bits", integer=True)
    slrs = _slrs(problems, data.get("slrs"))
    hbm_slr = hbm.get("slr", 0)
    if not is_int(hbm_slr) or not 0 <= hbm_slr < max(len(slrs), 1):
        problems.add("hbm.slr", f"expected the index of an SLR (0..{len(slrs) - 1}), got {hbm_slr!r}")
    dsp = _section(problems, data, "dsp_per_op") or {}
    _unknown(problems, dsp, _DSP_OPS, "dsp_per_op.")
    for op in _DSP_OPS:
        if not is_int(dsp.get(op)) or dsp[op] < 0:
            problems.add(f"dsp_per_op.{op}", f"expected a non-negative integer, got {dsp.get(op)!r}")
    problems.raise_if_any()
    return Platform(
        name=data["name"],
        description=str(data.get("description", "")),
        platform=data["platform"],
        part=data["part"],
        clock_mhz=float(mhz),
        clock_verified=bool(clock and clock.get("verified", False)),
        hbm_pcs=pcs,
        pc_bytes=pc_bytes,
        pc_bandwidth_gbps=float(pc_bw),
        hbm_slr=hbm_slr,
        axi_data_bits=axi,
        bram36_bits=bram_bits,
        uram_bits=uram_bits,
        slrs=tuple(slrs),
        dsp_per_op=tuple((op, int(dsp[op])) for op in _DSP_OPS),
        source=str(path),
    )
