"""The FIFO-sizing LP: the lecture's example, equivalence with per-path constraints, integrality."""

from __future__ import annotations

from typing import Any

import pytest
from stream_itensor.api import (
    Actor,
    Channel,
    DataflowGraph,
    size_fifos,
    token_curves,
)
from stream_itensor.lp import NonIntegralSolutionError, build_model

from stream_core.context import RunContext, RunOptions
from stream_core.errors import InfeasibleError
from stream_core.ir.lp import Model, Solution, SolveOptions, Status
from stream_core.plugins import Plugins

SOLVERS = ["highs", "gscip", "gurobi"]


def solver(plugins: Plugins, name: str = "highs") -> Any:
    return RunContext(plugins=plugins, options=RunOptions(solver=name)).solver("lp")


def lecture_example() -> DataflowGraph:
    """kernel0 -> fifo0 -> kernel1 -> fifo2 -> kernel2 and kernel0 -> fifo1 -> Converter0 -> fifo3 -> kernel2.

    kernel1 has a 10-cycle latency; Converter0 reads all 8 tokens before writing any (a full transpose).
    """
    every = tuple(range(8))

    def fifo(name: str, producer: str, consumer: str, produce: tuple[int, ...], consume: tuple[int, ...]) -> Channel:
        return Channel(name, producer, consumer, "stream", 32, produce, consume, name)

    actors = (
        Actor("kernel0", "kernel", 8, 1, 2),
        Actor("kernel1", "kernel", 8, 1, 10),
        Actor("Converter0", "kernel", 16, 1, 1),
        Actor("kernel2", "kernel", 8, 1, 1),
    )
    channels = (
        fifo("fifo0", "kernel0", "kernel1", every, every),
        fifo("fifo1", "kernel0", "Converter0", every, every),
        fifo("fifo2", "kernel1", "kernel2", every, every),
        fifo("fifo3", "Converter0", "kernel2", tuple(range(8, 16)), every),
    )
    return DataflowGraph("lecture", actors, channels)


def test_minimum_delays_of_the_lecture_example() -> None:
    curves = token_curves(lecture_example())
    # period 16: kernels fire every 2 cycles, Converter0 every cycle
    assert {n: c.min_delay for n, c in curves.items()} == {"fifo0": 2, "fifo1": 9, "fifo2": 10, "fifo3": 9}


def test_start_time_lp_equals_the_lectures_per_path_lp(plugins: Plugins) -> None:
    dfg = lecture_example()
    curves = token_curves(dfg)
    delay = {n: c.min_delay for n, c in curves.items()}
    critical = max(delay["fifo0"] + delay["fifo2"], delay["fifo1"] + delay["fifo3"])
    assert critical == 18
    # the lecture's LP: a delay variable per FIFO, minimum delays, one path-balance row per path
    slides = Model("lecture")
    var = {n: slides.add_var(f"var[{n}]") for n in delay}
    for n, d in delay.items():
        slides.add(var[n] >= d)
    slides.add(var["fifo0"] + var["fifo2"] >= critical)
    slides.add(var["fifo1"] + var["fifo3"] >= critical)
    slides.minimize(Model.sum(var.values()))
    lp = solver(plugins)
    per_path = lp.solve(slides, SolveOptions())
    # the start-time LP with the lecture's objective (every FIFO weighs the same here)
    model, start = build_model(dfg, curves, free_slack=False)
    timed = lp.solve(model, SolveOptions())
    assert per_path.status is Status.OPTIMAL and timed.status is Status.OPTIMAL
    assert per_path.objective_values[0] == pytest.approx(36) and timed.objective_values[0] == pytest.approx(36)
    s = {n: timed.value(v) for n, v in start.items()}
    # path balance holds by construction and meets the per-path rows
    assert s["kernel2"] - s["kernel0"] == pytest.approx(critical)
    for a, b in (("kernel0", "kernel1"), ("kernel0", "Converter0"), ("kernel1", "kernel2"), ("Converter0", "kernel2")):
        assert s[b] - s[a] >= min(delay.values())


def test_every_row_is_a_difference_constraint() -> None:
    dfg = lecture_example()
    model, _ = build_model(dfg, token_curves(dfg))
    for row in model.constraints:
        assert sorted(row.expr.terms.values()) == [-1.0, 1.0]
        assert row.rhs == int(row.rhs)


@pytest.mark.parametrize("name", SOLVERS)
def test_solutions_are_integral_without_rounding(plugins: Plugins, reconvergent: dict, name: str) -> None:
    lp = solver(plugins, name)
    objectives = []
    for dfg in reconvergent.values():
        model, _ = build_model(dfg, token_curves(dfg))
        solution = lp.solve(model, SolveOptions())
        assert solution.status is Status.OPTIMAL
        assert all(abs(v - round(v)) < 1e-9 for v in solution.values.values())
        sizing = size_fifos(dfg, lp)
        assert sizing.solver == name
        objectives.append(sizing.objective)
        assert all(f.delay >= f.min_delay for f in sizing.fifos)
        assert all(c.min_delay <= c.delay <= c.max_delay for c in sizing.converters)
    # every solver reaches the same optimum
    reference = [size_fifos(dfg, solver(plugins, "highs")).objective for dfg in reconvergent.values()]
    assert objectives == pytest.approx(reference)


def test_free_slack_never_costs_more_bits(plugins: Plugins, reconvergent: dict) -> None:
    lp = solver(plugins)
    for dfg in reconvergent.values():
        assert size_fifos(dfg, lp).total_bits <= size_fifos(dfg, lp, free_slack=False).total_bits


class FakeSolver:
    name = "fake"

    def __init__(self, status: Status, value: float):
        self.status, self.value = status, value

    def solve(self, model: Model, options: SolveOptions) -> Solution:
        values = {v.index: self.value for v in model.vars}
        return Solution(self.status, self.name, values, (0.0,) if self.status is Status.OPTIMAL else ())


def test_fractional_or_failed_solutions_are_rejected() -> None:
    with pytest.raises(NonIntegralSolutionError, match="not a vertex"):
        size_fifos(lecture_example(), FakeSolver(Status.OPTIMAL, 2.5))
    with pytest.raises(InfeasibleError, match="infeasible"):
        size_fifos(lecture_example(), FakeSolver(Status.INFEASIBLE, 0.0))
