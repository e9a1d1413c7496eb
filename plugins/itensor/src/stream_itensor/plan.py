"""One call from a workload to a sized streaming design: typing, fusion, token model, FIFO LP.

:func:`plan_streams` runs the whole flow and returns a :class:`StreamPlan`, the object a backend
consumes: kernels with their itensor ports, fusion groups, converters with buffer shapes and buffer
counts, FIFO depths and widths. :meth:`StreamPlan.to_dict` is its JSON form (``stream fifo-size``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from stream_core.context import RunContext
from stream_core.ir import Workload
from stream_core.ir.lp import SolveOptions
from stream_itensor.dataflow import DataflowGraph, build_dataflow
from stream_itensor.fusion import FusionPlan, fuse
from stream_itensor.graph import StreamGraph, build_stream_graph
from stream_itensor.itype import MLIR_NAMES
from stream_itensor.lp import FifoDepth, GroupSizing, size_fifos
from stream_itensor.profiles import KernelProfile, check_profiles, profiles_from_cost_model
from stream_itensor.target import DEFAULT_TARGET, Target
from stream_itensor.tilesearch import TilingSearch, search_tilings
from stream_itensor.tiling import KernelTiling


@attrs.frozen
class StreamPlan:
    """Everything decided for one workload (see the module docstring)."""

    graph: StreamGraph
    fusion: FusionPlan
    target: Target
    profiles: Mapping[str, KernelProfile]
    dataflows: tuple[DataflowGraph, ...]
    sizings: tuple[GroupSizing, ...]
    #: How the tiling was searched (``None``: the tilings were given).
    tiling: TilingSearch | None = None

    @property
    def converter_bits(self) -> int:
        """Converter buffers as sized (ping-pong, or more)."""
        return sum(c.buffers * c.buffer_bits for s in self.sizings for c in s.converters)

    @property
    def full_tensor_bits(self) -> int:
        """On-chip bits if every edge between kernels buffered its whole tensor (whole-layer tiles)."""
        return sum(e.source.element_bits * math.prod(e.source.data_shape) for e in self.graph.edges)

    @property
    def activation_ratio(self) -> float:
        """FIFO plus converter bits over :attr:`full_tensor_bits`."""
        return (self.total_fifo_bits + self.converter_bits) / max(1, self.full_tensor_bits)

    def activation_line(self) -> str:
        """FIFO and converter bits against full-tensor buffering, and how the tiles were chosen."""
        how = (
            f"tiles searched ({self.tiling.candidates} candidates, "
            f"frame period bound {self.tiling.period_bound} cycles)"
            if self.tiling
            else "tiles as given"
        )
        return (
            f"on-chip activations: FIFOs {self.total_fifo_bits} + converters {self.converter_bits} bits = "
            f"{self.activation_ratio:.3f}x full-tensor buffering ({self.full_tensor_bits} bits); {how}"
        )

    @property
    def fifos(self) -> tuple[FifoDepth, ...]:
        return tuple(f for s in self.sizings for f in s.fifos)

    @property
    def total_fifo_bits(self) -> int:
        return sum(s.total_bits for s in self.sizings)

    def sizing(self, group: str) -> GroupSizing:
        return next(s for s in self.sizings if s.group == group)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary: kernels, edges, groups, converters, FIFOs and totals."""
        return plan_dict(self)


def plan_streams(
    workload: Workload,
    context: RunContext,
    *,
    target: Target | None = None,
    tilings: Mapping[str, KernelTiling] | None = None,
    default_tiling: KernelTiling | None = None,
    profiles: Mapping[str, KernelProfile] | None = None,
    solver: Any = None,
    search: bool | None = None,
) -> StreamPlan:
    """Type, fuse, model and size ``workload``.

    With ``search`` (default: when neither ``tilings`` nor ``default_tiling`` is given, as ``stream
    fifo-size`` and ``stream compile`` plan) the tile sizes and loop orders are searched
    (:func:`~stream_itensor.tilesearch.search_tilings`), ``tilings`` only fixes the loops (and orders) it
    names, and of the search's alternatives the one whose sized FIFOs and converters hold the fewest bits
    is planned.
    ``profiles`` default to ``target.timing`` (a backend's timing of the design it emits), else the cost
    model (``context.options.cost_model`` or roofline) on ``target``'s cores; ``solver`` defaults to
    ``context.solver("lp")`` (``--solver``), with the run's time limit.
    """
    target = target or DEFAULT_TARGET
    if search is None:
        search = tilings is None and default_tiling is None
    if search:
        searched = search_tilings(workload, target, context, tilings)
        plans = [
            _plan(workload, context, target, alternative, None, profiles, solver, searched.choose(i))
            for i, alternative in enumerate(searched.alternatives)
        ]
        plan = min(plans, key=lambda p: p.total_fifo_bits + p.converter_bits)
    else:
        plan = _plan(workload, context, target, tilings, default_tiling, profiles, solver, None)
    _warn_over_budget(plan.fusion, context)
    return plan


def _warn_over_budget(fusion: FusionPlan, context: RunContext) -> None:
    for group in fusion.groups:
        if group.refusal:
            context.warn(f"kernel {group.kernels[0]!r} alone does not fit: {group.refusal}")
        elif group.over_budget:
            budget = (fusion.budget_bits or 0) // 8
            context.warn(
                f"kernel {group.kernels[0]!r} alone needs {group.memory_bits // 8} bytes of on-chip memory, "
                f"more than the budget of {budget} bytes; tile it smaller"
            )


def _plan(
    workload: Workload,
    context: RunContext,
    target: Target,
    tilings: Mapping[str, KernelTiling] | None,
    default_tiling: KernelTiling | None,
    profiles: Mapping[str, KernelProfile] | None,
    solver: Any,
    searched: TilingSearch | None,
) -> StreamPlan:
    graph = build_stream_graph(workload, tilings, default_tiling)
    fusion = fuse(graph, target.budget, target.group_check)
    if profiles is not None:
        profiles = dict(profiles)
    elif target.timing is not None:
        profiles = dict(target.timing(graph, fusion))
        check_profiles(graph, profiles)
    else:
        profiles = profiles_from_cost_model(graph, target, context)
    dataflows = build_dataflow(fusion, profiles, target.converter_bits_per_cycle)
    solver = solver or context.solver("lp")
    options = SolveOptions(time_limit=context.options.solve_seconds)
    sizings = tuple(size_fifos(d, solver, options) for d in dataflows)
    return StreamPlan(graph, fusion, target, profiles, dataflows, sizings, searched)


def plan_dict(plan: StreamPlan) -> dict[str, Any]:
    graph, fusion = plan.graph, plan.fusion
    buffers = {c.edge: c for s in plan.sizings for c in s.converters}
    kernels = []
    for k in graph.kernels:
        kernels.append(
            {
                "name": k.name,
                "op_type": k.node.op_type,
                "group": fusion.group_of(k.name).name,
                "loops": [{"name": loop.name, "size": loop.size, "tile": loop.tile} for loop in k.loops],
                "iterations": k.iterations,
                "local_bits": k.local_bits,
                "interval": plan.profiles[k.name].interval,
                "initial_delay": plan.profiles[k.name].initial_delay,
                "ports": [
                    {
                        "operand": p.operand,
                        "tensor": p.tensor,
                        "role": p.role.value,
                        "itensor": str(p.itype),
                        "token_bits": p.itype.token_bits,
                    }
                    for p in k.ports
                ],
            }
        )
    edges = []
    for e in graph.edges:
        intra = fusion.is_intra(e)
        entry: dict[str, Any] = {
            "name": e.name,
            "producer": e.producer,
            "consumer": e.consumer,
            "tensor": e.tensor,
            "port": e.port,
            "streams": intra,
            "source": str(e.source),
            "target": str(e.target),
            "converter": None,
        }
        if intra and e.converter is not None:
            sized = buffers[e.name]
            entry["converter"] = {
                "buffer_shape": list(e.converter.buffer_shape),
                "shared_loops": e.converter.shared_loops,
                "instances": e.converter.instances,
                "element_type": MLIR_NAMES[e.converter.source.dtype],
                "buffers": sized.buffers,
                "buffer_bits": sized.buffers * sized.buffer_bits,
            }
        edges.append(entry)
    groups = []
    for g, s in zip(fusion.groups, plan.sizings, strict=True):
        converter_bits = sum(c.buffers * c.buffer_bits for c in s.converters)  # ping-pong, or more if sized so
        groups.append(
            {
                "name": g.name,
                "kernels": list(g.kernels),
                "local_bits": g.local_bits,
                "converter_bits": converter_bits,
                "fifo_bits": s.total_bits,
                "memory_bits": g.local_bits + converter_bits + s.total_bits,
                "over_budget": g.over_budget,
                "period": s.period,
                "lp": {
                    "solver": s.solver,
                    "variables": s.variables,
                    "constraints": s.constraints,
                    "objective": s.objective,
                    "seconds": round(s.seconds, 6),
                },
            }
        )
    fifos = [
        {
            "name": f.channel,
            "group": s.group,
            "producer": f.producer,
            "consumer": f.consumer,
            "edge": f.edge,
            "depth": f.depth,
            "token_bits": f.token_bits,
            "bits": f.bits,
            "tokens": f.tokens,
            "delay": f.delay,
            "min_delay": f.min_delay,
        }
        for s in plan.sizings
        for f in s.fifos
    ]
    return {
        "workload": graph.workload.name,
        "target": plan.target.name,
        "budget_bits": fusion.budget_bits,
        "kernels": kernels,
        "edges": edges,
        "groups": groups,
        "fifos": fifos,
        "totals": {
            "fifo_bits": plan.total_fifo_bits,
            "converter_bits": plan.converter_bits,
            "local_bits": sum(k.local_bits for k in graph.kernels),
            "groups": len(fusion.groups),
            "full_tensor_bits": plan.full_tensor_bits,
            "activation_ratio": round(plan.activation_ratio, 4),
        },
        "tiling": plan.tiling.to_dict() if plan.tiling else {"searched": False},
    }
