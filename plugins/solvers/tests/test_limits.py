"""Time limits, licence limits and what a backend refuses."""

from __future__ import annotations

import sys

import pytest

from stream_core.errors import PluginError
from stream_core.ir.lp import Model, Objective, SolveOptions, Status

KNAPSACK_OPTIMUM = 8972.0  # all four backends agree; each needs 0.1-1.3 s to prove it


def test_tiny_time_limit_stops_with_status(solver, hard_knapsack):
    s = solver.solve(hard_knapsack, SolveOptions(time_limit=0.02))
    assert s.status in (Status.FEASIBLE, Status.NO_SOLUTION)
    if s.status is Status.FEASIBLE:
        assert s.gap is not None and s.gap >= 0
        assert 0 < s.objective_values[0] <= KNAPSACK_OPTIMUM
        bound = s.objective_values[0] * (1 + s.gap)
        assert bound >= KNAPSACK_OPTIMUM - 1e-6  # the reported gap covers the true optimum
    else:
        assert s.values == {}


def test_generous_time_limit_is_optimal(solver, hard_knapsack):
    s = solver.solve(hard_knapsack, SolveOptions(time_limit=60))
    assert s.status is Status.OPTIMAL
    assert s.objective_values == (KNAPSACK_OPTIMUM,)
    assert s.gap is not None and s.gap <= 1e-4


def test_time_limited_first_level_locks_the_incumbent(make_solver, hard_knapsack):
    # level 2 minimises the number of items among solutions at least as good as level 1's incumbent
    items = Model.sum(hard_knapsack.vars)
    profit = hard_knapsack.objectives[0]
    hard_knapsack.set_lexicographic([profit, Objective(items, name="items")])
    s = make_solver("gscip").solve(hard_knapsack, SolveOptions(time_limit=0.02))
    assert s.status in (Status.FEASIBLE, Status.NO_SOLUTION)
    if s.status is Status.FEASIBLE:
        assert len(s.objective_values) == 2
        assert s.objective_values[1] == sum(s.values.values())
        assert "stopped early" in s.message


def test_cp_sat_rejects_continuous_variables(make_solver):
    m = Model("mixed")
    x, y = m.add_integer("x", 0, 3), m.add_var("load")
    m.add(x + y <= 2)
    m.maximize(x)
    with pytest.raises(PluginError, match=r"pure integer models only.*'load'.*solver='gscip'"):
        make_solver("cp-sat").solve(m)


def test_cp_sat_rejects_unbounded_integers(make_solver):
    m = Model("free")
    m.maximize(m.add_integer("n"))
    with pytest.raises(PluginError, match=r"finite bounds.*'n'"):
        make_solver("cp-sat").solve(m)


def test_cp_sat_rejects_inexact_coefficients(make_solver):
    m = Model("third")
    x = m.add_integer("x", 0, 3)
    m.add(x * (1 / 3) <= 1, name="third")
    m.maximize(x)
    with pytest.raises(PluginError, match=r"constraint 'third' cannot be scaled exactly"):
        make_solver("cp-sat").solve(m)


def test_gurobipy_missing_is_a_clear_plugin_error(monkeypatch):
    from stream_solvers import gurobi

    monkeypatch.setitem(sys.modules, "gurobipy", None)  # makes `import gurobipy` fail
    with pytest.raises(PluginError, match=r"gurobipy is not installed; pip install gurobipy, or use solver='gscip'"):
        gurobi.GurobiSolver()


def _wide(n: int) -> Model:
    m = Model("wide")
    xs = [m.add_var(f"x{i}", ub=1) for i in range(n)]
    m.add(Model.sum(xs) <= 3)
    m.maximize(Model.sum(xs))
    return m


def test_gurobi_size_limited_licence(make_solver):
    pytest.importorskip("gurobipy")
    solver = make_solver("gurobi")
    assert solver.solve(_wide(2000)).objective_values == pytest.approx((3.0,))
    try:
        solver.solve(_wide(2500))
    except PluginError as error:
        message, exit_code = str(error), error.exit_code
    else:
        pytest.skip("this Gurobi licence is not size-limited")
    assert "2500 variables and 1 constraints" in message
    assert "at most 2000 variables and 2000 constraints" in message
    assert "solver='gscip'" in message
    assert exit_code == 2


def test_relative_gap_is_honoured(solver, hard_knapsack):
    s = solver.solve(hard_knapsack, SolveOptions(time_limit=60, relative_gap=0.2))
    assert s.status is Status.OPTIMAL  # optimal within the requested gap
    assert s.gap is not None and s.gap <= 0.2 + 1e-9
    assert KNAPSACK_OPTIMUM / 1.2 - 1e-6 <= s.objective_values[0] <= KNAPSACK_OPTIMUM
