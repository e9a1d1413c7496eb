"""OR-Tools CP-SAT for pure integer programs.

CP-SAT works on integers only, so a model is accepted when every variable is integer with finite
bounds and every row (and objective) can be scaled *exactly* to integer coefficients: each
coefficient is read as the shortest decimal that prints as it (``0.1`` is 1/10) and the row is
multiplied by the least common multiple of the denominators (at most 10**9). Right-hand sides are then rounded
towards feasibility (``a.x <= 3.5`` with integer ``a.x`` is ``a.x <= 3``), which is exact. Anything
else raises :class:`~stream_core.errors.PluginError` naming the offending variable or constraint.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from ortools.sat.python import cp_model

from stream_core.errors import PluginError, option
from stream_core.ir.lp import Model, SolveOptions, Status
from stream_solvers.driver import Backend, LevelResult
from stream_solvers.matrix import MatrixForm, Terms

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_EXACT = 2**53  # integers up to this size are exact as floats
_MAX_MULTIPLIER = 10**9  # larger row multipliers mean coefficients that are not short decimals (e.g. 1/3)
_SHOWN = 3  # offending names listed in an error


class CpSatSolver(Backend):
    name = "cp-sat"

    def open(self, model: Model, form: MatrixForm) -> _CpSatSession:
        _check_variables(model, form)
        return _CpSatSession(model, form)


def _check_variables(model: Model, form: MatrixForm) -> None:
    advice = f"use {option('solver', 'gscip')} (or highs/gurobi) for this model"
    continuous = np.flatnonzero(~form.integral)
    if len(continuous):
        names = _names(model, continuous)
        raise PluginError(
            f"cp-sat solves pure integer models only; model {model.name!r} has {len(continuous)} continuous "
            f"variable(s) ({names}); {advice}"
        )
    unbounded = np.flatnonzero(~((np.abs(form.lb) < _EXACT) & (np.abs(form.ub) < _EXACT)))
    if len(unbounded):
        raise PluginError(
            f"cp-sat needs finite bounds (below 2**53) on every variable; model {model.name!r} has "
            f"{len(unbounded)} unbounded variable(s) ({_names(model, unbounded)}); give them bounds or {advice}"
        )


def _names(model: Model, indices: np.ndarray) -> str:
    shown = ", ".join(repr(model.vars[int(i)].name) for i in indices[:_SHOWN])
    return shown + (f" and {len(indices) - _SHOWN} more" if len(indices) > _SHOWN else "")


def _multiplier(coeffs: list[float], what: str) -> int:
    """The least integer that makes every coefficient integral when read as its shortest decimal."""
    multiplier = 1
    for coeff in coeffs:
        multiplier = math.lcm(multiplier, Fraction(repr(coeff)).denominator)
    if multiplier > _MAX_MULTIPLIER or max(abs(c) for c in coeffs) * multiplier > _EXACT:
        raise PluginError(
            f"cp-sat needs integer coefficients; {what} cannot be scaled exactly to integers "
            f"(coefficients {coeffs[:_SHOWN]}...); use {option('solver', 'gscip')}"
        )
    return multiplier


def _scaled_bound(value: float, multiplier: int, up: bool) -> int:
    """``value * multiplier`` rounded up (``up``) or down, exactly; infinities map to int64 limits."""
    if math.isinf(value):
        return _INT_MIN if value < 0 else _INT_MAX
    exact = Fraction(repr(value)) * multiplier if multiplier != 1 else Fraction(value)
    rounded = math.ceil(exact) if up else math.floor(exact)
    return min(max(rounded, _INT_MIN), _INT_MAX)


class _CpSatSession:
    def __init__(self, model: Model, form: MatrixForm):
        self.model_name = model.name
        self.cp = cp_model.CpModel()
        proto = self.cp.proto
        self.infeasible_reason = ""
        self.solver: cp_model.CpSolver | None = None  # the one solving, for interrupt()
        lb = np.ceil(form.lb).astype(np.int64).tolist()
        ub = np.floor(form.ub).astype(np.int64).tolist()
        for low, high in zip(lb, ub, strict=True):
            if low > high:
                self.infeasible_reason = "an integer variable has no integer value within its bounds"
                low, high = high, high
            proto.variables.add().domain.extend([low, high])
        starts, cols, coeffs = form.starts.tolist(), form.cols.tolist(), form.coeffs.tolist()
        integral_rows = _integral_rows(form)
        row_lo, row_hi = form.row_lo.tolist(), form.row_hi.tolist()
        for row in range(form.num_rows):
            begin, end = starts[row], starts[row + 1]
            row_coeffs = coeffs[begin:end]
            if integral_rows[row]:
                multiplier = 1
            else:
                multiplier = _multiplier(row_coeffs, f"constraint {model.constraints[row].name!r}")
            self._add_linear(cols[begin:end], row_coeffs, multiplier, row_lo[row], row_hi[row])
        self.objective_multiplier = 1
        self.objective_sign = 1

    def _add_linear(self, cols: list[int], coeffs: list[float], multiplier: int, lo: float, hi: float) -> None:
        linear = self.cp.proto.constraints.add().linear
        linear.vars.extend(cols)
        linear.coeffs.extend([round(c * multiplier) for c in coeffs] if multiplier != 1 else [int(c) for c in coeffs])
        low, high = _scaled_bound(lo, multiplier, up=True), _scaled_bound(hi, multiplier, up=False)
        if low > high:
            self.infeasible_reason = "a constraint has no integer solution"
            low = high
        linear.domain.extend([low, high])

    def set_objective(self, terms: Terms, minimize: bool) -> None:
        self.cp.clear_objective()
        if not len(terms.index):
            return
        coeffs = terms.coeff.tolist()
        multiplier = _multiplier(coeffs, f"the objective of model {self.model_name!r}")
        sign = 1 if minimize else -1
        objective = self.cp.proto.objective
        objective.vars.extend(terms.index.tolist())
        objective.coeffs.extend([sign * round(c * multiplier) for c in coeffs])
        self.objective_multiplier, self.objective_sign = multiplier, sign

    def add_lock(self, terms: Terms, lo: float, hi: float) -> None:
        coeffs = terms.coeff.tolist()
        multiplier = _multiplier(coeffs, f"an objective of model {self.model_name!r}")
        self._add_linear(terms.index.tolist(), coeffs, multiplier, lo, hi)

    def hint(self, values: np.ndarray) -> None:
        self.cp.proto.clear_solution_hint()
        hint = self.cp.proto.solution_hint
        hint.vars.extend(range(len(values)))
        hint.values.extend(np.round(values).astype(np.int64).tolist())

    def interrupt(self) -> None:
        if self.solver is not None:
            self.solver.stop_search()

    def solve(self, options: SolveOptions) -> LevelResult:
        if self.infeasible_reason:
            return LevelResult(Status.INFEASIBLE, message=self.infeasible_reason)
        solver = self.solver = cp_model.CpSolver()
        parameters = solver.parameters
        if options.time_limit is not None:
            parameters.max_time_in_seconds = float(options.time_limit)
        if options.relative_gap is not None:
            parameters.relative_gap_limit = float(options.relative_gap)
        if options.threads is not None:
            parameters.num_workers = int(options.threads)
        parameters.log_search_progress = options.verbose
        parameters.catch_sigint_signal = False  # Ctrl-C is the caller's (interrupt() stops the search)
        status = solver.solve(self.cp)
        values = None
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = np.asarray(solver.response_proto.solution, dtype=np.float64)
        bound = None
        if self.cp.proto.has_objective() and values is not None:
            bound = self.objective_sign * solver.best_objective_bound / self.objective_multiplier
        if status == cp_model.OPTIMAL:
            return LevelResult(Status.OPTIMAL, values, bound)
        if status == cp_model.FEASIBLE:
            return LevelResult(Status.FEASIBLE, values, bound, message="time limit")
        if status == cp_model.INFEASIBLE:
            return LevelResult(Status.INFEASIBLE)
        if status == cp_model.UNKNOWN:
            return LevelResult(Status.NO_SOLUTION, message="time limit")
        return LevelResult(Status.ERROR, message=f"CP-SAT: {solver.status_name(status)} {self.cp.validate()}".strip())


def _integral_rows(form: MatrixForm) -> list[bool]:
    """Per row: are all its coefficients integers already (the fast path: no scaling)?"""
    fractional = form.coeffs != np.round(form.coeffs)
    bad_rows = np.zeros(form.num_rows, dtype=bool)
    bad_rows[form.row_ids[fractional]] = True
    return (~bad_rows).tolist()
