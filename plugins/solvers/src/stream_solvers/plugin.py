"""stream-core hook implementations: the solver records (lazy: nothing heavy is imported here)."""

from __future__ import annotations

from collections.abc import Iterator

from stream_core import hookimpl
from stream_core.plugins import lazy
from stream_core.records import SolverRecord


@hookimpl
def stream_register_solvers() -> Iterator[SolverRecord]:
    yield SolverRecord(
        name="gscip",
        description="SCIP through OR-Tools MathOpt; licence-free (the default)",
        priority=100,
        problem_classes={"lp", "milp"},
        factory=lazy("stream_solvers.gscip", "GscipSolver"),
    )
    yield SolverRecord(
        name="highs",
        description="HiGHS through highspy; licence-free, fast on LPs",
        priority=50,
        problem_classes={"lp", "milp"},
        factory=lazy("stream_solvers.highs", "HighsSolver"),
    )
    yield SolverRecord(
        name="gurobi",
        description="Gurobi through gurobipy (pip install stream-solvers[gurobi]); needs a licence for large models",
        priority=20,
        problem_classes={"lp", "milp"},
        factory=lazy("stream_solvers.gurobi", "GurobiSolver"),
    )
    yield SolverRecord(
        name="cp-sat",
        description="OR-Tools CP-SAT; pure integer models with finite bounds and exactly scalable coefficients",
        priority=10,
        problem_classes={"milp"},
        factory=lazy("stream_solvers.cpsat", "CpSatSolver"),
    )
