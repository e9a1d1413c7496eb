"""Targets: the on-chip memory budget for fusion and the compute every kernel is costed on.

A target comes from

* a stream-core accelerator YAML (or :class:`~stream_core.ir.Accelerator`): the budget is its summed
  on-chip capacity, each kernel is costed on the first compute core that runs its operator;
* a small itensor target YAML::

      name: u55c-like
      on_chip_memory_bytes: 41500000   # fusion budget (null: unlimited)
      kernel:                          # compute of one dataflow kernel, for the roofline cost model
        macs_per_cycle: 256
        ops_per_cycle: 64
        bandwidth_bits_per_cycle: 512
      converter_bits_per_cycle: 512    # layout converter throughput

* a target name registered by a plugin (``stream_register_targets``): when its code generator registered
  an itensor view (``stream_register_itensor_targets``, :mod:`stream_itensor.hookspecs`), that view
  (the code generator's kernel timing and group check, as it plans its own designs), else its file as
  one of the above;
* nothing: :data:`DEFAULT_TARGET` (unlimited memory; 64 MACs/cycle, 64 ops/cycle, 512 bits/cycle,
  the :data:`KERNEL_DEFAULTS` that also fill in missing ``kernel`` keys).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from stream_core.context import RunContext
from stream_core.errors import InputError, Problem, ProblemCollector
from stream_core.hardware import is_accelerator_data, load_accelerator
from stream_core.ir import Accelerator, Core, CoreSummary
from stream_core.yamlio import load_yaml
from stream_itensor.fusion import FusionPlan, GroupCheck
from stream_itensor.graph import StreamGraph

if TYPE_CHECKING:
    from stream_itensor.profiles import KernelProfile

#: A backend's kernel timing: the profile of every kernel of a fused graph, from the design it will emit.
Timing = Callable[[StreamGraph, FusionPlan], Mapping[str, "KernelProfile"]]

DEFAULT_CONVERTER_BITS_PER_CYCLE = 512
_UNLIMITED_BITS = 1 << 62


@attrs.frozen
class KernelCoreDescription:
    """The compute of one dataflow kernel (a core description for cost models)."""

    name: str
    summary: CoreSummary

    def fingerprint(self) -> str:
        return f"itensor-kernel:{self.summary!r}"


@attrs.frozen
class Target:
    """Where the dataflow graph runs: fusion budget, kernel cores and converter throughput."""

    name: str
    #: On-chip memory for fusion in bytes, or ``None`` for unlimited.
    memory_bytes: int | None
    cores: tuple[Core, ...]
    converter_bits_per_cycle: int = DEFAULT_CONVERTER_BITS_PER_CYCLE
    accelerator: Accelerator | None = None
    #: A backend's check that a group fits one placement unit (:data:`stream_itensor.fusion.GroupCheck`).
    group_check: GroupCheck | None = attrs.field(default=None, eq=False)
    #: A backend's kernel timing (:data:`Timing`); ``None``: the cost model's profiles.
    timing: Timing | None = attrs.field(default=None, eq=False)

    @property
    def budget(self) -> int | Accelerator | None:
        """What :func:`stream_itensor.fusion.fuse` takes."""
        return self.accelerator if self.accelerator is not None else self.memory_bytes

    def core_for(self, op_type: str) -> Core:
        """The first core that runs ``op_type`` (the first core when none declares it)."""
        return next((c for c in self.cores if c.summary.can_run(op_type)), self.cores[0])

    @classmethod
    def from_accelerator(cls, accelerator: Accelerator) -> Target:
        cores = accelerator.compute_cores
        if not cores:
            raise InputError(
                Problem(
                    "the accelerator has no compute core to cost kernels on", file=accelerator.source, field="cores"
                )
            )
        bits = sum(c.summary.memory_bits for c in accelerator.cores.values() if c.kind != "offchip")
        return cls(accelerator.name, bits // 8, cores, accelerator=accelerator)


def kernel_target(
    name: str,
    memory_bytes: int | None,
    macs_per_cycle: float,
    ops_per_cycle: float,
    bandwidth_bits_per_cycle: float,
    converter_bits_per_cycle: int = DEFAULT_CONVERTER_BITS_PER_CYCLE,
) -> Target:
    """A target whose kernels all have the same compute (a dataflow accelerator without an accelerator file)."""
    summary = CoreSummary(
        memory_bits=_UNLIMITED_BITS if memory_bytes is None else memory_bytes * 8,
        read_bandwidth=bandwidth_bits_per_cycle,
        write_bandwidth=bandwidth_bits_per_cycle,
        peak_macs_per_cycle=macs_per_cycle,
        peak_ops_per_cycle=ops_per_cycle,
    )
    core = Core(0, "itensor.compute", KernelCoreDescription(f"{name}-kernel", summary))
    return Target(name, memory_bytes, (core,), converter_bits_per_cycle)


#: Kernel compute of targets that do not say (and of :data:`DEFAULT_TARGET`).
KERNEL_DEFAULTS = {"macs_per_cycle": 64, "ops_per_cycle": 64, "bandwidth_bits_per_cycle": 512}
DEFAULT_TARGET = kernel_target("default", None, **KERNEL_DEFAULTS)

_KERNEL_KEYS = tuple(KERNEL_DEFAULTS)
_KEYS = ("name", "on_chip_memory_bytes", "kernel", "converter_bits_per_cycle")


def parse_target_data(data: Any, file: str | None = None) -> Target:
    """Read an itensor target mapping (see the module docstring); reports every problem."""
    problems = ProblemCollector(file)
    if not isinstance(data, dict):
        problems.add(None, "expected a mapping with on_chip_memory_bytes and kernel")
        problems.raise_if_any()
    for key in data:
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key), _KEYS, n=1)
            problems.add(
                str(key),
                "unknown key" + (f"; did you mean {close[0]!r}?" if close else f"; expected {', '.join(_KEYS)}"),
            )
    name = data.get("name", Path(file).stem if file else "target")
    if not isinstance(name, str):
        problems.add("name", f"expected a string, got {name!r}")
    memory = data.get("on_chip_memory_bytes")
    if "on_chip_memory_bytes" not in data:
        problems.add("on_chip_memory_bytes", "missing: the on-chip memory budget in bytes (null for unlimited)")
    elif memory is not None and (isinstance(memory, bool) or not isinstance(memory, int) or memory < 0):
        problems.add("on_chip_memory_bytes", f"expected a non-negative integer or null, got {memory!r}")
    kernel = data.get("kernel", {})
    values: dict[str, float] = {}
    if not isinstance(kernel, dict):
        problems.add("kernel", f"expected a mapping with {', '.join(_KERNEL_KEYS)}")
        kernel = {}
    for key in kernel:
        if key not in _KERNEL_KEYS:
            problems.add(f"kernel.{key}", f"unknown key; expected {', '.join(_KERNEL_KEYS)}")
    for key in _KERNEL_KEYS:
        value = kernel.get(key, KERNEL_DEFAULTS[key])
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            problems.add(f"kernel.{key}", f"expected a positive number, got {value!r}")
        else:
            values[key] = float(value)
    width = data.get("converter_bits_per_cycle", DEFAULT_CONVERTER_BITS_PER_CYCLE)
    if isinstance(width, bool) or not isinstance(width, int) or width <= 0:
        problems.add("converter_bits_per_cycle", f"expected a positive integer, got {width!r}")
    problems.raise_if_any()
    return kernel_target(
        name, memory, values["macs_per_cycle"], values["ops_per_cycle"], values["bandwidth_bits_per_cycle"], width
    )


#: A hardware file of another format (e.g. an FPGA platform file) may embed its itensor target view under this key.
EMBEDDED_KEY = "itensor"


def load_target(reference: str | Path | None, context: RunContext) -> Target:
    """A target from a file path or a registered target name (``None``: :data:`DEFAULT_TARGET`): an
    itensor target file, an accelerator file, or any YAML with an :data:`EMBEDDED_KEY` section."""
    if reference is None:
        return DEFAULT_TARGET
    path = Path(reference)
    if not path.exists():
        registry = context.plugins.registry("targets")
        if str(reference) in registry:
            record = registry.get(str(reference))
            path = Path(record.load())
            views = context.plugins.registry("itensor_targets")
            if record.code_generator in views:
                return views.get(record.code_generator).load()(path, context)
        else:
            names = ", ".join(registry.names()) or "none registered"
            raise InputError(
                Problem(f"no such file, and no registered target of that name (targets: {names})", file=str(reference))
            )
    data = load_yaml(path)
    if is_accelerator_data(data):
        return Target.from_accelerator(load_accelerator(path, context.plugins))
    if isinstance(data, dict) and isinstance(data.get(EMBEDDED_KEY), dict):
        return parse_target_data(data[EMBEDDED_KEY], str(path))  # a platform file carrying its itensor view
    return parse_target_data(data, str(path))
