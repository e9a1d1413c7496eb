"""The plugin's records: discovery, the default solver, selection by name, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from stream_solvers.run import SolveError, pick_solver, solve_model

from stream_core.context import RunContext, RunOptions
from stream_core.errors import PluginError, StreamError
from stream_core.ir.lp import Model, SolveOptions, Status


def test_stream_plugins_lists_the_solvers():
    out = subprocess.run(
        [sys.executable, "-m", "stream_core.cli", "plugins", "--json"], capture_output=True, text=True, check=True
    )
    rows = {row["distribution"]: row for row in json.loads(out.stdout)["plugins"]}
    assert rows["stream-solvers"]["status"] == "active"
    assert rows["stream-solvers"]["provides"]["solvers"] == ["cp-sat", "gscip", "gurobi", "highs"]


def test_listing_imports_no_solver_library():
    code = (
        "import sys; from stream_core.plugins import Plugins; p = Plugins.discover(); "
        "names = p.registry('solvers').names(); "
        "print(sorted(m for m in ('ortools', 'highspy', 'gurobipy', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_default_solver_is_gscip(stream_plugins):
    context = RunContext(plugins=stream_plugins)
    assert stream_plugins.registry("solvers").default().name == "gscip"
    assert context.solver("lp").name == "gscip"
    assert context.solver("milp").name == "gscip"


@pytest.mark.parametrize("name", ["highs", "cp-sat"])
def test_solver_by_name(stream_plugins, name):
    context = RunContext(plugins=stream_plugins, options=RunOptions(solver=name))
    assert context.solver("milp").name == name


def test_cp_sat_does_not_take_lps(stream_plugins):
    context = RunContext(plugins=stream_plugins, options=RunOptions(solver="cp-sat"))
    with pytest.raises(PluginError, match="cannot solve LP"):
        context.solver("lp")
    m = Model()
    m.maximize(m.add_var("x", ub=1))
    with pytest.raises(PluginError, match="cannot solve LP"):
        pick_solver(m, RunContext(plugins=stream_plugins), "cp-sat")


def test_solve_model_uses_the_run_options(stream_plugins):
    m = Model("small")
    x = m.add_integer("x", 0, 7)
    m.add(2 * x <= 9)
    m.maximize(x)
    context = RunContext(plugins=stream_plugins, options=RunOptions(solver="highs", time_limit=5))
    s = solve_model(m, context)
    assert (s.status, s.solver, s.objective_values) == (Status.OPTIMAL, "highs", (4.0,))


def test_solve_model_unbounded_is_a_solve_error(stream_plugins):
    m = Model("ray")
    m.maximize(m.add_var("x"))
    with pytest.raises(SolveError, match=r"gscip could not solve model 'ray'.*unbounded") as error:
        solve_model(m, RunContext(plugins=stream_plugins))
    assert isinstance(error.value, StreamError)
    assert solve_model(m, RunContext(plugins=stream_plugins), check=False).status is Status.UNBOUNDED


def test_solve_model_no_solution_names_the_limit(stream_plugins, hard_knapsack):
    class NeverSolves:  # a Solver that always runs out of time
        name = "stub"

        def solve(self, model, options):
            from stream_core.ir.lp import Solution

            return Solution(Status.NO_SOLUTION, self.name)

    with pytest.raises(SolveError, match=r"stub found no solution .* within the time limit of 0.5 s"):
        solve_model(hard_knapsack, solver=NeverSolves(), options=SolveOptions(time_limit=0.5))
