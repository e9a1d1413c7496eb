"""FIFO sizing as a linear program (StreamTensor: "transform FIFO sizing into a scheduling problem").

Formulation (start times; built with the shared solver API ``stream_core.ir.lp``)::

    variables   s_k >= 0                      start of actor k (relative to the group's start)
                t_e >= 0                      charge point of stream channel e
    minimise    sum_e w_e * (t_e - s_u(e))    w_e = token bits x tokens of e
    subject to  s_v(e) - s_u(e) >= D_e        every channel e = (u -> v): the consumer never waits
                t_e - s_v(e) >= -F_e          every stream channel: t_e - s_u >= d_e - F_e
                t_e - s_u(e) >= 0             every stream channel: t_e - s_u >= 0
                s_v(b) - s_u(b) <= U_b        every converter buffer channel b

The delay of channel ``e`` is ``d_e = s_v - s_u``. ``D_e`` is its minimum delay from the token curves
(:mod:`stream_itensor.curves`); at ``D_e`` the FIFO already needs ``depth(D_e)`` slots, which cover every
delay up to ``F_e`` (:func:`free_delay`), so only delay beyond ``F_e`` is charged: ``t_e - s_u`` equals
``max(0, d_e - F_e)`` at the optimum. A FIFO's occupancy grows with its delay at the rate of its stream
(``tokens / period`` per cycle, the same period for the whole group), so ``w_e`` per charged cycle is
proportional to the bits it adds. A converter's buffer channel has a fixed number of instance buffers
(:data:`PING_PONG`, or more when its minimum delay already needs more); it costs nothing and ``U_b`` is
the largest delay those buffers allow. After solving, every depth is read off the curves at ``d_e``.

*Path balance holds by construction*: every path ``a -> ... -> b`` has total delay ``s_b - s_a``, so
reconvergent paths are balanced without enumerating paths; the lecture's per-path constraints
``sum_{e in pi} d_e >= critical_delay[a][b]`` are implied (the tests solve both forms on the lecture's
example with the lecture's objective, ``free_slack=False``, and get the same optimum). The model has
one variable per actor and per channel and at most three constraints per channel: polynomial, no path
enumeration.

*Integrality (why no rounding is needed)*: every constraint row has exactly one ``+1`` and one ``-1``
(an upper bound is a lower bound with the row negated), so the transposed constraint matrix is the
node-arc incidence matrix of a directed graph whose nodes are the variables. Over any subset of its
rows every column sums to ``-1``, ``0`` or ``+1``, so putting the whole subset in one class meets
Ghouila-Houri's criterion: the matrix is totally unimodular, and appending identity rows for the bounds
``s, t >= 0`` keeps it so. With integral right-hand sides (``D_e``, ``F_e``, ``U_b`` are integers) every
vertex of the feasible polyhedron is integral (Hoffman-Kruskal); the polyhedron has no line (all
variables are bounded below), so the optimum is attained at a vertex, which simplex-type solvers
return. :func:`size_fifos` checks that the values are integral and fails loudly otherwise; it never
rounds a fractional value.
"""

from __future__ import annotations

import math
import time
from typing import Any

import attrs

from stream_core.errors import InfeasibleError
from stream_core.ir.lp import Model, SolveOptions
from stream_itensor.curves import TokenCurves, paced_period, token_curves
from stream_itensor.dataflow import DataflowGraph

INTEGRALITY_TOLERANCE = 1e-6
#: Instance buffers of a converter (fill one while draining the other).
PING_PONG = 2


class NonIntegralSolutionError(RuntimeError):
    """The solver returned a non-vertex (fractional) solution of the totally unimodular LP."""


@attrs.frozen
class FifoDepth:
    """The sized FIFO of one channel."""

    channel: str
    producer: str
    consumer: str
    edge: str
    token_bits: int
    tokens: int
    min_delay: int
    delay: int
    depth: int

    @property
    def bits(self) -> int:
        return self.depth * self.token_bits


@attrs.frozen
class ConverterBuffers:
    """How many instance buffers a converter's buffer channel has, and its delay."""

    channel: str
    edge: str
    buffers: int
    buffer_bits: int
    min_delay: int
    max_delay: int
    delay: int


@attrs.frozen
class GroupSizing:
    """LP result for one fusion group: actor starts, FIFO depths, solver facts."""

    group: str
    period: int
    start: tuple[tuple[str, int], ...]
    fifos: tuple[FifoDepth, ...]
    converters: tuple[ConverterBuffers, ...]
    objective: float
    solver: str
    seconds: float
    variables: int
    constraints: int

    @property
    def total_bits(self) -> int:
        return sum(f.bits for f in self.fifos)

    def depths(self) -> dict[str, int]:
        """Depth of every channel: FIFO depths and converter buffer counts (what the simulator takes)."""
        return {**{f.channel: f.depth for f in self.fifos}, **{c.channel: c.buffers for c in self.converters}}


def converter_buffers(curve: TokenCurves) -> tuple[int, int]:
    """Instance buffers of a converter buffer channel and the largest delay they allow."""
    buffers = max(PING_PONG, curve.depth(curve.min_delay))
    limit = curve.max_delay(buffers)
    assert limit is not None  # buffers >= depth(min_delay)
    return buffers, limit


def free_delay(curve: TokenCurves) -> int:
    """Largest delay that needs no more slots than the minimum delay does (delays up to it are free)."""
    limit = curve.max_delay(curve.depth(curve.min_delay))
    assert limit is not None
    return limit


def build_model(
    dfg: DataflowGraph, curves: dict[str, TokenCurves], *, free_slack: bool = True
) -> tuple[Model, dict[str, Any]]:
    """The start-time LP of ``dfg`` and its start variables by actor name.

    With ``free_slack`` a stream channel is charged only for delay beyond :func:`free_delay` (an
    auxiliary variable ``t_e >= s_v - F_e``, ``t_e >= s_u`` costs ``w_e (t_e - s_u)``, still a difference
    constraint system); without it every cycle of delay is charged, as in the lecture's LP.
    """
    model = Model(f"fifo-sizing[{dfg.name}]")
    start = {a.name: model.add_var(f"s[{a.name}]", lb=0) for a in dfg.actors}
    streams = [c for c in dfg.channels if c.is_stream]
    weights = [c.token_bits * c.tokens for c in streams]
    scale = math.gcd(*weights) if weights else 1
    for c in dfg.channels:
        delay = start[c.consumer] - start[c.producer]
        model.add(delay >= curves[c.name].min_delay, name=f"min_delay[{c.name}]")
        if not c.is_stream:
            model.add(delay <= converter_buffers(curves[c.name])[1], name=f"max_delay[{c.name}]")
    objective = []
    for c, w in zip(streams, weights, strict=True):
        u, v = start[c.producer], start[c.consumer]
        if free_slack:
            charge = model.add_var(f"t[{c.name}]", lb=0)
            model.add(charge - v >= -free_delay(curves[c.name]), name=f"free_delay[{c.name}]")
            model.add(charge - u >= 0, name=f"charge[{c.name}]")
            objective.append((charge - u) * (w // scale))
        else:
            objective.append((v - u) * (w // scale))
    model.minimize(Model.sum(objective), name="buffered bits")
    return model, start


def size_fifos(
    dfg: DataflowGraph, solver: Any, options: SolveOptions | None = None, *, free_slack: bool = True
) -> GroupSizing:
    """Solve the LP of ``dfg`` with ``solver`` (a ``stream_solvers`` solver) and derive every depth."""
    curves = token_curves(dfg)
    model, start = build_model(dfg, curves, free_slack=free_slack)
    began = time.perf_counter()
    solution = solver.solve(model, options or SolveOptions())
    seconds = time.perf_counter() - began
    if not solution.ok:
        raise InfeasibleError(
            f"FIFO-sizing LP of {dfg.name} was not solved by {solution.solver}: {solution.status.value}",
            [solution.message] if solution.message else [],
        )
    values = {}
    for name, var in start.items():
        value = solution.value(var)
        if abs(value - round(value)) > INTEGRALITY_TOLERANCE:
            raise NonIntegralSolutionError(
                f"{solution.solver} returned s[{name}] = {value!r} (not a vertex of a TU polyhedron)"
            )
        values[name] = round(value)
    base = min(values.values(), default=0)
    values = {n: v - base for n, v in values.items()}
    fifos, converters = [], []
    for c in dfg.channels:
        delay = values[c.consumer] - values[c.producer]
        curve = curves[c.name]
        if c.is_stream:
            fifos.append(
                FifoDepth(
                    c.name,
                    c.producer,
                    c.consumer,
                    c.edge,
                    c.token_bits,
                    c.tokens,
                    curve.min_delay,
                    delay,
                    curve.depth(delay),
                )
            )
        else:
            buffers, limit = converter_buffers(curve)
            converters.append(ConverterBuffers(c.name, c.edge, buffers, c.token_bits, curve.min_delay, limit, delay))
    return GroupSizing(
        dfg.name,
        paced_period(dfg),
        tuple(values.items()),
        tuple(fifos),
        tuple(converters),
        solution.objective_values[0] if solution.objective_values else 0.0,
        solution.solver,
        seconds,
        model.num_vars,
        model.num_constraints,
    )
