"""A tile's compute cycles from the accelerator's kernel library, as stream-dse 2.1.1 prices AIE tiles.

* **Which kernel:** the mapping's kernel name when the library has that symbol, else the symbol
  Stream's kernel of that name calls (``gemm`` -> ``matmul_<t>_<t>``, ``silu`` -> ``silu_<t>_size``,
  ...; ``<t>`` the tile's data type in MLIR spelling). Without such a kernel: the op's family
  (MAC ops ``matmul``, others ``vector``) when the library declares it.
* **Call shape:** each dimension the kernel declares, from the kernel kwargs when given (Stream's
  call), else from the tile: ``m`` the extent of the output's second-to-last axis, ``n`` of its last,
  ``k`` the reduction of a MAC op. Kwargs the kernel does not compile for are input errors.
* **Cycles:** a measured call (exact shape, else nearest in operations on a log scale, else
  ``per_op``) scaled by the tile's operations, ``ceil(call cycles x ops / call ops)``; else the
  family's rate, ``ceil(ops / ops_per_cycle)``. ``ops`` is the tile's iteration points (MACs of a
  MAC op), as Stream counts them.
* **Ideal:** ``ceil(MACs / (m x k x n))`` on a matmul family with a ``mac`` tile (else ``None``: the
  cost model's ``ceil(ops / (peak MACs or vector lanes))``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import attrs

from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir.mapping import Kernel
from stream_core.ir.workload import Node
from stream_cores_aie.kernel_library import CallDim, KernelLibrary, KernelSpec, load_library

#: Our data types in the MLIR spelling of Stream's kernel symbols.
MLIR_TYPES = {"int8": "i8", "int16": "i16", "bf16": "bf16", "fp32": "f32"}


@attrs.frozen
class LibraryCycles:
    cycles: int
    ideal: int | None
    source: str
    details: tuple[tuple[str, Any], ...] = ()


def kernel_library(context: RunContext) -> KernelLibrary | None:
    """The run's kernel library (``annotations["kernel_library"]`` of its accelerator), if any."""
    accelerator = context.accelerator
    if accelerator is None:
        return None
    value = accelerator.annotations.get("kernel_library")
    if value is None:
        return None
    path = Path(value)
    if not path.is_absolute() and accelerator.source:
        path = Path(accelerator.source).parent / path
    if not path.is_file():
        raise InputError(
            Problem(f"kernel library file {str(path)!r} not found", file=accelerator.source, field="kernel_library")
        )
    return load_library(path)


def stream_symbol(kernel: Kernel, dtype: str) -> str | None:
    """The library symbol Stream 2.1.1's kernel ``kernel.name`` calls for ``dtype`` (``None``: not one of its)."""
    t = MLIR_TYPES[dtype]
    symbols = {
        "gemm": "matmul_PV" if kernel.get("flash") else f"matmul_{t}_{t}",
        "silu": f"silu_{t}_size",
        "eltwise_mul": f"eltwise_mul_{t}_vector_size",
        "softmax": f"softmax_rows_{'causal_' if kernel.get('causal') else ''}{t}",
        "partial_softmax": "partial_softmax_mode"
        if kernel.get("tiled_in") or kernel.get("tiled_out")
        else "partial_softmax",
        "matmul_softmax": "matmul_softmax",
    }
    return symbols.get(str(kernel.name))


def tile_call_dims(node: Node) -> dict[str, int]:
    """``m``, ``n`` (output rows, columns) and, for MAC ops, ``k`` (reduction) of a tile."""
    access = node.output.access
    if not access:
        return {}
    ranges = {loop.name: (0, loop.size) for loop in node.loops}
    dims = {"n": access[-1].distinct_count(ranges)}
    if len(access) > 1:
        dims["m"] = access[-2].distinct_count(ranges)
    if node.mac_op:
        dims["k"] = math.prod(node.sizes[d] for d in node.reduction_dims)
    return dims


def _spec(library: KernelLibrary, kernel: Kernel | None, dtype: str) -> KernelSpec | None:
    if kernel is None or kernel.name is None:
        return None
    return library.kernels.get(kernel.name) or library.kernels.get(stream_symbol(kernel, dtype) or "")


def _call_shape(spec: KernelSpec, node: Node, kernel: Kernel, library: KernelLibrary) -> dict[str, int]:
    tile = tile_call_dims(node)
    shape = {}
    for dim in spec.dims:
        size = kernel.get(dim.name)
        if size is None:
            if dim.name in tile:
                shape[dim.name] = tile[dim.name]
            continue
        if not isinstance(size, int) or isinstance(size, bool) or not dim.accepts(size):
            raise InputError(
                Problem(
                    f"kernel {spec.symbol} of the kernel library {library.file} does not compile "
                    f"{dim.name}={size!r} ({_limits(dim)})",
                    field=f"layer '{node.name}'.kernel.kwargs.{dim.name}",
                )
            )
        shape[dim.name] = size
    return shape


def _limits(dim: CallDim) -> str:
    parts = [f"fixed {dim.fixed}" if dim.fixed is not None else "", f"one of {list(dim.blocks)}" if dim.blocks else ""]
    parts.append(f"a multiple of {dim.divisor}" if dim.divisor else "")
    return ", ".join(p for p in parts if p) or "a positive integer"


def library_cycles(library: KernelLibrary, node: Node, kernel: Kernel | None, dtype: str) -> LibraryCycles | None:
    """The tile's compute cycles from ``library`` (``None`` when it has no kernel or family for it)."""
    ops = node.iteration_points
    spec = _spec(library, kernel, dtype)
    family_name = spec.family if spec is not None else ("matmul" if node.mac_op else "vector")
    family = library.families.get(family_name)
    mac_ops = family.mac_ops if family is not None and family_name == "matmul" else None
    ideal = math.ceil(ops / mac_ops) if mac_ops else None
    if spec is not None:
        assert kernel is not None
        shape = _call_shape(spec, node, kernel, library)
        measured = spec.measured_call(shape)
        if measured is not None:
            call_cycles, call_ops, which = measured
            return LibraryCycles(
                cycles=math.ceil(call_cycles * ops / call_ops),
                ideal=ideal,
                source=f"kernel library {spec.symbol} measured",
                details=(("library_call", f"{which}: {call_cycles:g} cycles for {call_ops} ops"),),
            )
    if family is None:
        return None
    return LibraryCycles(
        cycles=math.ceil(ops / family.ops_per_cycle),
        ideal=ideal,
        source=f"kernel library family {family_name}",
        details=(("ops_per_cycle", family.ops_per_cycle),),
    )
