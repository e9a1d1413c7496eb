"""Infeasibility explanations: the conflicting constraint groups, with every backend."""

from __future__ import annotations

import pytest
from stream_solvers.conflicts import BOUNDS_GROUP, conflict_report, constraint_group, explain_infeasibility
from stream_solvers.run import solve_model

from stream_core.errors import InfeasibleError
from stream_core.ir.lp import Model, SolveOptions, Status

SIZES = [40, 60, 50, 30, 40, 20]  # tensor sizes; every core holds 100


def placement(pinned_to_core_3=(1, 2, 4)) -> Model:
    """Tensors on 4 cores; the tensors pinned to core 3 need 60 + 50 + 40 = 150 > 100."""
    m = Model("placement")
    x = {(t, c): m.add_binary(f"x[{t},{c}]") for t in range(len(SIZES)) for c in range(4)}
    for t in range(len(SIZES)):
        m.add(Model.sum(x[t, c] for c in range(4)) == 1, name=f"place#t{t}")
    for c in range(4):
        m.add(Model.sum(SIZES[t] * x[t, c] for t in range(len(SIZES))) <= 100, name=f"memory[core {c}]")
    for t in pinned_to_core_3:
        m.add(x[t, 3] == 1, name=f"pin[core 3]#t{t}")
    m.add(x[0, 0] == 1, name="pin[core 0]#t0")
    m.minimize(Model.sum(x[t, 3] for t in range(len(SIZES))))
    return m


def test_group_convention():
    assert constraint_group("memory[core 3]#slot 2") == "memory[core 3]"
    assert constraint_group("memory[core 3]") == "memory[core 3]"
    assert constraint_group("a#b#c") == "a"
    assert constraint_group("#x") == "#x"  # nothing before '#': the whole name


def test_core_3_overflow_names_memory_and_pins(solver):
    s = solver.solve(placement(), SolveOptions(time_limit=20, explain_conflicts=True))
    assert s.status is Status.INFEASIBLE
    assert s.conflicts == ("memory[core 3]", "pin[core 3]")


def test_conflicts_only_when_asked(make_solver):
    assert make_solver("gscip").solve(placement()).conflicts == ()


def test_explanation_follows_the_data(make_solver):
    m = placement(pinned_to_core_3=(1, 2))  # 60 + 50 > 100 still conflicts ...
    assert explain_infeasibility(m, make_solver("highs")) == ("memory[core 3]", "pin[core 3]")
    ok = placement(pinned_to_core_3=(1, 3))  # ... 60 + 30 fits
    assert make_solver("highs").solve(ok).status is Status.OPTIMAL
    assert explain_infeasibility(ok, make_solver("highs")) == ()


def test_deletion_filter_returns_one_minimal_set(lp_solver):
    # two independent conflicts: a (x <= 1) vs b (x >= 3), and c (y >= 5) vs d (y <= 2); the deletion
    # filter drops a and b first (c, d still conflict) and keeps c and d (each alone is feasible).
    m = Model()
    x, y = m.add_var("x"), m.add_var("y")
    m.add(x <= 1, name="a")
    m.add(x >= 3, name="b")
    m.add(y >= 5, name="c")
    m.add(y <= 2, name="d")
    m.add(x + y <= 100, name="harmless")
    assert explain_infeasibility(m, lp_solver) == ("c", "d")


def test_bounds_alone_infeasible(solver):
    m = Model()
    z = m.add_integer("z", 0.2, 0.8)
    m.add(z <= 5, name="loose")
    m.minimize(z)
    assert explain_infeasibility(m, solver) == (BOUNDS_GROUP,)


def test_lp_supply_demand_groups(lp_solver):
    # supply 3 + 4 = 7 cannot meet demand 5 + 6 = 11: every supply and demand row takes part.
    m = Model("transport")
    flow = {(s, d): m.add_var(f"f[{s},{d}]") for s in range(2) for d in range(2)}
    for s, cap in enumerate((3, 4)):
        m.add(flow[s, 0] + flow[s, 1] <= cap, name=f"supply#{s}")
    for d, need in enumerate((5, 6)):
        m.add(flow[0, d] + flow[1, d] >= need, name=f"demand#{d}")
    m.add(flow[0, 0] <= 50, name="route limit")
    m.minimize(Model.sum(flow.values()))
    assert explain_infeasibility(m, lp_solver) == ("supply", "demand")


def test_solve_model_raises_infeasible_error_with_report(make_solver):
    with pytest.raises(InfeasibleError) as error:
        solve_model(placement(), solver=make_solver("gscip"), what="tensor placement")
    assert error.value.report == ("memory[core 3] (1 constraint)", "pin[core 3] (3 constraints)")
    assert "tensor placement has no solution (24 variables, 14 constraints)" in str(error.value)
    assert error.value.exit_code == 2


def test_conflict_report_counts():
    m = placement()
    assert conflict_report(m, ["place", "pin[core 0]"]) == ["place (6 constraints)", "pin[core 0] (1 constraint)"]


def test_gurobi_conflict_search_over_the_licence_keeps_the_status(make_solver):
    pytest.importorskip("gurobipy")
    m = Model("tight")  # 1999 variables fit the size-limited licence; the elastic copy (+2 slacks) does not
    xs = [m.add_var(f"x{i}", ub=1) for i in range(1999)]
    for i, x in enumerate(xs):
        m.add(x >= 0.5, name=f"half#{i}")
    m.add(Model.sum(xs) <= 10, name="total")
    s = make_solver("gurobi").solve(m, SolveOptions(explain_conflicts=True))
    assert s.status is Status.INFEASIBLE
    if "size-limited" not in s.message:
        pytest.skip("this Gurobi licence is not size-limited")
    assert s.conflicts == ()
    assert s.message.startswith("conflict search failed: model 'tight (elastic)' has 2001 variables")
