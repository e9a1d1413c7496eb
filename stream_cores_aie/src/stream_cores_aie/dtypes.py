"""Which AIE data type a tile computes in, and which kernel efficiency applies, with their sources.

A cost request carries the node, not the workload, so the ONNX element type is not at hand: only
each operand's precision in bits. The rule:

* the mapping's kernel kwargs ``dtype`` (``int8``, ``int16``, ``bf16``/``bfloat16``,
  ``fp32``/``float32``) wins when given (source ``kernel``);
* otherwise the precision decides (source ``precision``): 8 bits -> ``int8``, 16 -> ``bf16``
  (the AIE-ML's 16-bit floating type; int16 and float16 tensors need ``dtype: int16`` in the kernel
  kwargs: AIE-ML has no float16 datapath), 32 -> ``fp32``. MAC ops use the wider of their two
  multiplicands (the first two operands read); element-wise ops the widest operand.

Efficiency: the kernel kwargs ``utilization`` (percent), else the core file's ``utilization``, else
:data:`~stream_cores_aie.defaults.DEFAULT_EFFICIENCY`; never 100 % silently.
"""

from __future__ import annotations

from typing import Any

import attrs

from stream_core.errors import InputError, Problem
from stream_core.ir.mapping import Kernel
from stream_core.ir.workload import Node
from stream_core.yamlio import is_number
from stream_cores_aie import defaults
from stream_cores_aie.description import AieCore

PRECISION_DTYPE = {8: "int8", 16: "bf16", 32: "fp32"}
KERNEL_DTYPES = {
    "int8": "int8",
    "i8": "int8",
    "int16": "int16",
    "i16": "int16",
    "bf16": "bf16",
    "bfloat16": "bf16",
    "fp32": "fp32",
    "f32": "fp32",
    "float32": "fp32",
}

SOURCE_KERNEL = "kernel kwargs utilization"
SOURCE_CORE = "core file utilization"
SOURCE_DEFAULT = "default (no utilization in the kernel kwargs or the core file)"


@attrs.frozen
class Choice:
    value: Any
    source: str


def _kwarg_field(node: Node, key: str) -> str:
    return f"layer '{node.name}'.kernel.kwargs.{key}"


def tile_dtype(node: Node, kernel: Kernel | None) -> Choice | str:
    """The data type of ``node``'s arithmetic, or a reason why none applies."""
    if kernel is not None and kernel.get("dtype") is not None:
        raw = kernel.get("dtype")
        dtype = KERNEL_DTYPES.get(str(raw).strip().lower())
        if dtype is None:
            raise InputError(
                Problem(
                    f"unknown AIE data type {raw!r}; expected one of {', '.join(KERNEL_DTYPES)}",
                    field=_kwarg_field(node, "dtype"),
                )
            )
        return Choice(dtype, "kernel")
    operands = node.reads[:2] if node.mac_op else node.operands
    bits = max(op.precision for op in operands)
    dtype = PRECISION_DTYPE.get(bits)
    if dtype is None:
        return (
            f"no AIE data type for {bits}-bit operands of {node.op_type} {node.name!r}; "
            f"set kernel kwargs dtype ({', '.join(defaults.DTYPES)}) in the mapping"
        )
    return Choice(dtype, "precision")


def kernel_efficiency(node: Node, kernel: Kernel | None, core: AieCore) -> Choice:
    """Fraction of peak the kernel reaches, and where that number came from."""
    if kernel is not None and kernel.get("utilization") is not None:
        raw = kernel.get("utilization")
        if not is_number(raw) or not 0 < raw <= 100:
            raise InputError(
                Problem(f"expected a percentage in (0, 100], got {raw!r}", field=_kwarg_field(node, "utilization"))
            )
        return Choice(raw / 100, SOURCE_KERNEL)
    if core.utilization is not None:
        return Choice(core.utilization / 100, SOURCE_CORE)
    return Choice(defaults.DEFAULT_EFFICIENCY["mac" if node.mac_op else "vector"], SOURCE_DEFAULT)
