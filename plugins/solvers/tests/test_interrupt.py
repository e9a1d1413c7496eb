"""Ctrl-C stops a running solve at once (not at its time limit), and a solve inside a run gets only
what is left of the run's time limit."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from stream_core.context import RunContext, RunOptions
from stream_core.ir.lp import Model, SolveOptions, Status
from stream_core.plugins import Plugins


@pytest.fixture(scope="module")
def harder_knapsack() -> Model:
    """60 items, 10 constraints: none of our backends proves it within 8 s on 2 cores (measured)."""
    n, m = 60, 10
    rng = np.random.default_rng(1)
    weights = rng.integers(1, 1000, (m, n))
    profits = weights.sum(axis=0) // m + rng.integers(1, 100, n)
    model = Model(f"knapsack {n}x{m}")
    x = [model.add_binary(f"x{i}") for i in range(n)]
    for k in range(m):
        model.add(Model.sum(int(weights[k, i]) * x[i] for i in range(n)) <= int(weights[k].sum() // 2))
    model.maximize(Model.sum(int(profits[i]) * x[i] for i in range(n)))
    return model


def test_ctrl_c_stops_the_solve_within_a_moment(solver, harder_knapsack):
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        solver.solve(harder_knapsack, SolveOptions(time_limit=30))
    assert time.monotonic() - start < 1.5
    assert [t.name for t in threading.enumerate() if t.name == "stream-solve"] == []  # the solve returned


def test_a_solve_in_a_run_gets_what_is_left(solver, harder_knapsack):
    context = RunContext(plugins=Plugins.empty(), options=RunOptions(time_limit=1.0))
    start = time.monotonic()
    with context.budget():
        solution = solver.solve(harder_knapsack, SolveOptions(time_limit=30))
    assert time.monotonic() - start < 2.5
    assert solution.status in (Status.FEASIBLE, Status.NO_SOLUTION)
