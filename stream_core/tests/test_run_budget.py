"""The run's time budget (stream_core.context): solves get what is left of it, checks and the timer stop
a stage that runs past it, and the pipeline reports that as an input error naming stage and limit."""

from __future__ import annotations

import time

import pytest

from stream_core import context as budget
from stream_core.context import RunContext, RunOptions, TimeLimitExceeded, check_time, solve_time_limit
from stream_core.plugins import Plugins


def make(limit: float) -> RunContext:
    return RunContext(plugins=Plugins.empty(), options=RunOptions(time_limit=limit))


def test_solves_get_what_is_left_of_the_run():
    assert solve_time_limit(30.0) == 30.0  # outside a run: the solve's own limit
    context = make(10.0)
    with context.budget():
        assert 9.0 < solve_time_limit(30.0) <= 10.0
        assert solve_time_limit(2.0) == 2.0
        context.started = time.monotonic() - 11.0  # spent: the least a solve is given
        assert solve_time_limit(30.0) == budget.MIN_SOLVE_SECONDS
    assert context.started is None and solve_time_limit(30.0) == 30.0


def test_a_check_past_the_deadline_names_the_stage_and_limit():
    context = make(6.0)
    with context.budget():
        context.stage = "cost"
        check_time()  # in time
        context.started = time.monotonic() - 7.0
        with pytest.raises(TimeLimitExceeded, match="still in its cost stage after its time limit of 6 s"):
            check_time()


def test_a_run_is_not_stopped_before_the_minimum(monkeypatch):
    context = make(0.001)  # bounds the solves only
    with context.budget():
        time.sleep(0.05)
        context.check_time()
        assert solve_time_limit(5.0) == budget.MIN_SOLVE_SECONDS


def test_the_timer_stops_a_loop_no_check_reaches(monkeypatch):
    monkeypatch.setattr(budget, "MIN_RUN_SECONDS", 0.2)
    context = make(0.2)
    start = time.monotonic()
    with pytest.raises(TimeLimitExceeded, match="map stage"), context.budget():
        context.stage = "map"
        while True:  # a plugin's loop that never checks
            sum(range(1000))
    assert time.monotonic() - start < 0.5


def test_a_nested_run_keeps_the_outer_budget():
    outer, inner = make(10.0), make(100.0)
    with outer.budget(), inner.budget():
        assert inner.started is None and solve_time_limit(50.0) <= 10.0


def test_without_a_time_limit_the_run_is_unbounded_and_each_solve_gets_sixty_seconds():
    context = RunContext(plugins=Plugins.empty(), options=RunOptions())
    assert context.options.time_limit is None and context.options.solve_seconds == 60.0
    with context.budget():
        assert context.remaining() is None
        context.check_time()  # never raises
        assert solve_time_limit(context.options.solve_seconds) == 60.0
