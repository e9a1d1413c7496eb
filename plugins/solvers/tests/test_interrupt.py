"""Ctrl-C stops a running solve at once (not at its time limit), and a solve inside a run gets only
what is left of the run's time limit."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from stream_core.context import RunContext, RunOptions
from stream_core.ir.lp import SolveOptions, Status
from stream_core.plugins import Plugins


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
