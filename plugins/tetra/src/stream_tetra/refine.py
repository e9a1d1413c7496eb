"""Transfer modes re-chosen for the realised schedule, one activity at a time.

The MILP's latency is the uniform schedule's; when the list schedule is the shorter one, a mode that
the uniform model penalises (a reuse level whose transfers come in bursts, say) may realise a
shorter schedule and move fewer bits. Hill climbing from the solver's choices: for each transfer
with several modes (in activity order), try each other mode that keeps the chosen cores (a shared
delivery's served activity follows it: :meth:`SteadyState.coupled`); keep it
when it scores lower and every constraint-family row over mode variables still holds (memory
capacity, plugins' limits). The score: realised latency, off-chip traffic, buffered tiles, where a
latency within ``cap(shortest)`` of the shortest realised so far counts as equally fast (then
traffic, tiles and latency decide; ``cap`` is ``tetra.latency_tolerance``'s). A trial is not realised
when a floor on its latency (the busy cycles of its busiest resource) already rules it out.
Activities in a family row that involves other variables are left as the solver chose. Passes
repeat until one changes nothing.

Work is capped in firings scheduled (``tetra.refine_firings``), not seconds, so results do not
depend on the machine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from stream_core.ir.lp import Constraint
from stream_tetra.steady import Resource, SteadyState

Score = tuple[int, int, int, int]


@attrs.frozen
class Refined:
    choices: dict[str, int]
    moves: int
    evaluated: int


def refine(
    steady: SteadyState,
    choices: dict[str, int],
    mode_vars: dict[str, list[int]],
    rows: Sequence[Constraint],
    realised: Callable[[dict[str, int]], int],
    traffic: Callable[[str, int], int],
    budget: int,
    floor: Callable[[dict[str, int]], int] | None = None,
    cap: Callable[[int], int] = lambda shortest: shortest,
) -> Refined:
    """Better choices (or the same) and how many moves were kept; ``realised`` gives the latency
    of a choice set, ``traffic`` the off-chip bits of one activity's mode, ``budget`` the firings
    that may be scheduled in all, ``floor`` (optional) a latency ``realised`` never goes below
    (:func:`busiest` for realised schedules): a trial it rules out is not realised, but counts;
    ``cap`` the longest latency as good as a given shortest one (default: only itself)."""
    firings = sum(len(a.modes[choices[a.key]].firings) for a in steady.activities) or 1
    evaluations = budget // firings
    checkable, locked = _rows(rows, mode_vars)
    candidates = [
        a for a in steady.activities if a.is_transfer and len(a.modes) > 1 and not (set(mode_vars[a.key]) & locked)
    ]
    if not candidates or evaluations < 1:
        return Refined(dict(choices), 0, 0)

    tiles: dict[tuple[str, int], int] = {}
    for buffer in steady.buffers:
        for e in buffer.entries:
            tiles[(e.activity, e.mode)] = tiles.get((e.activity, e.mode), 0) + e.tiles

    def rest(c: dict[str, int]) -> tuple[int, int]:
        return (
            sum(traffic(a.key, c[a.key]) for a in steady.activities),
            sum(tiles.get((a.key, c[a.key]), 0) for a in steady.activities),
        )

    current = dict(choices)
    latency = realised(current)
    shortest = latency
    best = rest(current)

    def score(cycles: int, others: tuple[int, int]) -> Score:
        return (cycles if cycles > cap(shortest) else 0, *others, cycles)

    moves = evaluated = 0
    changed = True
    while changed and evaluated < evaluations:
        changed = False
        for a in candidates:
            if a.modes[current[a.key]].served_by:  # moves with the activity serving it
                continue
            fixed = {(n, core) for n, core in a.modes[current[a.key]].needs}
            for mode in a.modes:
                if mode.index == current[a.key] or set(mode.needs) != fixed or mode.served_by:
                    continue
                trial = steady.coupled({**current, a.key: mode.index}, a.key)
                if trial is None or not _fits(trial, mode_vars, checkable):
                    continue
                if evaluated >= evaluations:
                    return Refined(current, moves, evaluated)
                evaluated += 1
                others = rest(trial)
                low = floor(trial) if floor is not None else -1
                if low >= shortest and score(low, others) >= score(latency, best):
                    continue  # its latency is at least the floor: it cannot score below the best
                value = realised(trial)
                shortest = min(shortest, value)
                if score(value, others) < score(latency, best):
                    current, latency, best, moves, changed = trial, value, others, moves + 1, True
    return Refined(current, moves, evaluated)


def busiest(steady: SteadyState, choices: dict[str, int]) -> int:
    """The cycles the busiest core or link is kept busy under ``choices``: no valid schedule is
    shorter (a resource's busy intervals never overlap and lie inside their firings)."""
    load: dict[Resource, int] = {}
    for a in steady.activities:
        mode = a.modes[choices[a.key]]
        if a.local or not len(mode.firings):
            continue
        for resource, (s, e) in mode.busy.items():
            if 0 <= s < e <= mode.dur:
                load[resource] = load.get(resource, 0) + (e - s) * len(mode.firings)
    return max(load.values(), default=0)


def _rows(rows: Sequence[Constraint], mode_vars: dict[str, list[int]]) -> tuple[list[Constraint], set[int]]:
    """Rows over mode variables only, and the mode variables of rows that involve other variables."""
    known = {v for variables in mode_vars.values() for v in variables}
    checkable, locked = [], set()
    for row in rows:
        terms = set(row.expr.terms)
        if terms <= known:
            checkable.append(row)
        else:
            locked |= terms & known
    return checkable, locked


def mode_values(choices: dict[str, int], mode_vars: dict[str, list[int]]) -> dict[int, float]:
    """The value of every mode variable (by index) under ``choices``."""
    return {v: float(choices[key] == i) for key, variables in mode_vars.items() for i, v in enumerate(variables)}


def _fits(choices: dict[str, int], mode_vars: dict[str, list[int]], rows: Sequence[Constraint]) -> bool:
    values = mode_values(choices, mode_vars)
    return all(row.violation(values) <= 1e-6 for row in rows)
