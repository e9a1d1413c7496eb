"""Kernel timing profiles: the cycles of one tile iteration, from a cost model or given by the user.

A :class:`KernelProfile` says that a kernel starts one iteration every ``interval`` cycles at full rate
and that an iteration's output token is ready ``initial_delay`` cycles after the iteration starts. From
a cost model (the built-in ``roofline`` by default), both are the latency of one tile on the kernel's
core: tile iterations do not overlap, and the output tile is complete when its iteration ends. The
tiles are costed through the core (:func:`stream_core.costing.cost_tiles`: its model choice, cache and
deduplication); a cost the asked model could not give is a run warning naming the kernels.
Profiled numbers (HLS II and latency x trip counts) can be given instead.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from stream_core.context import RunContext
from stream_core.costing import cost_tiles
from stream_core.errors import InfeasibleError, InputError, Problem
from stream_core.ir import CostRequest
from stream_itensor.graph import StreamGraph
from stream_itensor.target import Target


@attrs.frozen
class KernelProfile:
    """Cycles between iteration starts (``interval``) and from a start to its output (``initial_delay``)."""

    interval: int
    initial_delay: int

    def __attrs_post_init__(self) -> None:
        if self.interval < 1 or self.initial_delay < 1:
            raise ValueError(
                f"interval and initial delay must be >= 1 cycle, got {self.interval}, {self.initial_delay}"
            )


def profiles_from_cost_model(
    graph: StreamGraph, target: Target, context: RunContext, cost_model: str | None = None
) -> dict[str, KernelProfile]:
    """Cost one tile of every kernel on its core with ``cost_model`` (default: ``--cost-model`` or roofline)."""
    name = cost_model or context.options.cost_model or "roofline"
    requests = [CostRequest(k.node.with_sizes(k.tile_sizes), target.core_for(k.node.op_type)) for k in graph.kernels]
    results = cost_tiles(requests, context, cost_model=name)
    fallbacks: dict[str, list[str]] = {}
    for kernel, result in zip(graph.kernels, results, strict=True):
        reason = result.detail("fallback_reason")
        if reason:
            fallbacks.setdefault(f"costed by {result.model}, not {name}, because {reason}", []).append(kernel.name)
    for what, kernels in fallbacks.items():
        context.warn(f"kernel timing profiles of {', '.join(kernels)} {what}")
    bad = [f"kernel {k.name!r}: {r.reason}" for k, r in zip(graph.kernels, results, strict=True) if not r.feasible]
    if bad:
        raise InfeasibleError(f"cost model {name!r} cannot run some tiles; tile them smaller", bad)
    return {
        k.name: KernelProfile(max(1, r.latency), max(1, r.latency)) for k, r in zip(graph.kernels, results, strict=True)
    }


def check_profiles(graph: StreamGraph, profiles: Mapping[str, KernelProfile]) -> None:
    """Every kernel has a profile and no profile names an unknown kernel; raises :class:`InputError`."""
    names = {k.name for k in graph.kernels}
    problems = [Problem(f"no profile for kernel {n!r}", field=f"profiles.{n}") for n in sorted(names - set(profiles))]
    problems += [
        Problem(f"profile for unknown kernel {n!r}", field=f"profiles.{n}") for n in sorted(set(profiles) - names)
    ]
    if problems:
        raise InputError(problems)


def converter_interval(token_bits: int, bits_per_cycle: int) -> int:
    """Cycles a converter's fill (or drain) needs per token: the token's bits over the port width."""
    return max(1, -(-token_bits // bits_per_cycle))
