"""Gurobi through ``gurobipy`` directly (MathOpt's Gurobi loader does not work with the pip wheel).

``gurobipy`` is optional (``pip install stream-solvers[gurobi]``). The wheel ships a size-limited
licence; a model above its limit, a missing licence or a missing ``gurobipy`` raise
:class:`~stream_core.errors.PluginError` naming the problem and the ``--solver gscip`` alternative.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np

from stream_core.errors import PluginError, option
from stream_core.ir.lp import Model, SolveOptions, Status
from stream_solvers.driver import Backend, LevelResult
from stream_solvers.matrix import MatrixForm, Terms

#: Limits of the licence bundled with the gurobipy wheel (measured with gurobipy 13.0).
SIZE_LIMIT_VARS = 2000
SIZE_LIMIT_CONSTRAINTS = 2000
_ERROR_SIZE_LIMIT = 10010
_LICENCE_ERRORS = {10009, _ERROR_SIZE_LIMIT}  # GRB_ERROR_NO_LICENSE, GRB_ERROR_SIZE_LIMIT_EXCEEDED


def _import_gurobipy() -> ModuleType:
    try:
        import gurobipy
    except ImportError as exc:
        raise PluginError(
            f"gurobipy is not installed; pip install gurobipy, or use {option('solver', 'gscip')}"
        ) from exc
    return gurobipy


class GurobiSolver(Backend):
    name = "gurobi"

    def __init__(self) -> None:
        self.gp = _import_gurobipy()
        self._env: Any = None

    def environment(self) -> Any:
        """The Gurobi environment (started once; raises PluginError on licence problems)."""
        if self._env is None:
            gp = self.gp
            try:
                env = gp.Env(empty=True)
                env.setParam("OutputFlag", 0)
                env.start()
            except gp.GurobiError as exc:
                raise PluginError(
                    f"Gurobi licence problem: {exc}; fix the licence or use {option('solver', 'gscip')}"
                ) from exc
            self._env = env
        return self._env

    def open(self, model: Model, form: MatrixForm) -> _GurobiSession:
        return _GurobiSession(self.gp, self.environment(), model.name, form)


class _GurobiSession:
    def __init__(self, gp: ModuleType, env: Any, name: str, form: MatrixForm):
        self.gp = gp
        self.name = name
        grb = gp.GRB
        m = gp.Model(name, env=env)
        vtypes = np.where(form.integral, grb.INTEGER, grb.CONTINUOUS).tolist()
        self.vars = m.addMVar(form.num_vars, lb=form.lb, ub=form.ub, vtype=vtypes).tolist()
        self.is_mip = bool(form.integral.any())
        starts, cols, coeffs = form.starts.tolist(), form.cols.tolist(), form.coeffs.tolist()
        xs = self.vars
        for row, (lo, hi) in enumerate(zip(form.row_lo.tolist(), form.row_hi.tolist(), strict=True)):
            begin, end = starts[row], starts[row + 1]
            self._add_row(m, gp.LinExpr(coeffs[begin:end], [xs[j] for j in cols[begin:end]]), lo, hi)
        self.model = m
        self.interrupted = False  # by interrupt(), not by Ctrl-C

    def _add_row(self, m: Any, expr: Any, lo: float, hi: float) -> None:
        grb = self.gp.GRB
        if lo == hi:
            m.addLConstr(expr, grb.EQUAL, lo)
            return
        if lo > -math.inf:
            m.addLConstr(expr, grb.GREATER_EQUAL, lo)
        if hi < math.inf:
            m.addLConstr(expr, grb.LESS_EQUAL, hi)

    def _expr(self, terms: Terms) -> Any:
        xs = self.vars
        return self.gp.LinExpr(terms.coeff.tolist(), [xs[j] for j in terms.index.tolist()])

    def set_objective(self, terms: Terms, minimize: bool) -> None:
        grb = self.gp.GRB
        self.model.setObjective(self._expr(terms), grb.MINIMIZE if minimize else grb.MAXIMIZE)

    def add_lock(self, terms: Terms, lo: float, hi: float) -> None:
        self._add_row(self.model, self._expr(terms), lo, hi)

    def hint(self, values: np.ndarray) -> None:
        if self.is_mip:
            self.model.setAttr("Start", self.vars, values.tolist())

    def interrupt(self) -> None:
        self.interrupted = True
        self.model.terminate()

    def solve(self, options: SolveOptions) -> LevelResult:
        gp, m = self.gp, self.model
        grb = gp.GRB
        m.Params.OutputFlag = int(options.verbose)
        m.Params.TimeLimit = grb.INFINITY if options.time_limit is None else float(options.time_limit)
        if options.relative_gap is not None:
            m.Params.MIPGap = float(options.relative_gap)
        if options.threads is not None:
            m.Params.Threads = int(options.threads)
        try:
            m.optimize()
        except gp.GurobiError as exc:
            if exc.errno in _LICENCE_ERRORS:
                raise PluginError(self._licence_message(exc)) from exc
            return LevelResult(Status.ERROR, message=f"Gurobi: {exc}")
        if m.Status == grb.INTERRUPTED and not self.interrupted:  # Gurobi caught Ctrl-C itself: pass it on
            raise KeyboardInterrupt
        return self._result()

    def _licence_message(self, exc: Exception) -> str:
        m = self.model
        size = f"model {self.name!r} has {m.NumVars} variables and {m.NumConstrs} constraints"
        if getattr(exc, "errno", None) == _ERROR_SIZE_LIMIT:
            return (
                f"{size}, more than the size-limited Gurobi licence allows (at most {SIZE_LIMIT_VARS} variables "
                f"and {SIZE_LIMIT_CONSTRAINTS} constraints with the licence bundled in the gurobipy wheel); "
                f"install a full Gurobi licence or use {option('solver', 'gscip')}"
            )
        return f"Gurobi licence problem ({size}): {exc}; fix the licence or use {option('solver', 'gscip')}"

    def _bound(self) -> float | None:
        """The MIP dual bound, when Gurobi has one."""
        if not self.is_mip:
            return None
        try:
            bound = float(self.model.ObjBound)
        except self.gp.GurobiError:
            return None
        return bound if math.isfinite(bound) else None

    def _result(self) -> LevelResult:
        grb = self.gp.GRB
        m = self.model
        status = m.Status
        has_solution = m.SolCount > 0
        values = np.asarray(m.getAttr("X", self.vars), dtype=np.float64) if has_solution else None
        bound = self._bound()
        if status == grb.OPTIMAL:
            return LevelResult(Status.OPTIMAL, values, bound)
        if status == grb.INFEASIBLE:
            return LevelResult(Status.INFEASIBLE)
        if status == grb.UNBOUNDED:
            return LevelResult(Status.UNBOUNDED)
        if status == grb.INF_OR_UNBD:
            return LevelResult(Status.INFEASIBLE, undecided=True)
        if status in _limit_statuses(grb):
            message = _STATUS_NAMES.get(status, f"status {status}")
            return LevelResult(Status.FEASIBLE if has_solution else Status.NO_SOLUTION, values, bound, message=message)
        return LevelResult(Status.ERROR, message=f"Gurobi: {_STATUS_NAMES.get(status, f'status {status}')}")


_STATUS_NAMES = {
    7: "iteration limit",
    8: "node limit",
    9: "time limit",
    10: "solution limit",
    11: "interrupted",
    12: "numerical trouble",
    13: "suboptimal",
    15: "objective limit",
    16: "work limit",
    17: "memory limit",
}


def _limit_statuses(grb: Any) -> set[int]:
    return {
        grb.CUTOFF,
        grb.ITERATION_LIMIT,
        grb.NODE_LIMIT,
        grb.TIME_LIMIT,
        grb.SOLUTION_LIMIT,
        grb.INTERRUPTED,
        grb.SUBOPTIMAL,
        grb.USER_OBJ_LIMIT,
        grb.WORK_LIMIT,
        grb.MEM_LIMIT,
    }
