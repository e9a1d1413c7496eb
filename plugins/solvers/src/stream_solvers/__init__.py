"""LP/MILP solvers for stream-core behind the core's neutral model API (:mod:`stream_core.ir.lp`).

Build a :class:`~stream_core.ir.lp.Model`, then ``solve_model(model, context)`` (or
``context.solver().solve(model, options)``). Importing this package loads no solver library; each
backend is imported when selected.
"""

from stream_solvers.conflicts import BOUNDS_GROUP, conflict_report, constraint_group, explain_infeasibility
from stream_solvers.run import SolveError, pick_solver, solve_model

__all__ = [
    "BOUNDS_GROUP",
    "SolveError",
    "conflict_report",
    "constraint_group",
    "explain_infeasibility",
    "pick_solver",
    "solve_model",
]
