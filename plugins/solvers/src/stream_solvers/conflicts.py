"""Which constraint groups make a model infeasible, found with any solver.

Constraints are grouped by name (:func:`constraint_group`): the group is the text before the first
``#`` (the whole name when there is none), so ``memory[core 3]#slot 2`` belongs to group
``memory[core 3]``, and constraints sharing a name form one group. Pass ``group_of`` to group
differently (e.g. ``lambda name: name.split("[")[0]`` for one group per constraint family).

The search only uses the ``Solver`` protocol, so it works with every backend:

1. *Elastic filter*: every group not yet suspected gets one non-negative slack that relaxes all of
   its rows; minimising the total slack tells which groups must be relaxed. Those groups are made
   hard again and the step repeats until the elastic model is infeasible: the hard groups (plus the
   variable bounds) are then infeasible on their own.
2. *Deletion filter*: each hard group is dropped in turn; if the rest stays infeasible it is left
   out for good. What remains is a minimal conflicting set of groups (minimal as groups: removing
   any one of them makes the others feasible).

Each step is one solve with the caller's options (time limit per solve). A step that cannot decide
(time limit without an answer) keeps the group, so the answer is still a conflicting set, perhaps
not a minimal one; if the elastic filter itself cannot decide, nothing is reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import attrs

from stream_core.ir.lp import Constraint, LinExpr, Model, Sense, SolveOptions, Solver, Status, Var

#: Reported when the variable bounds and integrality alone admit no solution.
BOUNDS_GROUP = "(variable bounds and integrality)"
_SLACK_TOLERANCE = 1e-6


def constraint_group(name: str) -> str:
    """The report group of a constraint name: the text before the first ``#``, else the name."""
    return name.split("#", 1)[0].strip() or name


def group_constraints(model: Model, group_of: Callable[[str], str] = constraint_group) -> dict[str, list[int]]:
    """Constraint indices per group, groups in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for index, constraint in enumerate(model.constraints):
        groups.setdefault(group_of(constraint.name), []).append(index)
    return groups


def explain_infeasibility(
    model: Model,
    solver: Solver,
    options: SolveOptions | None = None,
    *,
    group_of: Callable[[str], str] = constraint_group,
) -> tuple[str, ...]:
    """Names of a minimal set of constraint groups that conflict (empty if none could be found)."""
    options = attrs.evolve(options or SolveOptions(), explain_conflicts=False)
    groups = group_constraints(model, group_of)
    hard = _elastic_filter(model, groups, solver, options)
    if hard is None:
        return ()
    if not hard:
        return (BOUNDS_GROUP,)
    return tuple(_deletion_filter(model, groups, [g for g in groups if g in hard], solver, options))


def conflict_report(
    model: Model, conflicts: Iterable[str], group_of: Callable[[str], str] = constraint_group
) -> list[str]:
    """One line per conflicting group with its number of constraints (for error messages)."""
    sizes = {name: len(members) for name, members in group_constraints(model, group_of).items()}
    lines = []
    for name in conflicts:
        count = sizes.get(name)
        lines.append(name if count is None else f"{name} ({count} constraint{'s' if count != 1 else ''})")
    return lines


def _elastic_filter(
    model: Model, groups: dict[str, list[int]], solver: Solver, options: SolveOptions
) -> set[str] | None:
    """Groups that are infeasible together (with the bounds); ``None`` when undecided."""
    hard: set[str] = set()
    integral_slacks = all(v.is_integral for v in model.vars)
    while True:
        elastic, slacks = _elastic_model(model, groups, hard, integral_slacks)
        solution = solver.solve(elastic, options)
        if solution.status is Status.INFEASIBLE:
            return hard
        if not solution.ok:
            return None
        relaxed = {g for g, slack in slacks.items() if solution.value(slack) > _SLACK_TOLERANCE}
        if not relaxed:  # feasible without relaxing anything: no conflict to report
            return None
        hard |= relaxed


def _deletion_filter(
    model: Model, groups: dict[str, list[int]], candidates: list[str], solver: Solver, options: SolveOptions
) -> list[str]:
    if len(candidates) == 1:
        return candidates
    for name in list(candidates):
        trial = [g for g in candidates if g != name]
        solution = solver.solve(_subset_model(model, groups, trial), options)
        if solution.status is Status.INFEASIBLE:
            candidates = trial
    return candidates


def _with_vars(model: Model, suffix: str) -> Model:
    out = Model(f"{model.name} ({suffix})")
    out.vars = list(model.vars)  # Var objects are immutable and only carry their index
    return out


def _subset_model(model: Model, groups: dict[str, list[int]], keep: list[str]) -> Model:
    out = _with_vars(model, "conflict test")
    for name in keep:
        for index in groups[name]:
            out.add(model.constraints[index])
    return out


def _elastic_model(
    model: Model, groups: dict[str, list[int]], hard: set[str], integral_slacks: bool
) -> tuple[Model, dict[str, Var]]:
    out = _with_vars(model, "elastic")
    slacks: dict[str, Var] = {}
    for name, members in groups.items():
        rows = [model.constraints[i] for i in members]
        if name in hard:
            for row in rows:
                out.add(row)
            continue
        violation = max(_max_violation(model, row) for row in rows)
        upper = math.ceil(max(violation, 0.0)) + 1.0 if math.isfinite(violation) else math.inf
        slack = out.add_var(f"slack[{name}]", 0.0, upper, integer=integral_slacks)
        slacks[name] = slack
        for row in rows:
            for sense, sign in _ELASTIC_SIDES[row.sense]:
                out.add(Constraint(LinExpr({**row.expr.terms, slack.index: sign}), sense, row.rhs), name=row.name)
    out.minimize(Model.sum(slacks.values()))
    return out, slacks


#: How a slack ``s`` relaxes a row: ``<=`` rows get ``- s``, ``>=`` rows ``+ s``, equalities both.
_ELASTIC_SIDES = {
    Sense.LE: ((Sense.LE, -1.0),),
    Sense.GE: ((Sense.GE, 1.0),),
    Sense.EQ: ((Sense.LE, -1.0), (Sense.GE, 1.0)),
}


def _max_violation(model: Model, row: Constraint) -> float:
    """The largest amount by which ``row`` can be violated within the variable bounds."""
    variables = model.vars
    low = high = 0.0
    for index, coeff in row.expr.terms.items():
        var = variables[index]
        a, b = coeff * var.lb, coeff * var.ub
        low += min(a, b) if not (math.isnan(a) or math.isnan(b)) else -math.inf
        high += max(a, b) if not (math.isnan(a) or math.isnan(b)) else math.inf
    above, below = high - row.rhs, row.rhs - low
    if row.sense is Sense.LE:
        return above
    if row.sense is Sense.GE:
        return below
    return max(above, below)
