"""The model API and its array form (no solver involved)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from stream_solvers.matrix import MatrixForm, Terms

from stream_core.ir.lp import LinExpr, Model, Objective, Sense


def test_expressions_collect_terms_and_constants():
    m = Model()
    x, y = m.add_var("x"), m.add_var("y")
    c = m.add(2 * x + 3 - y <= x + 7)
    assert c.expr.terms == {0: 1.0, 1: -1.0}
    assert c.sense is Sense.LE and c.rhs == 4.0
    assert c.name == "c0"
    assert (x - y).value({0: 5.0, 1: 2.0}) == 3.0


def test_numpy_scalars_are_numbers():
    m = Model()
    x = m.add_var("x")
    expr = np.int64(3) * x + np.float64(0.5)
    assert expr.terms == {0: 3.0} and expr.constant == 0.5


def test_objective_accepts_a_variable():
    m = Model()
    x = m.add_var("x")
    assert Objective(x).expr.terms == {0: 1.0}
    assert Objective(4).expr.constant == 4.0


def test_binary_bounds_and_bad_bounds():
    m = Model()
    b = m.add_var("b", lb=-3, ub=7, binary=True)
    assert (b.lb, b.ub, b.is_integral) == (0.0, 1.0, True)
    with pytest.raises(ValueError, match="lower bound"):
        m.add_var("z", lb=2, ub=1)


def test_constraint_of_another_model_is_rejected():
    a, b = Model("a"), Model("b")
    a.add_var("x")
    y0, y1 = b.add_var("y0"), b.add_var("y1")
    with pytest.raises(ValueError, match="another model"):
        a.add(y0 + y1 <= 1)


def test_matrix_form_rows_sorted_zero_free_with_bounds():
    m = Model()
    x, y, z = (m.add_var(n) for n in "xyz")
    m.add(3 * z + 0 * y + x <= 5, name="le")
    m.add(y >= -2, name="ge")
    m.add(x + z == 1, name="eq")
    form = MatrixForm.of(m)
    assert form.starts.tolist() == [0, 2, 3, 5]
    assert form.cols.tolist() == [0, 2, 1, 0, 2]
    assert form.coeffs.tolist() == [1.0, 3.0, 1.0, 1.0, 1.0]
    assert form.row_lo.tolist() == [-math.inf, -2.0, 1.0]
    assert form.row_hi.tolist() == [5.0, math.inf, 1.0]
    assert form.row_ids.tolist() == [0, 0, 1, 2, 2]


def test_matrix_form_rejects_nan():
    m = Model()
    x = m.add_var("x")
    m.add(x * float("nan") <= 1, name="broken")
    with pytest.raises(ValueError, match="broken"):
        MatrixForm.of(m)


def test_terms_value():
    terms = Terms.of(LinExpr({2: 2.0, 0: -1.0, 1: 0.0}, constant=9))
    assert terms.index.tolist() == [0, 2]
    assert terms.value(np.array([1.0, 100.0, 3.0])) == 5.0
