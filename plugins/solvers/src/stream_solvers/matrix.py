"""The array form of a :class:`~stream_core.ir.lp.Model` that every backend translates from.

Rows are stored in CSR order (row starts, column indices sorted within each row, coefficients)
with ``row_lo <= row . x <= row_hi`` bounds, so a backend can hand whole arrays to its library
instead of looping over Python expressions. Building it is one pass over the constraints plus a
sort of the non-zeros.
"""

from __future__ import annotations

import itertools
import math

import attrs
import numpy as np

from stream_core.ir.lp import LinExpr, Model, Sense


@attrs.frozen(eq=False)
class Terms:
    """A linear expression's non-zero terms as sorted ``(index, coefficient)`` arrays."""

    index: np.ndarray
    coeff: np.ndarray

    @classmethod
    def of(cls, expr: LinExpr) -> Terms:
        index = np.fromiter(expr.terms.keys(), dtype=np.int64, count=len(expr.terms))
        coeff = np.fromiter(expr.terms.values(), dtype=np.float64, count=len(expr.terms))
        if not np.all(np.isfinite(coeff)):
            raise ValueError(f"expression {expr!r} has a non-finite coefficient")
        keep = coeff != 0.0
        order = np.argsort(index[keep], kind="stable")
        return cls(index[keep][order], coeff[keep][order])

    def value(self, x: np.ndarray) -> float:
        return float(np.dot(self.coeff, x[self.index])) if len(self.index) else 0.0


@attrs.frozen(eq=False)
class MatrixForm:
    """Variables (bounds, integrality) and constraint rows of a model as NumPy arrays."""

    lb: np.ndarray
    ub: np.ndarray
    integral: np.ndarray  # bool per variable
    starts: np.ndarray  # row r's non-zeros are [starts[r], starts[r + 1])
    cols: np.ndarray
    coeffs: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray

    @property
    def num_vars(self) -> int:
        return len(self.lb)

    @property
    def num_rows(self) -> int:
        return len(self.row_lo)

    @property
    def nnz(self) -> int:
        return len(self.cols)

    @property
    def row_ids(self) -> np.ndarray:
        """The row of every non-zero (same order as ``cols``)."""
        return np.repeat(np.arange(self.num_rows, dtype=np.int64), np.diff(self.starts))

    @classmethod
    def of(cls, model: Model) -> MatrixForm:
        """Translate ``model``; raises ``ValueError`` naming a variable or constraint with NaN data."""
        variables = model.vars
        lb = np.fromiter((v.lb for v in variables), dtype=np.float64, count=len(variables))
        ub = np.fromiter((v.ub for v in variables), dtype=np.float64, count=len(variables))
        bad = np.flatnonzero(np.isnan(lb) | np.isnan(ub) | (lb == math.inf) | (ub == -math.inf))
        if len(bad):
            var = variables[int(bad[0])]
            raise ValueError(f"variable {var.name!r} has invalid bounds [{var.lb}, {var.ub}]")
        integral = np.fromiter((v.is_integral for v in variables), dtype=bool, count=len(variables))

        constraints = model.constraints
        counts = np.fromiter((len(c.expr.terms) for c in constraints), dtype=np.int64, count=len(constraints))
        nnz = int(counts.sum())
        cols = np.fromiter(itertools.chain.from_iterable(c.expr.terms for c in constraints), np.int64, count=nnz)
        coeffs = np.fromiter(
            itertools.chain.from_iterable(c.expr.terms.values() for c in constraints), np.float64, count=nnz
        )
        rhs = np.fromiter((c.rhs for c in constraints), dtype=np.float64, count=len(constraints))
        sense = np.fromiter((_SENSE_CODE[c.sense] for c in constraints), dtype=np.int8, count=len(constraints))
        rows = np.repeat(np.arange(len(constraints), dtype=np.int64), counts)
        bad_rows = np.unique(rows[~np.isfinite(coeffs)]).tolist() + np.flatnonzero(np.isnan(rhs)).tolist()
        if bad_rows:
            raise ValueError(f"constraint {constraints[min(bad_rows)].name!r} has a NaN or infinite coefficient/rhs")

        keep = coeffs != 0.0
        rows, cols, coeffs = rows[keep], cols[keep], coeffs[keep]
        order = np.lexsort((cols, rows))
        rows, cols, coeffs = rows[order], cols[order], coeffs[order]
        starts = np.zeros(len(constraints) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(constraints)), out=starts[1:])

        row_lo = np.where(sense == _SENSE_CODE[Sense.LE], -math.inf, rhs)
        row_hi = np.where(sense == _SENSE_CODE[Sense.GE], math.inf, rhs)
        return cls(lb, ub, integral, starts, cols, coeffs, row_lo, row_hi)


_SENSE_CODE = {Sense.LE: 0, Sense.GE: 1, Sense.EQ: 2}
