"""Why a group's MILP has no solution: demand versus capacity per core, and the solver's conflicts.

For every registered capacity (memory per top memory, and any a constraint family adds), the smallest
demand any allocation reaches is found by minimising that demand with all capacity constraints
dropped; capacities below it are reported with the largest parts of the demand. The solver's
conflict search (``stream_solvers.conflicts``) adds the names of a minimal set of conflicting
constraint groups.
"""

from __future__ import annotations

from stream_core.ir.accelerator import Accelerator
from stream_core.ir.lp import Model, SolveOptions
from stream_tetra.api import Capacity


def capacity_report(
    model: Model, capacities: list[Capacity], solver, accelerator: Accelerator, time_limit: float
) -> list[str]:
    """One line per capacity that no allocation can meet."""
    capacity_names = {f"{c.family}:{c.name}[core {c.core}]" for c in capacities}
    relaxed = Model(f"{model.name}:relaxed")
    relaxed.vars = model.vars
    relaxed.constraints = [c for c in model.constraints if c.name not in capacity_names]
    lines = []
    for cap in capacities:
        if cap.demand.terms:
            relaxed.minimize(cap.demand, name="demand")
            solution = solver.solve(relaxed, SolveOptions(time_limit=time_limit))
            if not solution.ok:
                continue
            lowest = solution.value(cap.demand)
            values = solution.values
        else:
            lowest, values = cap.demand.constant, {}
        if lowest <= cap.capacity + 1e-6:
            continue
        core = accelerator.cores[cap.core]
        parts = sorted(((t.value(values), label) for label, t in cap.terms), key=lambda x: (-x[0], x[1]))
        shown = "; ".join(f"{label}: {value:.0f} {cap.unit}" for value, label in parts if value > 0)
        lines.append(
            f"core {cap.core} ({core.name}): {cap.name} needs at least {lowest:.0f} {cap.unit} "
            f"but holds {cap.capacity:.0f} {cap.unit}" + (f" -- {shown}" if shown else "")
        )
    return lines


def conflict_report(model: Model, solver, time_limit: float) -> list[str]:
    from stream_solvers.conflicts import explain_infeasibility

    groups = explain_infeasibility(model, solver, SolveOptions(time_limit=time_limit))
    return [f"conflicting constraints: {', '.join(groups)}"] if groups else []
