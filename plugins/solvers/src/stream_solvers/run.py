"""One call for optimising plugins: pick the solver, solve, and turn failures into useful errors."""

from __future__ import annotations

from stream_core.context import RunContext
from stream_core.errors import InfeasibleError, PluginError, StreamError, option
from stream_core.ir.lp import Model, Solution, SolveOptions, Solver, Status
from stream_core.plugins import load_plugins
from stream_solvers.conflicts import conflict_report


class SolveError(StreamError):
    """A solve ended without a usable solution for a reason other than infeasibility."""


def pick_solver(model: Model, context: RunContext | None = None, solver: str | Solver | None = None) -> Solver:
    """``solver`` itself, the solver registered under that name, or the run's solver (``--solver`` or
    the default) for the model's problem class."""
    if solver is not None and not isinstance(solver, str):
        return solver
    if context is None:
        context = RunContext(plugins=load_plugins())
    if solver is None:
        return context.solver(model.problem_class)
    record = context.plugins.registry("solvers").get(solver)
    if model.problem_class not in record.problem_classes:
        raise PluginError(f"solver {record.name!r} cannot solve {model.problem_class.upper()} problems")
    return record.load()


def solve_model(
    model: Model,
    context: RunContext | None = None,
    *,
    solver: str | Solver | None = None,
    options: SolveOptions | None = None,
    what: str | None = None,
    check: bool = True,
) -> Solution:
    """Solve ``model``; with ``check``, raise unless there is a solution (OPTIMAL or FEASIBLE).

    Infeasible models raise :class:`~stream_core.errors.InfeasibleError` whose report lists the
    conflicting constraint groups; no solution within the time limit, unboundedness and solver
    errors raise :class:`SolveError`. ``what`` names the problem in messages (default: the model's
    name). Default options: the run's ``--time-limit`` per solve, conflicts explained when checking.
    """
    chosen = pick_solver(model, context, solver)
    if options is None:
        time_limit = context.options.solve_seconds if context is not None else SolveOptions().time_limit
        options = SolveOptions(time_limit=time_limit, explain_conflicts=check)
    solution = chosen.solve(model, options)
    if not check or solution.ok:
        return solution
    what = what or f"model {model.name!r}"
    size = f"{model.num_vars} variables, {model.num_constraints} constraints"
    if solution.status is Status.INFEASIBLE:
        if solution.conflicts:
            report = conflict_report(model, solution.conflicts)
            raise InfeasibleError(f"{what} has no solution ({size}); these constraint groups conflict:", report)
        note = f" ({solution.message})" if solution.message else ""
        raise InfeasibleError(f"{what} has no solution ({size}); {chosen.name} proved it infeasible{note}")
    if solution.status is Status.NO_SOLUTION:
        limit = options.time_limit
        raise SolveError(
            f"{chosen.name} found no solution for {what} ({size}) within the time limit of {limit} s per solve; "
            f"raise {option('time_limit')} or try another {option('solver')}"
        )
    detail = f": {solution.message}" if solution.message else ""
    raise SolveError(f"{chosen.name} could not solve {what} ({size}): {solution.status.value}{detail}")
