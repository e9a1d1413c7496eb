"""A third-party LP/MILP solver that depends on stream-core alone: built from its own pyproject,
pip-installed into a folder, found through its entry point, chosen by ``context.solver()`` with
stream-solvers disabled, and solving a small knapsack whose optimum is worked out by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "brute-solver"
version = "0.1.0"
dependencies = ["stream-core"]

[project.entry-points."stream_core.plugins"]
brute-solver = "brute_solver.plugin"

[tool.setuptools.packages.find]
where = ["src"]
"""

PLUGIN = """\
from stream_core import hookimpl
from stream_core.records import SolverRecord


@hookimpl
def stream_register_solvers():
    yield SolverRecord(
        name="brute",
        description="enumerates every assignment of bounded integer variables",
        factory=lambda: __import__("brute_solver.solver", fromlist=["BruteForce"]).BruteForce(),
        problem_classes={"milp"},
        priority=1,
    )
"""

SOLVER = '''\
"""Exhaustive search over bounded integer models; lexicographic objectives compared as tuples."""

import itertools
import math
import time

from stream_core.ir.lp import Model, Solution, SolveOptions, Status


class BruteForce:
    name = "brute"

    def solve(self, model: Model, options: SolveOptions) -> Solution:
        start = time.perf_counter()
        if any(not v.is_integral or math.isinf(v.ub) for v in model.vars):
            return Solution(Status.ERROR, self.name, message="only bounded integer variables")
        ranges = [range(math.ceil(v.lb), math.floor(v.ub) + 1) for v in model.vars]
        best, best_key = None, None
        for point in itertools.product(*ranges):
            values = dict(enumerate(float(x) for x in point))
            if any(c.violation(values) > 1e-9 for c in model.constraints):
                continue
            key = tuple(o.expr.value(values) * (1 if o.minimize else -1) for o in model.objectives)
            if best_key is None or key < best_key:
                best, best_key = values, key
        seconds = time.perf_counter() - start
        if best is None:
            return Solution(Status.INFEASIBLE, self.name, seconds=seconds)
        objectives = tuple(o.expr.value(best) for o in model.objectives)
        return Solution(Status.OPTIMAL, self.name, best, objectives, gap=0.0, seconds=seconds)
'''

# maximise 5a + 4b + 3c + 2x  s.t.  2a + 3b + c + x <= 5,  a, b, c binary,  x integer in [0, 3].
# By hand: c (3 per unit of weight) and a (2.5) first, weight 3, value 8; the 2 left go to x
# (2 per unit): 8 + 4 = 12. Every other filling is worse: a+x=3 gives 11, b+c+x=1 and a+b give 9.
SCRIPT = """\
import json, sys
from stream_core import RunContext, load_plugins
from stream_core.ir.lp import Model, SolveOptions
from stream_core.protocols import Solver

model = Model("knapsack")
a, b, c = model.add_binary("a"), model.add_binary("b"), model.add_binary("c")
x = model.add_integer("x", 0, 3)
model.add(2 * a + 3 * b + c + x <= 5, name="capacity")
model.maximize(5 * a + 4 * b + 3 * c + 2 * x)
solver = RunContext(plugins=load_plugins()).solver(model.problem_class)
solution = solver.solve(model, SolveOptions())
print(json.dumps({
    "solver": solver.name,
    "protocol": isinstance(solver, Solver),
    "status": solution.status.value,
    "objective": solution.objective_values,
    "values": [solution.int_value(v) for v in (a, b, c, x)],
    "stream_solvers_imported": "stream_solvers" in sys.modules,
}))
"""


def write_package(root: Path) -> Path:
    package = root / "src" / "brute_solver"
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(PLUGIN)
    (package / "solver.py").write_text(SOLVER)
    return root


def run(python_args: list[str], target: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(target), "STREAM_DISABLE_PLUGINS": "stream-solvers"}
    return subprocess.run(
        [sys.executable, *python_args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )


def test_a_solver_depending_on_stream_core_alone_installs_and_solves(tmp_path):
    source = write_package(tmp_path / "brute-solver")
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target, source],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    [dist_info] = target.glob("brute_solver-0.1.0.dist-info")
    assert "Requires-Dist: stream-core" in (dist_info / "METADATA").read_text()

    listing = run(["-m", "stream_core.cli", "plugins", "--json"], target, tmp_path)
    assert listing.returncode == 0, listing.stderr
    rows = {row["distribution"]: row for row in json.loads(listing.stdout)["plugins"]}
    assert rows["brute-solver"]["status"] == "active"
    assert rows["brute-solver"]["provides"] == {"solvers": ["brute"]}
    assert rows["stream-solvers"]["status"] == "disabled"

    solved = run(["-c", textwrap.dedent(SCRIPT)], target, tmp_path)
    assert solved.returncode == 0, solved.stderr
    assert json.loads(solved.stdout) == {
        "solver": "brute",
        "protocol": True,
        "status": "optimal",
        "objective": [12.0],
        "values": [1, 0, 1, 2],
        "stream_solvers_imported": False,
    }
