"""HiGHS through ``highspy`` (LP and MILP)."""

from __future__ import annotations

import math

import numpy as np

from stream_core.errors import PluginError, option

try:
    import highspy
except ImportError as exc:  # highspy >= 1.15 and OR-Tools bundle clashing libhighs.so.1 (google/or-tools#5246)
    raise PluginError(
        f"highspy cannot be imported ({exc}); pip install 'highspy>=1.14,<1.15' (1.15 clashes with the HiGHS "
        f"library inside OR-Tools), or use {option('solver', 'gscip')}"
    ) from exc

from stream_core.ir.lp import Model, SolveOptions, Status
from stream_solvers.driver import Backend, LevelResult
from stream_solvers.matrix import MatrixForm, Terms

_Model = highspy.HighsModelStatus
_LIMITS = {
    _Model.kTimeLimit,
    _Model.kIterationLimit,
    _Model.kSolutionLimit,
    _Model.kInterrupt,
    _Model.kHighsInterrupt,
    _Model.kObjectiveBound,
    _Model.kObjectiveTarget,
    _Model.kMemoryLimit,
}
_FEASIBLE = 2  # HighsSolutionStatus kSolutionStatusFeasible
#: HiGHS runs on one process-wide thread scheduler, fixed when first used; its size if we chose one.
_scheduler = {"threads": 0}


class HighsSolver(Backend):
    name = "highs"

    def open(self, model: Model, form: MatrixForm) -> _HighsSession:
        return _HighsSession(form)


class _HighsSession:
    def __init__(self, form: MatrixForm):
        self.form = form
        self.is_mip = bool(form.integral.any())
        self.objective_index = np.zeros(0, dtype=np.int32)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.HandleUserInterrupt = True  # cancelSolve() stops a running solve
        h.addVars(form.num_vars, form.lb, form.ub)
        if form.num_rows:
            h.addRows(
                form.num_rows,
                form.row_lo,
                form.row_hi,
                form.nnz,
                form.starts[:-1].astype(np.int32),
                form.cols.astype(np.int32),
                form.coeffs,
            )
        if self.is_mip:
            index = np.flatnonzero(form.integral).astype(np.int32)
            kinds = np.full(len(index), highspy.HighsVarType.kInteger)
            h.changeColsIntegrality(len(index), index, kinds)
        self.highs = h

    def set_objective(self, terms: Terms, minimize: bool) -> None:
        h = self.highs
        if len(self.objective_index):
            h.changeColsCost(len(self.objective_index), self.objective_index, np.zeros(len(self.objective_index)))
        self.objective_index = terms.index.astype(np.int32)
        if len(terms.index):
            h.changeColsCost(len(terms.index), self.objective_index, terms.coeff)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize if minimize else highspy.ObjSense.kMaximize)

    def add_lock(self, terms: Terms, lo: float, hi: float) -> None:
        self.highs.addRow(lo, hi, len(terms.index), terms.index.astype(np.int32), terms.coeff)

    def hint(self, values: np.ndarray) -> None:
        if self.is_mip:
            solution = highspy.HighsSolution()
            solution.col_value = values.tolist()
            solution.value_valid = True
            self.highs.setSolution(solution)

    def interrupt(self) -> None:
        self.highs.cancelSolve()

    def solve(self, options: SolveOptions) -> LevelResult:
        h = self.highs
        h.setOptionValue("output_flag", options.verbose)
        h.setOptionValue("time_limit", math.inf if options.time_limit is None else float(options.time_limit))
        if options.relative_gap is not None:
            h.setOptionValue("mip_rel_gap", float(options.relative_gap))
        threads = int(options.threads or 0)  # 0: HiGHS's default (half the cores), or the running scheduler
        if threads and threads != _scheduler["threads"]:
            highspy.Highs.resetGlobalScheduler(True)
            _scheduler["threads"] = threads
        h.setOptionValue("threads", threads)
        run = h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        has_solution = info.primal_solution_status == _FEASIBLE
        values = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_solution else None
        bound = info.mip_dual_bound if self.is_mip and math.isfinite(info.mip_dual_bound) else None
        if status in (_Model.kOptimal, _Model.kModelEmpty):
            return LevelResult(Status.OPTIMAL, values, bound=bound)
        if status == _Model.kInfeasible:
            return LevelResult(Status.INFEASIBLE)
        if status == _Model.kUnbounded:
            return LevelResult(Status.UNBOUNDED)
        if status == _Model.kUnboundedOrInfeasible:
            return LevelResult(Status.INFEASIBLE, undecided=True)
        text = h.modelStatusToString(status)
        if status in _LIMITS:
            return LevelResult(Status.FEASIBLE if has_solution else Status.NO_SOLUTION, values, bound, message=text)
        return LevelResult(Status.ERROR, message=f"HiGHS: {text} (run status {run})")
