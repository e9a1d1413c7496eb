"""Solve times per backend on generated LPs and MILPs (prints figures; asserts nothing).

    python plugins/solvers/bench/bench_solvers.py [--time-limit S] [--backends gscip,highs,...]

For every model and backend it prints the time to build the model with the Python API (once per
model), to turn it into arrays (``MatrixForm``), to load the arrays into the library, and the whole
``solve`` call (which includes the last two), with the status and the objective.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable

import numpy as np
from stream_solvers.matrix import MatrixForm

from stream_core.errors import PluginError
from stream_core.ir.lp import Model, SolveOptions

BACKENDS = {
    "gscip": ("stream_solvers.gscip", "GscipSolver"),
    "highs": ("stream_solvers.highs", "HighsSolver"),
    "gurobi": ("stream_solvers.gurobi", "GurobiSolver"),
    "cp-sat": ("stream_solvers.cpsat", "CpSatSolver"),
}


def transport(sources: int, sinks: int, seed: int = 0) -> Model:
    """LP: ship from sources to sinks at least cost (sources * sinks variables)."""
    rng = np.random.default_rng(seed)
    supply = rng.integers(50, 100, sources)
    demand = rng.integers(10, int(supply.sum() * 0.9 / sinks) + 11, sinks)
    cost = rng.integers(1, 100, (sources, sinks))
    m = Model(f"transport {sources}x{sinks}")
    flow = [[m.add_var(f"f[{i},{j}]") for j in range(sinks)] for i in range(sources)]
    for i in range(sources):
        m.add(Model.sum(flow[i]) <= int(supply[i]), name=f"supply#{i}")
    for j in range(sinks):
        m.add(Model.sum(flow[i][j] for i in range(sources)) >= int(demand[j]), name=f"demand#{j}")
    m.minimize(Model.sum(int(cost[i, j]) * flow[i][j] for i in range(sources) for j in range(sinks)))
    return m


def production(periods: int, products: int = 2, seed: int = 0) -> Model:
    """LP: produce and stock products over ``periods`` to meet demand at least cost, under a shared
    production capacity and a shared storage limit (4 * periods rows for 2 products)."""
    rng = np.random.default_rng(seed)
    demand = rng.integers(0, 40, (products, periods))
    capacity = rng.integers(80, 100, periods)  # >= the largest demand of a period: always feasible
    m = Model(f"production {products}x{periods}")
    make = [[m.add_var(f"make[{p},{t}]") for t in range(periods)] for p in range(products)]
    stock = [[m.add_var(f"stock[{p},{t}]") for t in range(periods)] for p in range(products)]
    for p in range(products):
        for t in range(periods):
            before = stock[p][t - 1] if t else 0
            m.add(before + make[p][t] - stock[p][t] == int(demand[p, t]), name=f"balance[{p}]#{t}")
    for t in range(periods):
        m.add(Model.sum(make[p][t] for p in range(products)) <= int(capacity[t]), name=f"capacity#{t}")
        m.add(Model.sum(stock[p][t] for p in range(products)) <= 100, name=f"storage#{t}")
    cost = rng.uniform(1, 3, (products, periods))
    m.minimize(
        Model.sum(float(cost[p, t]) * make[p][t] + 0.1 * stock[p][t] for p in range(products) for t in range(periods))
    )
    return m


def knapsack(items: int, seed: int = 0) -> Model:
    """MILP: one 0/1 knapsack with correlated profits."""
    rng = np.random.default_rng(seed)
    weight = rng.integers(10, 1000, items)
    profit = weight + rng.integers(1, 50, items)
    m = Model(f"knapsack {items}")
    x = [m.add_binary(f"x{i}") for i in range(items)]
    m.add(Model.sum(int(w) * v for w, v in zip(weight, x, strict=True)) <= int(weight.sum() // 3), name="capacity")
    m.maximize(Model.sum(int(p) * v for p, v in zip(profit, x, strict=True)))
    return m


def assignment(n: int, seed: int = 0) -> Model:
    """MILP: n workers to n jobs, one each (n * n binaries)."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 100, (n, n))
    m = Model(f"assignment {n}x{n}")
    x = [[m.add_binary(f"x[{i},{j}]") for j in range(n)] for i in range(n)]
    for i in range(n):
        m.add(Model.sum(x[i]) == 1, name=f"worker#{i}")
        m.add(Model.sum(x[j][i] for j in range(n)) == 1, name=f"job#{i}")
    m.minimize(Model.sum(int(cost[i, j]) * x[i][j] for i in range(n) for j in range(n)))
    return m


def generalized_assignment(agents: int, jobs: int, seed: int = 0) -> Model:
    """MILP: jobs to capacity-limited agents (agents * jobs binaries); harder than plain assignment."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(10, 50, (agents, jobs))
    size = rng.integers(5, 25, (agents, jobs))
    capacity = (0.8 * size.sum(axis=1) / agents).astype(int)
    m = Model(f"generalized assignment {agents}x{jobs}")
    x = [[m.add_binary(f"x[{a},{j}]") for j in range(jobs)] for a in range(agents)]
    for j in range(jobs):
        m.add(Model.sum(x[a][j] for a in range(agents)) == 1, name=f"job#{j}")
    for a in range(agents):
        m.add(Model.sum(int(size[a, j]) * x[a][j] for j in range(jobs)) <= int(capacity[a]), name=f"capacity#{a}")
    m.minimize(Model.sum(int(cost[a, j]) * x[a][j] for a in range(agents) for j in range(jobs)))
    return m


MODELS: list[tuple[str, Callable[[], Model]]] = [
    ("transport", lambda: transport(100, 100)),
    ("production", lambda: production(5000)),
    ("knapsack", lambda: knapsack(1000)),
    ("assignment", lambda: assignment(60)),
    ("gen. assignment", lambda: generalized_assignment(10, 60)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=20.0, help="seconds per solve (default 20)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated backend names")
    args = parser.parse_args()
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    options = SolveOptions(time_limit=args.time_limit)
    header = f"{'model':<16} {'vars':>6} {'rows':>6} {'nnz':>7} {'backend':<7} {'build':>7} {'arrays':>7} "
    print(header + f"{'load':>7} {'solve':>8}  status      objective")
    for label, make in MODELS:
        start = time.perf_counter()
        model = make()
        build = time.perf_counter() - start
        start = time.perf_counter()
        form = MatrixForm.of(model)
        arrays = time.perf_counter() - start
        for name in names:
            module, attribute = BACKENDS[name]
            prefix = f"{label:<16} {model.num_vars:>6} {model.num_constraints:>6} {form.nnz:>7} {name:<7} "
            try:
                solver = getattr(importlib.import_module(module), attribute)()
                start = time.perf_counter()
                solver.open(model, form)
                load = time.perf_counter() - start
                solution = solver.solve(model, options)
            except PluginError as exc:
                print(prefix + f"skipped: {str(exc)[:90]}")
                continue
            objective = f"{solution.objective_values[0]:.6g}" if solution.objective_values else "-"
            gap = f" (gap {solution.gap:.2%})" if solution.gap else ""
            print(
                prefix + f"{build:7.3f} {arrays:7.3f} {load:7.3f} {solution.seconds:8.3f}  "
                f"{solution.status.value:<11} {objective}{gap}"
            )


if __name__ == "__main__":
    main()
