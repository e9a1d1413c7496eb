"""SCIP through OR-Tools MathOpt (``SolverType.GSCIP``); licence-free, the default solver.

The model goes to MathOpt as a ``ModelProto`` filled from the arrays of the
:class:`~stream_solvers.matrix.MatrixForm` (no per-variable Python objects), and is solved with the
proto-level entry point that ``mathopt.solve`` itself uses. SCIP runs single-threaded, so
``SolveOptions.threads`` is ignored.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
import tempfile
from collections.abc import Iterator

import numpy as np
from ortools.math_opt import model_parameters_pb2, model_pb2, result_pb2, solution_pb2, sparse_containers_pb2
from ortools.math_opt.core.python import solver as core_solver
from ortools.math_opt.python import mathopt
from ortools.math_opt.python.init_arguments import StreamableSolverInitArguments
from ortools.util.python.pybind_solve_interrupter import PySolveInterrupter

from stream_core.ir.lp import Model, SolveOptions, Status
from stream_solvers.driver import Backend, LevelResult
from stream_solvers.matrix import MatrixForm, Terms

_Reason = result_pb2.TerminationReasonProto
_FEASIBLE = solution_pb2.SolutionStatusProto.Value("SOLUTION_STATUS_FEASIBLE")


class GscipSolver(Backend):
    name = "gscip"
    solver_type = mathopt.SolverType.GSCIP

    def open(self, model: Model, form: MatrixForm) -> _MathOptSession:
        return _MathOptSession(model, form, self.solver_type)


class _MathOptSession:
    def __init__(self, model: Model, form: MatrixForm, solver_type: mathopt.SolverType):
        self.solver_type = solver_type
        self.num_vars = form.num_vars
        self.hint_values: np.ndarray | None = None
        proto = model_pb2.ModelProto(name=model.name)
        variables = proto.variables
        variables.ids.extend(np.arange(form.num_vars, dtype=np.int64))
        variables.lower_bounds.extend(form.lb)
        variables.upper_bounds.extend(form.ub)
        variables.integers.extend(form.integral.tolist())
        rows = proto.linear_constraints
        rows.ids.extend(np.arange(form.num_rows, dtype=np.int64))
        rows.lower_bounds.extend(form.row_lo)
        rows.upper_bounds.extend(form.row_hi)
        matrix = proto.linear_constraint_matrix
        matrix.row_ids.extend(form.row_ids)
        matrix.column_ids.extend(form.cols)
        matrix.coefficients.extend(form.coeffs)
        self.proto = proto
        self.next_row = form.num_rows
        self.interrupter = PySolveInterrupter()

    def set_objective(self, terms: Terms, minimize: bool) -> None:
        objective = self.proto.objective
        objective.maximize = not minimize
        objective.linear_coefficients.Clear()
        objective.linear_coefficients.ids.extend(terms.index)
        objective.linear_coefficients.values.extend(terms.coeff)

    def add_lock(self, terms: Terms, lo: float, hi: float) -> None:
        rows = self.proto.linear_constraints
        rows.ids.append(self.next_row)
        rows.lower_bounds.append(lo)
        rows.upper_bounds.append(hi)
        matrix = self.proto.linear_constraint_matrix
        matrix.row_ids.extend([self.next_row] * len(terms.index))
        matrix.column_ids.extend(terms.index)
        matrix.coefficients.extend(terms.coeff)
        self.next_row += 1

    def hint(self, values: np.ndarray) -> None:
        self.hint_values = values

    def _model_parameters(self) -> model_parameters_pb2.ModelSolveParametersProto:
        parameters = model_parameters_pb2.ModelSolveParametersProto()
        if self.hint_values is not None:
            hint = sparse_containers_pb2.SparseDoubleVectorProto()
            hint.ids.extend(np.arange(self.num_vars, dtype=np.int64))
            hint.values.extend(self.hint_values)
            parameters.solution_hints.add().variable_values.CopyFrom(hint)
        return parameters

    def interrupt(self) -> None:
        self.interrupter.interrupt()

    def solve(self, options: SolveOptions) -> LevelResult:
        parameters = mathopt.SolveParameters(
            time_limit=None if options.time_limit is None else datetime.timedelta(seconds=options.time_limit),
            relative_gap_tolerance=options.relative_gap,
            enable_output=options.verbose,
        )
        try:
            with _without_scip_interrupter_noise():
                result = core_solver.solve(
                    self.proto,
                    self.solver_type.value,
                    StreamableSolverInitArguments().to_proto(),
                    parameters.to_proto(),
                    self._model_parameters(),
                    None,
                    mathopt.CallbackRegistration().to_proto(),
                    None,
                    self.interrupter,
                )
        except Exception as exc:  # the library raises StatusNotOk and friends on invalid input
            return LevelResult(Status.ERROR, message=f"MathOpt: {exc}")
        return _level_result(result, self.num_vars)


#: What SCIP prints on every solve that has MathOpt's interrupter (the way Ctrl-C stops a solve): the
#: interrupter's event handler asks for events SCIP does not offer. Harmless, so not shown.
_INTERRUPTER_NOISE = ("gscip_event_handler.cc", "SCIPcatchEvent does not support variable or row change events")


@contextlib.contextmanager
def _without_scip_interrupter_noise() -> Iterator[None]:
    """Hold the process's stderr (file descriptor 2, where SCIP writes) during a solve and pass on
    every line but :data:`_INTERRUPTER_NOISE`."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            for line in held.read().decode(errors="replace").splitlines(keepends=True):
                if not any(noise in line for noise in _INTERRUPTER_NOISE):
                    sys.stderr.write(line)
            sys.stderr.flush()


def _level_result(result: result_pb2.SolveResultProto, num_vars: int) -> LevelResult:
    termination = result.termination
    reason = termination.reason
    values = None
    for solution in result.solutions:
        primal = solution.primal_solution
        if solution.HasField("primal_solution") and primal.feasibility_status == _FEASIBLE:
            values = np.zeros(num_vars)
            values[np.asarray(primal.variable_values.ids, dtype=np.int64)] = np.asarray(primal.variable_values.values)
            break
    bound = termination.objective_bounds.dual_bound if termination.HasField("objective_bounds") else None
    detail = termination.detail or _Reason.Name(reason).removeprefix("TERMINATION_REASON_").lower()
    if reason == _Reason.Value("TERMINATION_REASON_OPTIMAL"):
        return LevelResult(Status.OPTIMAL, values, bound)
    if reason == _Reason.Value("TERMINATION_REASON_INFEASIBLE"):
        return LevelResult(Status.INFEASIBLE)
    if reason == _Reason.Value("TERMINATION_REASON_UNBOUNDED"):
        return LevelResult(Status.UNBOUNDED)
    if reason == _Reason.Value("TERMINATION_REASON_INFEASIBLE_OR_UNBOUNDED"):
        return LevelResult(Status.INFEASIBLE, undecided=True)
    if reason in (_Reason.Value("TERMINATION_REASON_FEASIBLE"), _Reason.Value("TERMINATION_REASON_NO_SOLUTION_FOUND")):
        limit = result_pb2.LimitProto.Name(termination.limit).removeprefix("LIMIT_").lower()
        status = Status.FEASIBLE if values is not None else Status.NO_SOLUTION
        return LevelResult(status, values, bound, message=f"{limit} limit")
    return LevelResult(Status.ERROR, message=f"SCIP: {detail}")
