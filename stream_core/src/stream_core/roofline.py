"""Roofline costing (public API): the formulas of the built-in ``roofline`` cost model, which other
cost models use as their fallback for tiles they cannot cost.

For a tile on a core (numbers from the core's :class:`~stream_core.ir.CoreSummary`):

* compute cycles = ``ceil(MACs / peak MACs per cycle)`` for MAC ops, otherwise
  ``ceil(points x cycles_per_point(op) / peak ops per cycle)``; data movement has no compute;
* memory cycles = ``ceil(bits read / read bandwidth)`` and ``ceil(bits written / write bandwidth)``,
  where the bits are the distinct operand elements the tile touches times their precision;
* latency = the largest of the three (compute and memory traffic overlap);
* energy = MACs (or ops) x MAC energy + bits read x read energy/bit + bits written x write energy/bit,
  each operand priced at its own top memory (``CoreSummary.read_energy`` / ``write_energy``);
* operand widths are the workload's, as the ``precision`` detail says.

A tile whose operands do not fit the core's top memory is infeasible, with the numbers.

:data:`CYCLES_PER_POINT` is the documented cost of non-MAC ops per iteration point: 4 for
exponential-like functions (the value Stream uses for Exp, Sigmoid and Silu, which we extend to the
other transcendental ones), the sum of the parts for the normalisations (Softmax: max 1 + subtract 1
+ exp 4 + sum 1 + divide 1 = 8; LayerNormalization: mean 1 + subtract 1 + square 1 + sum 1 +
scale 1 + shift 1 + multiply 1 = 7; BatchNormalization: scale 1 + shift 1 = 2), and 1 otherwise.
"""

from __future__ import annotations

from stream_core.ir.cost import CostRequest, CostResult
from stream_core.ir.workload import Node, NodeKind

NAME = "roofline"

CYCLES_PER_POINT: dict[str, int] = {
    "Exp": 4,
    "Sigmoid": 4,
    "Silu": 4,
    "Gelu": 4,
    "Tanh": 4,
    "Erf": 4,
    "Sqrt": 4,
    "Pow": 4,
    "Softmax": 8,
    "LayerNormalization": 7,
    "BatchNormalization": 2,
}


def cycles_per_point(op_type: str) -> int:
    """Compute cycles per iteration point of a non-MAC op (:data:`CYCLES_PER_POINT`, else 1)."""
    return CYCLES_PER_POINT.get(op_type, 1)


def precision(node: Node) -> str:
    """Where the roofline's operand widths come from, e.g. ``workload widths: input 8, output 8 bits``."""
    return "workload widths: " + ", ".join(f"{op.role.value} {op.precision}" for op in node.operands) + " bits"


def _ceil_div(a: float, b: float) -> int:
    return int(-(-a // b))


def roofline_cost(request: CostRequest, model: str = NAME) -> CostResult:
    """Cost one request with the roofline formulas above (usable by other cost models as a fallback)."""
    node, summary = request.node, request.core.summary
    if node.kind is NodeKind.DATA_MOVEMENT:
        compute, ops = 0, 0
    elif node.mac_op:
        ops = node.macs
        if summary.peak_macs_per_cycle <= 0:
            return CostResult.infeasible(
                model, f"core {request.core.id} ({request.core.name}) has no MAC units for {node.op_type}"
            )
        compute = _ceil_div(ops, summary.peak_macs_per_cycle)
    else:
        ops = node.iteration_points * cycles_per_point(node.op_type)
        peak = summary.peak_ops_per_cycle or summary.peak_macs_per_cycle
        if peak <= 0:
            return CostResult.infeasible(
                model, f"core {request.core.id} ({request.core.name}) has no compute units for {node.op_type}"
            )
        compute = _ceil_div(ops, peak)
    read_bits = sum(node.footprint_bits(op) for op in node.reads)
    write_bits = node.footprint_bits(node.output)
    if read_bits + write_bits > summary.memory_bits:
        parts = ", ".join(f"{op.role.value} {node.footprint_bits(op)}" for op in node.operands)
        return CostResult.infeasible(
            model,
            f"tile needs {read_bits + write_bits} bits of on-core memory ({parts}) but core {request.core.id} "
            f"({request.core.name}) holds {summary.memory_bits} bits",
        )
    read_cycles = _ceil_div(read_bits, summary.read_bandwidth) if read_bits and summary.read_bandwidth > 0 else 0
    write_cycles = _ceil_div(write_bits, summary.write_bandwidth) if write_bits and summary.write_bandwidth > 0 else 0
    energy = (
        ops * summary.mac_energy_pj
        + sum(node.footprint_bits(op) * summary.read_energy(op.role) for op in node.reads)
        + write_bits * summary.write_energy(node.output.role)
    )
    return CostResult(
        latency=max(compute, read_cycles, write_cycles, 1),
        energy_pj=float(energy),
        model=model,
        ideal_cycles=compute,
        memory_utilisation={"top": (read_bits + write_bits) / summary.memory_bits if summary.memory_bits else 0.0},
        details={
            "compute_cycles": compute,
            "read_cycles": read_cycles,
            "write_cycles": write_cycles,
            "precision": precision(node),
        },
    )
