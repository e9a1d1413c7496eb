"""LP/MILP solvers for stream-core behind one neutral model API.

Build a :class:`Model`, then ``solve_model(model, context)`` (or ``context.solver().solve(model,
options)``). Importing this package loads no solver library; each backend is imported when selected.
"""

from stream_solvers.conflicts import BOUNDS_GROUP, conflict_report, constraint_group, explain_infeasibility
from stream_solvers.model import (
    INF,
    Constraint,
    LinExpr,
    Model,
    Objective,
    Sense,
    Solution,
    SolveOptions,
    Solver,
    Status,
    Var,
    VarType,
)
from stream_solvers.run import SolveError, pick_solver, solve_model

__all__ = [
    "BOUNDS_GROUP",
    "INF",
    "Constraint",
    "LinExpr",
    "Model",
    "Objective",
    "Sense",
    "Solution",
    "SolveError",
    "SolveOptions",
    "Solver",
    "Status",
    "Var",
    "VarType",
    "conflict_report",
    "constraint_group",
    "explain_infeasibility",
    "pick_solver",
    "solve_model",
]
