"""The native ``aie`` cost model: one tile of a node on one AIE tile, analytically.

With ``e`` the kernel efficiency and ``d`` the data type (see :mod:`stream_cores_aie.dtypes`):

* MAC ops (Gemm, MatMul, Conv): ``compute = ceil(MACs / (peak_macs[d] * e))``;
* other compute ops (element-wise, activations, reductions, normalisations) run on the vector
  unit: ``compute = ceil(points * ops_per_point(op) / (vector_lanes[d] * e))``;
* ``memory = max(ceil(bits read / bandwidth_max), ceil(bits written / bandwidth_max))``, the bits
  being the distinct operand elements the tile touches (the data memory's load and store ports
  work in parallel);
* ``latency = kernel_call_overhead + max(compute, memory)``: a memory-bound tile takes at least its
  bytes over the tile's memory bandwidth;
* data-movement nodes (reshape, transpose, ...) run on a tile's DMA, one channel:
  ``latency = max(ceil(bits written / channel_bits), memory)``, no kernel call;
* energy = MACs (or element-ops) x ``mac_pj[d]`` + bytes read and written x ``byte_pj``.

A tile's operands must fit the tile's data memory minus ``reserved_bytes``: ``2 x (inputs +
weights) + output`` with ``double_buffer`` (the object-FIFO ping-pong of the inputs; default), else
``inputs + weights + output``; otherwise the result is infeasible with the numbers. Compute nodes
on mem tiles or shims are infeasible (they have no core).

With a kernel library (the accelerator's ``kernel_library``, Stream 2.1.1's format) the compute
cycles of a compute op come from it as :mod:`stream_cores_aie.library_cost` says, and ``latency =
max(compute, memory)``: a measured call includes its call overhead and a family's
``ops_per_cycle`` is an achieved rate, so neither ``kernel_call_overhead`` nor an efficiency is
applied. Ops the library has no kernel or family for are costed analytically, with a warning.

Each result's ``details`` say where its cycles came from (``cycles_source``: "kernel library
<symbol> measured", "kernel library family <family>" or "analytic") and which data type and (for
analytic cycles) efficiency were used and where they came from. A ``warnings`` detail names each
fallback an answer rests on (the analytic model beside a kernel library, the default efficiency,
utilization kwargs not applied to library cycles); the run warns it, from the cost cache too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from stream_core.context import RunContext
from stream_core.ir.cost import CostRequest, CostResult
from stream_core.ir.workload import NodeKind
from stream_cores_aie import MODEL_VERSION, __version__, defaults
from stream_cores_aie.description import AieCore
from stream_cores_aie.dtypes import SOURCE_DEFAULT, Choice, kernel_efficiency, tile_dtype
from stream_cores_aie.kernel_library import KernelLibrary
from stream_cores_aie.library_cost import kernel_library, library_cycles

NAME = "aie"


def _ceil(a: float, b: float) -> int:
    return math.ceil(a / b) if a > 0 else 0


def cost_request(request: CostRequest, library: KernelLibrary | None = None) -> CostResult:
    """Cost one request with the formulas of the module docstring (``library``: the kernel library)."""
    node, core = request.node, request.core
    desc = core.description
    where = f"core {core.id} ({core.name}, {core.type})"
    if not isinstance(desc, AieCore):
        return CostResult.infeasible(NAME, f"{where} was not read by stream-cores-aie; the aie model costs aie2 cores")
    read_bits = sum(node.footprint_bits(op) for op in node.reads)
    write_bits = node.footprint_bits(node.output)
    factor = 2 if desc.double_buffer else 1
    need = factor * read_bits + write_bits
    if need > desc.usable_bits:
        parts = " + ".join(f"{op.role.value} {node.footprint_bits(op)}" for op in node.reads)
        rule = f"2 x ({parts}) + output {write_bits}" if desc.double_buffer else f"{parts} + output {write_bits}"
        return CostResult.infeasible(
            NAME,
            f"tile of {node.name!r} needs {need} bits of data memory ({rule}, double-buffered inputs: "
            f"{desc.double_buffer}) but {where} has {desc.usable_bits} bits "
            f"(capacity {desc.capacity_bits} - reserved {8 * desc.reserved_bytes}); tile smaller",
        )
    memory = max(_ceil(read_bits, desc.bandwidth_max), _ceil(write_bits, desc.bandwidth_max))
    details: dict[str, object] = {
        "read_bits": read_bits,
        "write_bits": write_bits,
        "buffer_bits": need,
        "memory_cycles": memory,
    }
    utilisation = {"data_memory": need / desc.usable_bits}
    bytes_moved = (read_bits + write_bits) / 8

    if node.kind is NodeKind.DATA_MOVEMENT:
        dma = _ceil(write_bits, desc.channel_bits)
        details.update(dma_cycles=dma, channel_bits=desc.channel_bits)
        return CostResult(
            latency=max(dma, memory, 1),
            energy_pj=bytes_moved * desc.byte_pj,
            model=NAME,
            ideal_cycles=dma,
            memory_utilisation=utilisation,
            details=details,
        )
    if core.kind != "compute":
        return CostResult.infeasible(NAME, f"{where} is not a compute tile and cannot run {node.op_type} {node.name!r}")

    dtype = tile_dtype(node, request.kernel)
    if isinstance(dtype, str):
        return CostResult.infeasible(NAME, dtype)
    if node.mac_op:
        ops, rate, unit = node.macs, desc.peak(dtype.value), "peak_macs_per_cycle"
    else:
        ops = node.iteration_points * defaults.ops_per_point(node.op_type)
        rate, unit = desc.lanes(dtype.value), "vector_lanes"
    if rate <= 0:
        return CostResult.infeasible(NAME, f"{where} has {unit}[{dtype.value}] = 0 for {node.op_type} {node.name!r}")
    energy = ops * desc.mac_energy(dtype.value) + bytes_moved * desc.byte_pj
    details.update(dtype=dtype.value, dtype_source=dtype.source, ops=ops)
    if library is not None and (priced := library_cycles(library, node, request.kernel, dtype.value)) is not None:
        details.update(priced.details, cycles_source=priced.source, kernel_library=library.file)
        details.update(compute_cycles=priced.cycles)
        return CostResult(
            latency=max(priced.cycles, memory, 1),
            energy_pj=energy,
            model=NAME,
            ideal_cycles=_ceil(node.iteration_points, rate) if priced.ideal is None else priced.ideal,
            memory_utilisation=utilisation,
            details=details,
        )
    efficiency = kernel_efficiency(node, request.kernel, desc)
    compute = _ceil(ops, rate * efficiency.value)
    details.update(
        _describe(efficiency),
        **{unit: rate},
        compute_cycles=compute,
        call_overhead=desc.kernel_call_overhead,
        cycles_source="analytic",
    )
    return CostResult(
        latency=desc.kernel_call_overhead + max(compute, memory),
        energy_pj=energy,
        model=NAME,
        ideal_cycles=_ceil(ops, rate),
        memory_utilisation=utilisation,
        details=details,
    )


def _describe(efficiency: Choice) -> dict[str, object]:
    return {"efficiency": efficiency.value, "efficiency_source": efficiency.source}


class AieCostModel:
    """Factory object of the ``aie`` :class:`~stream_core.records.CostModelRecord`."""

    def cache_token(self, context: RunContext) -> str:
        """The model's version and the kernel library's path and content: an edited library is costed
        anew, and a moved one too (the answers' warnings name the file)."""
        library = kernel_library(context)
        digest = "none" if library is None else f"{library.file} sha256 {library.digest}"
        return f"stream-cores-aie {__version__} model {MODEL_VERSION}|kernel library {digest}"

    def cost(self, requests: Sequence[CostRequest], context: RunContext) -> list[CostResult]:
        """Each tile's answer, carrying in its ``warnings`` detail what it rests on beyond the given
        figures (so a cached answer warns again)."""
        library = kernel_library(context)
        results = [cost_request(r, library) for r in requests]
        return [res.with_warnings(_fallbacks(r, res, library)) for r, res in zip(requests, results, strict=True)]


def _fallbacks(request: CostRequest, result: CostResult, library: KernelLibrary | None) -> list[str]:
    """A warning for each fallback ``result`` rests on."""
    op = request.node.op_type
    found = []
    if library is not None and result.detail("cycles_source") == "analytic":
        found.append(
            f"aie cost model: the kernel library {library.file} has no kernel or family for {op}; "
            "costed with the analytic model"
        )
    utilization = request.kernel.get("utilization") if request.kernel is not None else None
    if library is not None and utilization is not None and result.detail("kernel_library"):
        found.append(
            "aie cost model: kernel kwargs utilization is not applied to cycles taken from the kernel "
            f"library {library.file} (measured calls and family rates are achieved cycles)"
        )
    if result.detail("efficiency_source") == SOURCE_DEFAULT:
        mac, vector = (round(100 * defaults.DEFAULT_EFFICIENCY[k]) for k in ("mac", "vector"))
        found.append(
            f"aie cost model: no utilization in the kernel kwargs or the core file for {op}; used the "
            f"default kernel efficiency ({mac} % MAC ops, {vector} % vector ops). Set kernel kwargs "
            "utilization in the mapping or 'utilization' in the core file."
        )
    return found
