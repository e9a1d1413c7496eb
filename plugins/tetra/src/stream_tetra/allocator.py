"""The ``tetra`` allocator: one steady-state MILP per fused group; groups run one after the other.

Per group: steady-state workload (:mod:`stream_tetra.steady`), MILP with the built-in and the
plugins' constraint families (:mod:`stream_tetra.milp`), a time-limited lexicographic solve whose
best solution is used even when not proven optimal (its gap is reported), transfer modes re-chosen
for the realised schedule (:mod:`stream_tetra.refine`), and the schedule realised from the final
modes, uniform interval or list schedule (:mod:`stream_tetra.timed_schedule`). An infeasible group raises
:class:`~stream_core.errors.InfeasibleError` with demand versus capacity per core and the
conflicting constraint groups; a solve that finds nothing in time falls back to a heuristic
allocation when it fits, else raises :class:`SolveLimitError`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import attrs

from stream_core.bounds import lower_bound
from stream_core.context import RunContext
from stream_core.errors import InfeasibleError, StreamError
from stream_core.ir.lp import Solution, Status
from stream_core.ir.problem import AllocationProblem
from stream_core.ir.result import GroupRecord, Result, Totals, energy_not_in_stream
from stream_tetra.api import ConstraintFamily
from stream_tetra.explain import capacity_report, conflict_report
from stream_tetra.families import BUILTIN_FAMILIES
from stream_tetra.greedy_baseline import GREEDY, greedy_baseline
from stream_tetra.milp import Solved, TetraModel, heuristic_choices
from stream_tetra.refine import Refined, busiest, mode_values, refine
from stream_tetra.settings import TetraSettings
from stream_tetra.steady import SteadyState, build_steady
from stream_tetra.timed_schedule import Emission, Timing, emit, tight_starts, timing

NAME = "tetra"


class SolveLimitError(StreamError):
    """The solver found no allocation within its time limit and no fallback fits."""

    exit_code = 2


def plugin_families(context: RunContext) -> list[ConstraintFamily]:
    """Constraint families from ``tetra_register_constraints`` implementations, sorted by name."""
    hook = getattr(context.plugins.hook, "tetra_register_constraints", None)
    found: list[ConstraintFamily] = []
    for items in hook() if hook is not None else []:
        for family in items or ():
            if not isinstance(family, ConstraintFamily):
                raise StreamError(
                    f"tetra_register_constraints returned {type(family).__name__}; "
                    "expected stream_tetra.api.ConstraintFamily"
                )
            found.append(family)
    names = [f.name for f in found]
    duplicates = sorted({n for n in names if names.count(n) > 1} | ({f.name for f in BUILTIN_FAMILIES} & set(names)))
    if duplicates:
        raise StreamError(f"constraint family names registered twice: {', '.join(duplicates)}")
    return sorted(found, key=lambda f: f.name)


class TetraAllocator:
    def allocate(self, problem: AllocationProblem, context: RunContext) -> Result:
        settings = TetraSettings.from_context(context)
        families = [*BUILTIN_FAMILIES, *plugin_families(context)]
        solver = context.solver("milp")
        records: list[GroupRecord] = []
        emissions: list[Emission] = []
        memory: dict[int, list[tuple[int, int]]] = defaultdict(list)
        start = 0
        solvers_used: set[str] = set()
        for group in problem.mapping.groups:
            context.progress.stage(f"allocate {group.name}")
            started = time.perf_counter()
            steady = build_steady(problem, group, settings)
            tm = TetraModel(steady, problem, settings, families, dict(context.options.settings))
            build_seconds = time.perf_counter() - started
            if tm.context.violated:
                lines = capacity_report(tm.model, tm.context.violated, solver, problem.accelerator, 1.0)
                raise InfeasibleError(f"group {group.name!r} cannot be allocated", lines)
            solution, solved = tm.solve(solver, context.options.solve_seconds)
            if solved is None:
                solved = self._without_solution(tm, solution, solver, context, settings)
            else:
                solvers_used.add(solved.solver)
            if solved.status != "optimal":
                gap = "unknown" if solved.gap is None else f"{solved.gap:.3g}"
                context.warn(f"group {group.name!r}: allocation not proven optimal (status {solved.status}, gap {gap})")
            drain = problem.drain(group)
            refined, t = _refine(steady, tm, solved, settings, drain)
            choices = refined.choices
            emission = emit(problem, steady, choices, t, start, settings.max_tiles)
            stats = _group_stats(steady, tm, solved, choices, t, emission, settings, build_seconds)
            stats["refined_moves"] = refined.moves
            milp_latency = stats.get("milp_latency")
            if settings.pipelining == "occupancy" and milp_latency is not None and t.latency > milp_latency:
                context.warn(
                    f"group {group.name!r}: Stream's OCCUPANCY latency {milp_latency:.0f} is not reachable by a "
                    f"valid schedule; the schedule takes {t.latency} cycles"
                )
            end = max(emission.end, start)
            group_memory = {
                core: [(start, bits), (end, -bits)] for core, bits in _resident(problem, steady, choices).items()
            }
            if settings.greedy and emission.iterations_recorded is not None:
                stats["schedules"]["greedy"] = "not tried: the group has more tiles than tetra.max_tiles"
            elif settings.greedy:
                baseline = greedy_baseline(problem, group, context, start)
                stats["schedules"]["greedy"] = baseline if isinstance(baseline, str) else baseline.latency
                if not isinstance(baseline, str) and _better(
                    (baseline.latency, baseline.energy), (end - start, _energy(emission)), settings, drain
                ):
                    emission, group_memory, end = baseline.emission, baseline.memory, start + baseline.latency
                    stats["schedule"] = GREEDY
            stats["realised"] = _realised(stats, end - start, settings)
            if drain:
                stats["drain_cycles"] = drain
                stats["realised"] += f"; then {drain:,} cycles of systolic drain"
                end += drain
            records.append(GroupRecord(group.name, start, end, NAME, stats))
            for core, changes in group_memory.items():
                memory[core] += changes
            emissions.append(emission)
            start = end
        result = _result(problem, records, emissions, memory, start, settings, solvers_used)
        return attrs.evolve(result, lower_bound=lower_bound(problem), optimality=_claims(records))

    def _without_solution(
        self, tm: TetraModel, solution: Solution, solver: Any, context: RunContext, settings: TetraSettings
    ) -> Solved:
        group = tm.steady.group.name
        if solution.status is Status.INFEASIBLE:
            limit = max(1.0, min(10.0, context.options.solve_seconds))
            lines = capacity_report(tm.model, tm.context.capacities, solver, tm.acc, limit)
            if settings.explain:
                lines += conflict_report(tm.model, solver, limit)
            raise InfeasibleError(
                f"group {group!r} has no allocation that fits (solver {solution.solver}); "
                "tile it smaller, allow more cores or reduce reuse",
                lines or ["the solver found the model infeasible but no single capacity explains it"],
            )
        if solution.status is Status.NO_SOLUTION:
            choices = heuristic_choices(tm.steady)
            overflow = _heuristic_overflow(tm, choices)
            if overflow:
                raise SolveLimitError(
                    f"group {group!r}: the solver ({solution.solver}) found no allocation within "
                    f"{context.options.solve_seconds:g} s and the heuristic allocation does not fit ({overflow}); "
                    "raise --time-limit"
                )
            context.warn(f"group {group!r}: no MILP solution within the time limit; used the heuristic allocation")
            return Solved(choices, None, "heuristic", None, {}, solution.seconds, solution.solver, solution.message)
        raise StreamError(
            f"group {group!r}: solver {solution.solver} failed ({solution.status.value}): {solution.message}"
        )


def _slot_candidates(steady: SteadyState, solved: Solved, choices: dict[str, int]) -> list[tuple[int, ...]]:
    """Slot starts to realise ``choices`` with: the tight ones, and the solver's for its own modes."""
    candidates = [tight_starts(steady, choices)]
    if solved.slot_starts is not None and choices == solved.choices:
        candidates.insert(0, solved.slot_starts)
    return candidates


def _mode_vars(tm: TetraModel) -> dict[str, list[int]]:
    """The indices of every activity's mode variables (activities with a single mode have none)."""
    return {key: [v.index for v in variables] for key, variables in tm.mode_vars.items()}


def _refine(
    steady: SteadyState, tm: TetraModel, solved: Solved, settings: TetraSettings, drain: int
) -> tuple[Refined, Timing]:
    """Refined choices and their realised timing (each choice set is realised once); the latency
    tolerance is taken with the group's ``drain``."""
    keys = [a.key for a in steady.activities]
    timings: dict[tuple[int, ...], Timing] = {}

    def realise(choices: dict[str, int]) -> Timing:
        key = tuple(choices[k] for k in keys)
        if key not in timings:
            candidates = _slot_candidates(steady, solved, choices)
            timings[key] = timing(steady, choices, candidates, settings.interleave)
        return timings[key]

    def traffic(key: str, mode: int) -> int:
        return tm.traffic(steady.activity(key), mode)

    refined = refine(
        steady,
        solved.choices,
        _mode_vars(tm),
        tm.context.added,
        lambda choices: realise(choices).latency,
        traffic,
        settings.refine_firings,
        lambda choices: busiest(steady, choices),
        lambda shortest: settings.latency_cap(shortest, drain),
    )
    return refined, realise(refined.choices)


def _heuristic_overflow(tm: TetraModel, choices: dict[str, int]) -> str:
    """Why the heuristic modes break a family's constraint (empty when they do not). Timing rows are
    met by construction (the schedule is realised from the modes); family rows must only involve
    mode variables to be checked here."""
    values = mode_values(choices, _mode_vars(tm))
    for row in tm.context.added:
        if set(row.expr.terms) - set(values):
            return f"{row.name} depends on more than the modes"
        if row.violation(values) > 1e-6:
            return f"{row.name} is violated by {row.violation(values):.0f}"
    return ""


def _resident(problem: AllocationProblem, steady: SteadyState, choices: dict[str, int]) -> dict[int, int]:
    """Bits the chosen buffers hold per memory (keyed by its owner: cores sharing one add up)."""
    acc = problem.accelerator
    bits: dict[int, int] = defaultdict(int)
    for buffer in steady.buffers:
        for e in buffer.entries:
            if choices[e.activity] == e.mode and acc.cores[e.core].kind != "offchip":
                bits[acc.memory_of(e.core)] += e.bits
    return dict(sorted(bits.items()))


def _group_stats(
    steady: SteadyState,
    tm: TetraModel,
    solved: Solved,
    choices: dict[str, int],
    t: Timing,
    emission: Emission,
    settings: TetraSettings,
    build_seconds: float,
) -> dict[str, Any]:
    slots: dict[int, list[str]] = defaultdict(list)
    for a in steady.activities:
        slots[a.slot].append(a.key)
    modes = {}
    for a in steady.activities:
        if len(a.modes) > 1:
            modes[a.key] = a.modes[choices[a.key]].describe()
    ssis = {name: state.ssis(frozenset(state.grid.node.output.dims)) for name, state in sorted(steady.nodes.items())}
    stats: dict[str, Any] = {
        "status": solved.status,
        "gap": None if solved.gap is None else float(solved.gap),
        "solver": solved.solver,
        "pipelining": settings.pipelining,
        "milp_variables": tm.model.num_vars,
        "milp_constraints": tm.model.num_constraints,
        "build_seconds": round(build_seconds, 4),
        "solve_seconds": round(float(solved.seconds), 4),
        "iterations": steady.steady_iterations,
        "iterations_total": steady.iterations,
        "period": t.period,
        "interval": t.interval,
        "schedule": "list" if t.listed else "uniform",
        "uniform_latency": t.uniform_latency,
        "schedules": {"uniform": t.uniform_latency, "list": t.list_latency},
        "proven": _proven(solved, settings),
        "overlap": t.period - t.interval if steady.iterations > 1 else 0,
        "latency": t.latency,
        "slot_latencies": list(t.slot_latencies),
        "slots": {str(s): sorted(keys) for s, keys in sorted(slots.items())},
        "choices": dict(sorted(modes.items())),
        "ssis": ssis,
        "tiles": emission.tiles_total,
        "tiles_recorded": len(emission.tiles),
    }
    if solved.message:
        stats["solver_message"] = solved.message
    if solved.reused:
        stats["solve_reused"] = "the answer of an identical model solved before in this process"
    for name, value in solved.objectives.items():
        stats["milp_latency" if name == "latency" else name] = float(value)
    if emission.iterations_recorded is not None:
        stats["elided"] = {
            "recorded_iterations": list(emission.iterations_recorded),
            "tiles_total": emission.tiles_total,
            "tiles_recorded": len(emission.tiles),
            "transfers_total": emission.transfers_total,
            "rule": "above tetra.max_tiles tiles: the first iterations and every mode's last firing",
        }
    return stats


def _better(a: tuple[int, float], b: tuple[int, float], settings: TetraSettings, drain: int) -> bool:
    """Whether schedule ``a`` (latency, energy) beats ``b``: both within the latency tolerance of the
    shorter (with the ``drain`` that follows either), the lower energy (then the shorter); else the
    shorter."""
    cap = settings.latency_cap(min(a[0], b[0]), drain)
    if max(a[0], b[0]) <= cap:
        return (a[1], a[0]) < (b[1], b[0])
    return a[0] < b[0]


def _energy(emission: Emission) -> float:
    return emission.compute_energy + emission.transfer_energy + emission.memory_energy


def _proven(solved: Solved, settings: TetraSettings) -> str:
    """What the solve proved, naming the model it holds for (and the latency tolerance it used)."""
    if solved.status == "optimal" and settings.latency_tolerance:
        return (
            f"optimal for the steady-state model (uniform interval): latency within "
            f"{settings.latency_tolerance:.0%} of its optimum (tetra.latency_tolerance), then least off-chip traffic"
        )
    if solved.status == "optimal":
        return "optimal for the steady-state model (uniform interval)"
    if solved.status == "heuristic":
        return "nothing: no MILP solution in time, heuristic allocation"
    gap = "unknown" if solved.gap is None else f"{solved.gap:.3g}"
    return f"not proven optimal for the steady-state model (status {solved.status}, gap {gap})"


def _realised(stats: dict[str, Any], latency: int, settings: TetraSettings) -> str:
    """Which schedule the group keeps, against which alternatives, and whether a shorter one was left
    for less energy within the latency tolerance."""
    kind = stats["schedule"]
    others = {name: value for name, value in stats["schedules"].items() if name != kind}
    listed = ", ".join(
        f"{name} {value:,}" if isinstance(value, int) else f"{name}: {value}" for name, value in others.items()
    )
    label = "greedy's list schedule" if kind == GREEDY else f"TETRA's {kind} schedule"
    text = f"{label}, {latency:,} cycles (others: {listed})"
    shorter = [name for name, value in others.items() if isinstance(value, int) and value < latency]
    if shorter:
        text += (
            f"; kept over the shorter {' and '.join(shorter)} for less energy, within tetra.latency_tolerance "
            f"{settings.latency_tolerance:.0%}"
        )
    return text


def _claims(records: list[GroupRecord]) -> tuple[str, ...]:
    """The run's optimality sentences: what the MILP proved per group and which schedules were kept."""
    n = len(records)
    proven: dict[str, int] = defaultdict(int)
    kept: dict[str, int] = defaultdict(int)
    for record in records:
        stats = dict(record.stats)
        proven[stats["proven"]] += 1
        kept[stats["schedule"]] += 1
    names = {
        "uniform": "TETRA's uniform",
        "list": "TETRA's list",
        GREEDY: "greedy's list (shorter on the same mapping)",
    }
    return (
        "MILP: " + "; ".join(f"{claim} in {count} of {n} groups" for claim, count in sorted(proven.items())),
        "realised: " + ", ".join(f"{names[kind]} schedule in {count} of {n}" for kind, count in sorted(kept.items())),
    )


def _result(
    problem: AllocationProblem,
    groups: list[GroupRecord],
    emissions: list[Emission],
    memory: dict[int, list[tuple[int, int]]],
    latency: int,
    settings: TetraSettings,
    solvers: set[str],
) -> Result:
    tiles = sorted((t for e in emissions for t in e.tiles), key=lambda t: (t.start, t.core, t.node, t.index))
    transfers = sorted(
        (t for e in emissions for t in e.transfers), key=lambda t: (t.start, t.src, t.dst, t.tensor, t.links)
    )
    elided = any(e.iterations_recorded is not None for e in emissions)
    if elided:
        compute = sum(e.compute_energy for e in emissions)
        transfer = sum(e.transfer_energy for e in emissions)
    else:
        compute = sum(t.energy_pj for t in tiles)
        transfer = sum(t.energy_pj for t in transfers)
    busy: dict[int, int] = defaultdict(int)
    node_energy: dict[str, float] = defaultdict(float)
    for e in emissions:
        for core, cycles in e.busy.items():
            busy[core] += cycles
        for node, energy in e.node_energy.items():
            node_energy[node] += energy
    totals = Totals(
        latency=latency,
        compute_energy_pj=compute,
        transfer_energy_pj=transfer,
        memory_energy_pj=sum(e.memory_energy for e in emissions),
        utilisation={c.id: (busy[c.id] / latency if latency else 0.0) for c in problem.accelerator.compute_cores},
        energy_not_in_stream_pj=energy_not_in_stream(
            problem.workload, node_energy, sum(e.partial_sums_memory for e in emissions)
        ),
    )
    steps = {}
    for core, events in sorted(memory.items()):
        level, out = 0, []
        merged: dict[int, int] = defaultdict(int)
        for when, delta in events:
            merged[when] += delta
        for when, delta in sorted(merged.items()):
            level += delta
            out.append((when, level))
        steps[core] = tuple(out)
    stats: dict[str, Any] = {
        "tetra": {
            "pipelining": settings.pipelining,
            "groups": len(groups),
            "elided": elided,
        }
    }
    return Result(
        workload=problem.workload.name,
        accelerator=problem.accelerator.name,
        tiles=tiles,
        transfers=transfers,
        memory=steps,
        groups=groups,
        totals=totals,
        provenance={"solver": ", ".join(sorted(solvers)) or "none (heuristic)"},
        stats=stats,
    )
