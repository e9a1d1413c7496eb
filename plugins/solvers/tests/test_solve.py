"""Every backend on small hand-solved models: the same optimum, statuses, lexicographic levels."""

from __future__ import annotations

import numpy as np
import pytest

from stream_core.errors import PluginError
from stream_core.ir.lp import Model, Objective, SolveOptions, Status


def test_lp_optimum(lp_solver):
    # max 3x + 2y, x + y <= 4, x + 3y <= 6, x <= 3: the vertex (3, 1) gives 11.
    m = Model("lp")
    x, y = m.add_var("x", ub=3), m.add_var("y")
    m.add(x + y <= 4)
    m.add(x + 3 * y <= 6)
    m.maximize(3 * x + 2 * y)
    s = lp_solver.solve(m, SolveOptions(time_limit=10))
    assert s.status is Status.OPTIMAL
    assert s.objective_values == pytest.approx((11.0,))
    assert (s.value(x), s.value(y)) == pytest.approx((3.0, 1.0))
    assert s.gap == 0.0 and s.solver == lp_solver.name


def test_milp_optimum(solver):
    # max 5x + 4y, 6x + 4y <= 24, x + 2y <= 6, integers: LP optimum 21 at (3, 1.5); integer optimum 20 at (4, 0).
    m = Model("milp")
    x, y = m.add_integer("x", 0, 10), m.add_integer("y", 0, 10)
    m.add(6 * x + 4 * y <= 24)
    m.add(x + 2 * y <= 6)
    m.maximize(5 * x + 4 * y)
    s = solver.solve(m, SolveOptions(time_limit=10))
    assert s.status is Status.OPTIMAL
    assert s.objective_values == (20.0,)
    assert (s.int_value(x), s.int_value(y)) == (4, 0)


def test_equalities(lp_solver):
    # x + 2y = 7, x - y = 1 has the single solution (3, 2).
    m = Model()
    x, y = m.add_var("x"), m.add_var("y")
    m.add(x + 2 * y == 7)
    m.add(x - y == 1)
    m.minimize(x + y + 10)
    s = lp_solver.solve(m)
    assert s.objective_values == pytest.approx((15.0,))
    assert (s.value(x), s.value(y)) == pytest.approx((3.0, 2.0))


def test_integrality_and_fractional_bounds(solver):
    # 2x >= 3 needs x = 2 for an integer; z integer in [0.5, 2.5] is at most 2.
    m = Model()
    x = m.add_integer("x", 0, 10)
    z = m.add_integer("z", 0.5, 2.5)
    m.add(2 * x >= 3)
    m.set_lexicographic([Objective(x), Objective(z, minimize=False)])
    s = solver.solve(m)
    assert s.status is Status.OPTIMAL
    assert (s.value(x), s.value(z)) == (2.0, 2.0)
    assert s.objective_values == (2.0, 2.0)


def test_fractional_coefficients_on_integers(solver):
    # 0.5x + 0.25y <= 1.3 with x, y integer in [0, 5], max x + y: 2x + y <= 5.2 -> x = 0, y = 5.
    m = Model()
    x, y = m.add_integer("x", 0, 5), m.add_integer("y", 0, 5)
    m.add(0.5 * x + 0.25 * y <= 1.3)
    m.maximize(x + y + 0.5 * x)
    s = solver.solve(m)
    assert s.status is Status.OPTIMAL
    assert s.objective_values == (5.0,)


def _lexicographic(abs_tol: float = 1e-6, rel_tol: float = 0.0) -> tuple[Model, object, object]:
    m = Model("lex")
    x, y = m.add_integer("x", 0, 10), m.add_integer("y", 0, 10)
    m.add(x + y <= 8)
    m.add(y <= 6)
    m.set_lexicographic(
        [
            Objective(x + y, minimize=False, name="total", abs_tol=abs_tol, rel_tol=rel_tol),
            Objective(x, name="x"),
        ]
    )
    return m, x, y


def test_lexicographic_second_level(solver):
    # level 1: max x + y = 8; level 2 then: min x with y <= 6 -> x = 2.
    m, x, y = _lexicographic()
    s = solver.solve(m)
    assert s.status is Status.OPTIMAL
    assert s.objective_values == (8.0, 2.0)
    assert (s.value(x), s.value(y)) == (2.0, 6.0)


@pytest.mark.parametrize(("abs_tol", "rel_tol", "expected"), [(1.0, 0.0, (7.0, 1.0)), (0.0, 0.25, (6.0, 0.0))])
def test_lexicographic_tolerances(solver, abs_tol, rel_tol, expected):
    # level 1 may lose abs_tol + rel_tol * 8: x + y >= 7 (or 6), so level 2 reaches x = 1 (or 0).
    m, _, _ = _lexicographic(abs_tol, rel_tol)
    assert solver.solve(m).objective_values == expected


def test_feasibility_only(solver):
    m = Model()
    x = m.add_integer("x", 0, 9)
    m.add(3 * x == 12)
    s = solver.solve(m)
    assert s.status is Status.OPTIMAL and s.value(x) == 4.0 and s.objective_values == (0.0,)


def test_unbounded(lp_solver):
    m = Model()
    x, y = m.add_var("x"), m.add_var("y")
    m.add(x - y <= 1)
    m.maximize(x + y)
    s = lp_solver.solve(m)
    assert s.status is Status.UNBOUNDED and not s.ok and s.values == {}


def test_infeasible(solver):
    m = Model()
    x, y = m.add_integer("x", 0, 5), m.add_integer("y", 0, 5)
    m.add(x + y <= 1)
    m.add(x + y >= 3)
    m.minimize(x)
    s = solver.solve(m)
    assert s.status is Status.INFEASIBLE and s.conflicts == ()


def test_infeasible_with_improving_ray_is_infeasible(lp_solver):
    # x is free and improves forever, but y cannot satisfy its rows: infeasible, not unbounded.
    m = Model()
    x, y = m.add_var("x", lb=-float("inf")), m.add_var("y")
    m.add(y <= -1)
    m.maximize(x)
    assert lp_solver.solve(m).status is Status.INFEASIBLE


def test_unbounded_second_level(lp_solver):
    m = Model()
    x, y = m.add_var("x", ub=4), m.add_var("y")
    m.set_lexicographic([Objective(x, minimize=False), Objective(y, minimize=False)])
    s = lp_solver.solve(m)
    assert s.status is Status.UNBOUNDED and "level 2" in s.message


@pytest.mark.parametrize("threads", [[1, 2, None, 2]])
def test_thread_counts_can_change_between_solves(solver, threads):
    m = Model()
    x = m.add_integer("x", 0, 5)
    m.add(2 * x <= 7)
    m.maximize(x)
    assert [solver.solve(m, SolveOptions(threads=t)).objective_values for t in threads] == [(3.0,)] * 4


def _assignment_with_two_levels() -> Model:
    """8 capacity-limited agents, 24 jobs: level 1 least cost (342), level 2 most jobs on agent 3.

    The cost optima give agent 3 either 3 or 4 jobs, so the second level decides."""
    rng = np.random.default_rng(7)
    cost = rng.integers(10, 50, (8, 24))
    size = rng.integers(5, 25, (8, 24))
    m = Model("two-level assignment")
    x = [[m.add_binary(f"x[{a},{j}]") for j in range(24)] for a in range(8)]
    for j in range(24):
        m.add(Model.sum(x[a][j] for a in range(8)) == 1, name=f"job#{j}")
    for a in range(8):
        m.add(Model.sum(int(size[a, j]) * x[a][j] for j in range(24)) <= int(size[a].sum() // 5), name=f"cap#{a}")
    total = Model.sum(int(cost[a, j]) * x[a][j] for a in range(8) for j in range(24))
    m.set_lexicographic([Objective(total, name="cost"), Objective(Model.sum(x[3]), minimize=False, name="agent 3")])
    return m


def test_backends_agree_on_a_two_level_milp(make_solver):
    model = _assignment_with_two_levels()
    results = {}
    for name in ("gscip", "highs", "cp-sat", "gurobi"):
        try:
            solver = make_solver(name)
        except PluginError:  # gurobipy not installed
            continue
        s = solver.solve(model, SolveOptions(time_limit=60, relative_gap=0.0))
        assert s.status is Status.OPTIMAL, name
        results[name] = s.objective_values
    assert set(results.values()) == {(342.0, 4.0)}, results


@pytest.mark.parametrize("where", ["constraint", "objective"])
def test_nan_data_is_an_error_status(solver, where):
    m = Model("broken")
    x = m.add_integer("x", 0, 3)
    m.add((x * float("nan") if where == "constraint" else x) <= 1, name="bad row")
    m.maximize(x * float("nan") if where == "objective" else x)
    s = solver.solve(m)
    assert s.status is Status.ERROR and not s.ok
    assert s.message.startswith("invalid model 'broken': ")
    assert ("bad row" in s.message) == (where == "constraint")


def test_constant_constraint(solver):
    m = Model()
    x = m.add_integer("x", 0, 3)
    m.add(x - x + 3 <= 1, name="impossible")
    m.add(x >= 1, name="lower")
    m.maximize(x)
    s = solver.solve(m, SolveOptions(explain_conflicts=True))
    assert (s.status, s.conflicts) == (Status.INFEASIBLE, ("impossible",))


def test_a_solve_prints_nothing_to_stderr(lp_solver, capfd):
    """SCIP's complaints about the interrupter's event handler (printed on every gscip solve that can be
    stopped by Ctrl-C) are held back; a solve is silent unless verbose."""
    m = Model("quiet")
    x = m.add_integer("x", 0, 5)
    m.add(2 * x <= 7)
    m.maximize(x)
    assert lp_solver.solve(m, SolveOptions(time_limit=10)).objective_values == pytest.approx((3.0,))
    assert capfd.readouterr().err == ""
