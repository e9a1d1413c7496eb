"""Fixtures: every solver backend that can run here (gurobi only when gurobipy is importable)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from stream_core.ir.lp import Model


def _gurobipy_importable() -> bool:
    try:
        import gurobipy  # noqa: F401
    except ImportError:
        return False
    return True


BACKENDS = ["gscip", "highs", "cp-sat"] + (["gurobi"] if _gurobipy_importable() else [])
CLASSES = {
    "gscip": ("stream_solvers.gscip", "GscipSolver"),
    "highs": ("stream_solvers.highs", "HighsSolver"),
    "cp-sat": ("stream_solvers.cpsat", "CpSatSolver"),
    "gurobi": ("stream_solvers.gurobi", "GurobiSolver"),
}


def _make_solver(name: str):
    module, attribute = CLASSES[name]
    return getattr(importlib.import_module(module), attribute)()


@pytest.fixture
def make_solver():
    """``make_solver(name)``: a new solver object of one backend."""
    return _make_solver


@pytest.fixture(params=BACKENDS)
def solver(request):
    """Each backend in turn."""
    return _make_solver(request.param)


@pytest.fixture(params=[b for b in BACKENDS if b != "cp-sat"])
def lp_solver(request):
    """Each backend that accepts continuous variables."""
    return _make_solver(request.param)


def knapsack(n: int, m: int) -> Model:
    """A seeded 0/1 knapsack of ``n`` items under ``m`` capacity rows (each half of its row's weight)."""
    rng = np.random.default_rng(1)
    weights = rng.integers(1, 1000, (m, n))
    profits = weights.sum(axis=0) // m + rng.integers(1, 100, n)
    model = Model(f"knapsack {n}x{m}")
    x = [model.add_binary(f"x{i}") for i in range(n)]
    for k in range(m):
        row = Model.sum(int(weights[k, i]) * x[i] for i in range(n))
        model.add(row <= int(weights[k].sum() // 2), name=f"capacity#{k}")
    model.maximize(Model.sum(int(profits[i]) * x[i] for i in range(n)))
    return model


@pytest.fixture
def hard_knapsack() -> Model:
    """A 30-item, 5-constraint 0/1 knapsack: 0.1-1.3 s to prove optimal on 2 cores (optimum 8972)."""
    return knapsack(30, 5)


@pytest.fixture(scope="module")
def harder_knapsack() -> Model:
    """60 items, 10 constraints: none of our backends proves it within 8 s on 2 cores (measured)."""
    return knapsack(60, 10)
