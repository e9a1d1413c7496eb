"""The solve loop every backend shares: lexicographic levels, status resolution and the Solution.

A backend only knows how to put a :class:`~stream_solvers.matrix.MatrixForm` into its library and
run one solve (a :class:`Session`); :class:`Backend.solve` does the rest:

* the objective levels are solved one after the other; after level ``k`` a *lock* row keeps its
  expression within ``abs_tol + rel_tol * |value|`` of the value reached (the optimum, or the
  incumbent when the time limit stopped the level), and the previous solution is passed as a hint;
* "infeasible or unbounded" answers and unproven "unbounded" answers on the first level are settled
  by a feasibility solve, so ``UNBOUNDED`` always means "feasible with an improving ray";
* a later level that finds nothing better (time limit, numerical trouble) keeps the previous
  level's solution and makes the result ``FEASIBLE``;
* values of integer variables are rounded and every objective value is evaluated on the returned
  values, so all backends report the same numbers for the same solution;
* with ``SolveOptions.explain_conflicts`` an infeasible model gets its conflicting constraint
  groups (:func:`stream_solvers.conflicts.explain_infeasibility`);
* each solve gets at most what is left of the run's time limit
  (:func:`stream_core.context.solve_time_limit`) and, in the main thread, runs in a worker thread
  while this one waits, so that Ctrl-C, SIGTERM or the run's time limit (raised here by their
  handlers) stop it within a moment through ``Session.interrupt`` (all our libraries release the
  GIL while solving).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

import attrs
import numpy as np

from stream_core.context import solve_time_limit
from stream_core.errors import PluginError
from stream_core.ir.lp import LinExpr, Model, Objective, Solution, SolveOptions, Status
from stream_solvers.matrix import MatrixForm, Terms

_GAP_EPS = 1e-9
#: Seconds an interrupted solve may take to return before its exception is raised anyway.
_INTERRUPT_WAIT = 1.0


@attrs.frozen(eq=False)
class LevelResult:
    """What one solve of one level produced.

    ``values`` is the primal solution (``None`` without one); ``bound`` the proven bound on the
    level's objective *without* its constant (``None`` when the library gives none);
    ``undecided`` marks an "infeasible or unbounded" answer (``status`` is then ``INFEASIBLE``).
    """

    status: Status
    values: np.ndarray | None = None
    bound: float | None = None
    undecided: bool = attrs.field(default=False, kw_only=True)
    message: str = attrs.field(default="", kw_only=True)


class Session(Protocol):
    """One model loaded into a library, re-solved once per objective level."""

    def set_objective(self, terms: Terms, minimize: bool) -> None: ...

    def add_lock(self, terms: Terms, lo: float, hi: float) -> None: ...

    def hint(self, values: np.ndarray) -> None: ...

    def solve(self, options: SolveOptions) -> LevelResult: ...

    def interrupt(self) -> None:
        """Stop a running :meth:`solve` soon (called from another thread)."""


class Backend:
    """Base of the solver objects the plugin's records return (implements the ``Solver`` protocol)."""

    name = "backend"

    def open(self, model: Model, form: MatrixForm) -> Session:
        """Load ``model`` into the library. Raise ``PluginError`` for licence or support problems."""
        raise NotImplementedError

    def solve(self, model: Model, options: SolveOptions | None = None) -> Solution:
        options = options or SolveOptions()
        start = time.perf_counter()
        solution = _Run(self, model, options).execute()
        solution = attrs.evolve(solution, seconds=time.perf_counter() - start)
        if solution.status is Status.INFEASIBLE and options.explain_conflicts:
            from stream_solvers.conflicts import explain_infeasibility

            try:
                conflicts = explain_infeasibility(model, self, attrs.evolve(options, explain_conflicts=False))
            except PluginError as exc:  # e.g. the relaxed model exceeds a size-limited licence
                solution = attrs.evolve(solution, message=f"conflict search failed: {exc}")
            else:
                solution = attrs.evolve(solution, conflicts=conflicts)
            solution = attrs.evolve(solution, seconds=time.perf_counter() - start)
        return solution


class _Run:
    """One call of :meth:`Backend.solve`."""

    def __init__(self, backend: Backend, model: Model, options: SolveOptions):
        self.backend = backend
        self.model = model
        self.options = options
        self.objectives = model.objectives or [Objective(LinExpr(), name="feasibility")]
        self.notes: list[str] = []
        self.gaps: list[float | None] = []

    def result(self, status: Status, values: np.ndarray | None = None, message: str = "") -> Solution:
        notes = [*self.notes, message] if message else self.notes
        if values is None:
            return Solution(status, self.backend.name, message="; ".join(notes))
        mapping = _as_mapping(values)
        objective_values = tuple(o.expr.value(mapping) for o in self.objectives)
        known = [g for g in self.gaps if g is not None]
        gap = max(known) if known else None
        return Solution(
            status,
            self.backend.name,
            values=mapping,
            objective_values=objective_values,
            gap=gap,
            message="; ".join(notes),
        )

    def execute(self) -> Solution:
        try:
            form = MatrixForm.of(self.model)
            level_terms = [Terms.of(objective.expr) for objective in self.objectives]
        except ValueError as exc:
            return self.result(Status.ERROR, message=f"invalid model {self.model.name!r}: {exc}")
        session = self.backend.open(self.model, form)
        values: np.ndarray | None = None
        proven = True
        for level, (objective, terms) in enumerate(zip(self.objectives, level_terms, strict=True)):
            session.set_objective(terms, objective.minimize)
            if values is not None:
                session.hint(values)
            outcome = _solve(session, self.options)
            label = f"level {level + 1} ({objective.name!r})" if len(self.objectives) > 1 else ""
            if outcome.status is Status.ERROR:
                return self.result(Status.ERROR, message=_join(label, outcome.message or "solver error"))
            if level == 0 and (outcome.undecided or outcome.status is Status.UNBOUNDED):
                settled = self._settle_unbounded(session)
                return self.result(settled.status, message=settled.message)
            if outcome.undecided or outcome.status is Status.UNBOUNDED:
                return self.result(Status.UNBOUNDED, message=_join(label, "the objective is unbounded"))
            if outcome.values is None and outcome.status in (Status.OPTIMAL, Status.FEASIBLE):
                return self.result(Status.ERROR, message=_join(label, f"{outcome.status.value} without a solution"))
            if outcome.values is None:
                if level == 0:
                    return self.result(outcome.status, message=outcome.message)
                # nothing better than the previous level's solution: keep it as this level's incumbent
                self.notes.append(_join(label, f"{outcome.status.value}; kept the previous level's solution"))
                proven = False
            else:
                values = _round_integral(outcome.values, form)
                if outcome.status is not Status.OPTIMAL:
                    proven = False
                    self.notes.append(_join(label, f"stopped early ({outcome.message or outcome.status.value})"))
            assert values is not None
            reached = terms.value(values)
            constant = objective.expr.constant
            bound = None if outcome.bound is None else outcome.bound + constant
            self.gaps.append(_gap(reached + constant, bound, outcome.status is Status.OPTIMAL))
            if level + 1 < len(self.objectives) and len(terms.index):
                tolerance = objective.abs_tol + objective.rel_tol * abs(reached + constant)
                lo, hi = (-math.inf, reached + tolerance) if objective.minimize else (reached - tolerance, math.inf)
                session.add_lock(terms, lo, hi)
        assert values is not None
        return self.result(Status.OPTIMAL if proven else Status.FEASIBLE, values)

    def _settle_unbounded(self, session: Session) -> LevelResult:
        """A first-level "unbounded" or "infeasible or unbounded": is the model feasible at all?"""
        session.set_objective(Terms(np.zeros(0, np.int64), np.zeros(0)), True)
        check = _solve(session, self.options)
        if check.status is Status.INFEASIBLE and not check.undecided:
            return LevelResult(Status.INFEASIBLE)
        if check.values is not None:
            return LevelResult(Status.UNBOUNDED, message="the objective is unbounded")
        reason = check.message or check.status.value
        return LevelResult(check.status, message=f"could not tell infeasible from unbounded ({reason})")


def _solve(session: Session, options: SolveOptions) -> LevelResult:
    """``session.solve`` within the run's time budget, interruptible (see the module docstring)."""
    options = attrs.evolve(options, time_limit=solve_time_limit(options.time_limit))
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        return session.solve(options)
    done: list[LevelResult] = []
    failed: list[BaseException] = []
    finished = threading.Event()  # not Thread.join: an interrupted join marks a running thread stopped

    def work() -> None:
        try:
            done.append(session.solve(options))
        except BaseException as exc:  # handed to the waiting thread
            failed.append(exc)
        finally:
            finished.set()

    threading.Thread(target=work, name="stream-solve", daemon=True).start()
    try:
        while not finished.wait(0.1):
            pass
    except BaseException:  # Ctrl-C, SIGTERM or the run's time limit, raised by their handlers
        session.interrupt()
        finished.wait(_INTERRUPT_WAIT)
        raise
    if failed:
        raise failed[0]
    return done[0]


def _gap(reached: float, bound: float | None, optimal: bool) -> float | None:
    """Relative gap ``|objective - bound| / |objective|`` (Gurobi's definition; constants included)."""
    if bound is None or math.isnan(bound):
        return 0.0 if optimal else None
    if math.isinf(bound):
        return math.inf
    gap = abs(reached - bound) / max(abs(reached), _GAP_EPS)
    return 0.0 if gap < _GAP_EPS else gap


def _round_integral(values: np.ndarray, form: MatrixForm) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).copy()
    values[form.integral] = np.round(values[form.integral]) + 0.0  # no -0.0
    return values


def _as_mapping(values: np.ndarray) -> dict[int, float]:
    return dict(enumerate(values.tolist()))


def _join(label: str, text: str) -> str:
    return f"{label}: {text}" if label else text
