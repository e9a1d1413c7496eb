"""The TETRA MILP of one fused group: variables, built-in constraint families, objectives, solve.

Variables (see ``docs`` in the README for the full formulation):

* ``mode[a]#m`` -- one-hot over the modes of activity ``a`` when it has several: the core of a
  compute node with candidate cores, or (placement option, route plan, stop level) of a transfer.
  Stream's ``x`` (placement), ``y`` (route) and ``z`` (stop level) are sums of these, and the
  resident indicators ``w[t,c,s]`` are sums of them too, so no product linearisation is needed;
* ``slot_start[s]`` -- start of slot ``s`` inside an iteration (slot latency = difference);
* ``II`` -- cycles between the starts of consecutive iterations (``overlap = period - II``);
* ``T`` -- the group latency; ``sep[...]`` -- which side of another iteration's activity an
  activity goes on a shared resource (``either`` separations).

Objectives, lexicographic: latency ``T`` (+ family terms), off-chip traffic, buffered tiles, then
family objectives, and last the links used by the chosen routes (prefers short routes on ties).
The later levels keep the latency within ``tetra.latency_tolerance`` of its optimum, a fraction taken
of the optimum plus the group's systolic drain, which follows any schedule (0: exactly).
"""

from __future__ import annotations

import hashlib
import itertools
import pickle
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence

import attrs
import numpy as np

from stream_core.ir.lp import LinExpr, Model, Objective, Solution, SolveOptions, Status, Var
from stream_core.ir.problem import AllocationProblem
from stream_tetra.api import BufferLevel, BufferView, ConstraintFamily, ModelContext, TransferView
from stream_tetra.settings import TetraSettings
from stream_tetra.steady import Activity, SteadyState

#: Solved to (near) proven optimality: latencies are large integers, so the solvers' default relative
#: gaps (1e-4 for HiGHS and Gurobi) would accept answers thousands of cycles off.
RELATIVE_GAP = 1e-9
#: Largest tolerance of the MILP solvers on a big-M row, relative to M (Gurobi's integrality tolerance).
TOLERANCE = 1e-5
#: Optimal answers of the latest models solved in this process, by :func:`_answer_key`. A group whose
#: model is identical to one solved before takes that answer instead of solving again: the mapping
#: search schedules the very groups the run then allocates, and repeated layers give identical
#: groups. Only proven optima are kept, so the answer is one a new solve may give, whatever its
#: time limit (our solvers are deterministic: gscip gives the same values again, checked).
_ANSWERS: OrderedDict[str, tuple[np.ndarray, Solution]] = OrderedDict()
_ANSWERS_KEPT = 32


def _one() -> LinExpr:
    return LinExpr(constant=1.0)


def _combine(*parts: tuple[float, LinExpr | Var]) -> LinExpr:
    """``sum(coeff * part)`` in one pass over the parts' terms (``a + b - c`` copies at every step)."""
    terms: dict[int, float] = {}
    constant = 0.0
    for coeff, part in parts:
        part = LinExpr.of(part)
        for index, c in part.terms.items():
            terms[index] = terms.get(index, 0.0) + coeff * c
        constant += coeff * part.constant
    return LinExpr(terms, constant)


@attrs.frozen
class Solved:
    choices: dict[str, int]
    slot_starts: tuple[int, ...] | None
    status: str
    gap: float | None
    objectives: dict[str, float]
    seconds: float
    solver: str
    message: str = ""
    reused: bool = False  # the answer of an identical model solved before (no solve)


class TetraModel:
    """Builds the MILP of one group; :meth:`solve` runs it and reads the chosen modes back."""

    def __init__(
        self,
        steady: SteadyState,
        problem: AllocationProblem,
        settings: TetraSettings,
        families: Sequence[ConstraintFamily],
        run_settings: dict,
    ):
        self.steady = steady
        self.problem = problem
        self.settings = settings
        self.acc = problem.accelerator
        self.model = Model(f"tetra[{steady.group.name}]")
        self.ind: dict[str, list[LinExpr]] = {}
        self.mode_vars: dict[str, list[Var]] = {}
        self._spans: dict[tuple[str, tuple], tuple[LinExpr, LinExpr, LinExpr]] = {}
        started = time.perf_counter()
        self.p_max = max(1, steady.period_bound)
        self.big = 2 * self.p_max + 1
        self._modes()
        self._timing()
        self._exclusivity()
        if settings.pipelining == "occupancy" and settings.double_buffering:
            self._occupancy()
        else:
            self._separations()
            self._finishes()
            self._resource_load()
        self.context = self._context(run_settings)
        for family in families:
            if family.applies_to(self.acc):
                self.context.family = family.name
                family.build(self.context)
        self.context.family = ""
        self._objectives()
        self.build_seconds = time.perf_counter() - started

    # -- variables ------------------------------------------------------------------------------
    def _modes(self) -> None:
        m = self.model
        for a in self.steady.activities:
            if len(a.modes) == 1:
                self.ind[a.key] = [_one()]
                continue
            variables = [m.add_binary(f"mode[{a.key}]#{mode.index}") for mode in a.modes]
            self.mode_vars[a.key] = variables
            self.ind[a.key] = [LinExpr.of(v) for v in variables]
            m.add(Model.sum(variables) == 1, name=f"one_mode[{a.key}]")
        for a in self.steady.activities:
            if not a.is_transfer:
                continue
            for node in sorted({n for mode in a.modes for n, _ in mode.needs}):
                compute = self.steady.activity(f"compute:{node}")
                for cm in compute.modes:
                    core = cm.cores[0]
                    chosen = Model.sum(self.ind[a.key][mode.index] for mode in a.modes if (node, core) in mode.needs)
                    m.add(chosen == self.ind[compute.key][cm.index], name=f"placement[{a.key}/{node}]#core {core}")
        for a in self.steady.activities:
            for key in a.shares:  # a shared delivery is chosen with the served activity's empty mode on its cores
                for served in (mode for mode in self.steady.activity(key).modes if mode.served_by):
                    on = served.dst_cores
                    shared = self.indicator(
                        a.key, (mode.index for mode in a.modes if (mode.serves, mode.serves_on) == (key, on))
                    )
                    m.add(shared - self.ind[key][served.index] == 0, name=f"shared_fetch[{a.key}/{key}]@{list(on)}")

    def indicator(self, key: str, modes: Iterable[int]) -> LinExpr:
        return Model.sum(self.ind[key][i] for i in modes)

    def weighted(self, key: str, pairs: Iterable[tuple[int, float]]) -> LinExpr:
        """``sum(coeff * indicator of mode)`` over ``(mode, coeff)`` pairs of activity ``key``."""
        variables = self.mode_vars.get(key)
        if variables is None:  # one mode: its indicator is the constant 1
            return LinExpr(constant=sum(float(c) for _, c in pairs))
        terms: dict[int, float] = {}
        for mode, coeff in pairs:
            index = variables[mode].index
            terms[index] = terms.get(index, 0.0) + float(coeff)
        return LinExpr(terms)

    def _timing(self) -> None:
        m, steady = self.model, self.steady
        ub = 2 * self.p_max + 1
        self.starts: list[Var] = [m.add_integer("slot_start[0]", 0, 0)]
        for s in range(1, steady.n_slots + 1):
            self.starts.append(m.add_integer(f"slot_start[{s}]", 0, ub))
            m.add(self.starts[s] - self.starts[s - 1] >= 0, name=f"slot_order#{s}")
        for a in steady.activities:
            if a.local:
                continue
            need = Model.sum(mode.dur * self.ind[a.key][mode.index] for mode in a.modes)
            m.add(self.starts[a.slot + 1] - self.starts[a.slot] >= need, name=f"slot_latency[slot {a.slot}]#{a.key}")
        iterations = steady.iterations
        self.interval: LinExpr = LinExpr.of(m.add_integer("II", 0, ub)) if iterations > 1 else LinExpr()
        self.latency = m.add_integer("T", 0, iterations * ub + ub)

    def _exclusivity(self) -> None:
        """One compute per core and one transfer per link in every slot (core/link contention)."""
        users: dict[tuple[int, tuple[str, int]], dict[str, list[int]]] = {}
        for a in self.steady.activities:
            for mode in a.modes:
                for resource in mode.busy:
                    users.setdefault((a.slot, resource), {}).setdefault(a.key, []).append(mode.index)
        for (slot, (kind, rid)), by_activity in sorted(users.items()):
            if len(by_activity) < 2:
                continue
            family = "core_exclusivity" if kind == "core" else "link_contention"
            total = Model.sum(self.indicator(k, modes) for k, modes in sorted(by_activity.items()))
            self.model.add(total <= 1, name=f"{family}[{kind} {rid}]#slot {slot}")

    # -- overlap ---------------------------------------------------------------------------------------
    def _span(self, key: str, span: tuple[tuple[int, int, int], ...]) -> tuple[LinExpr, LinExpr, LinExpr]:
        """Start and end of the busy interval as expressions of the mode choice, and ``1 - covered``
        (0 when every mode of the activity is in ``span``). Memoised: many separations share a span
        (the expressions are never changed in place)."""
        cached = self._spans.get((key, span))
        if cached is None:
            start = self.weighted(key, ((m, s0) for m, s0, _ in span))
            end = self.weighted(key, ((m, e0) for m, _, e0 in span))
            covered = len(span) == len(self.ind[key])
            off = LinExpr() if covered else 1 - self.weighted(key, ((m, 1.0) for m, _, _ in span))
            cached = self._spans[(key, span)] = (start, end, off)
        return cached

    def _separations(self) -> None:
        m = self.model
        sides: dict[tuple, Var] = {}
        for i, sep in enumerate(self.steady.separations):
            name = f"separation[{sep.label}]#{i}"
            a_start, a_end, a_off = self._span(sep.a_key, sep.a_span)
            if sep.a_key == sep.b_key:  # against its own next firing
                m.add(_combine((sep.d, self.interval), (-1, a_end), (1, a_start)) >= 0, name=name)
                continue
            b_start, b_end, b_off = self._span(sep.b_key, sep.b_span)
            a_slot, b_slot = self.starts[sep.a_slot], self.starts[sep.b_slot]
            longest = max([e for _, _, e in sep.a_span] + [e for _, _, e in sep.b_span] + [0])
            big = (sep.d + 1) * self.big + longest
            # d * II - (start[a slot] - start[b slot]) - a_end + b_start + big * (a_off + b_off)
            after = ((sep.d, self.interval), (-1, a_slot), (1, b_slot), (-1, a_end), (1, b_start))
            off = ((big, a_off), (big, b_off))
            if sep.kind == "after":
                m.add(_combine(*after, *off) >= 0, name=name)
                continue
            # one side per activity pair (whatever their modes): iteration i+d's b goes after or before a
            key = (sep.resource, sep.a_key, sep.b_key, sep.d)
            if key not in sides:
                sides[key] = m.add_binary(f"sep_side[{sep.label}]#d{sep.d}")
            side = sides[key]
            m.add(_combine(*after, (big, side), *off) >= 0, name=name)
            # the margin absorbs the solvers' feasibility tolerance (relative to the big-M row), so a
            # solution they accept still lets the exact schedule take this side
            margin = int(2 * TOLERANCE * big)
            before = ((1, a_slot), (-1, b_slot), (-sep.d, self.interval), (1, a_start), (-1, b_end))
            m.add(_combine(*before, (big, _one()), (-big, side), *off) >= margin, name=name)
        self._side_order(sides)

    def _side_order(self, sides: dict[tuple, Var]) -> None:
        """Two shifted copies of one slot order interleave monotonically: if iteration ``i+d``'s ``b``
        fits before iteration ``i``'s ``a``, it fits before every later ``a``, and every earlier ``b``
        fits before ``a`` too. (An activity not on the resource can take any side, so these rows never
        cut off a schedule.)"""
        slot = {a.key: a.slot for a in self.steady.activities}
        chains: dict[tuple, list[tuple[int, str, Var]]] = {}
        for (resource, akey, bkey, d), var in sorted(sides.items(), key=lambda kv: str(kv[0])):
            chains.setdefault(("b", resource, bkey, d), []).append((slot[akey], akey, var))
            chains.setdefault(("a", resource, akey, d), []).append((slot[bkey], bkey, var))
        for (kind, resource, key, _d), items in sorted(chains.items(), key=lambda kv: str(kv[0])):
            items.sort(key=lambda x: (x[0], x[1]))
            for (s1, k1, v1), (s2, k2, v2) in itertools.pairwise(items):
                if s1 == s2:
                    continue
                name = f"side_order[{resource[0]} {resource[1]}]#{key}/{k1}/{k2}"
                if kind == "b":  # a later a: b fits before it at least as well
                    self.model.add(v2 - v1 >= 0, name=name)
                else:  # a later b: fits before a no better
                    self.model.add(v1 - v2 >= 0, name=name)

    def _resource_load(self) -> None:
        """Valid rows that tighten the relaxation (implied by the separations for integral modes):
        if activities fire on resource ``k`` in every one of ``N`` consecutive iterations, their
        ``N`` disjoint busy intervals each fit between the window's first start and last end:
        ``N * sum(busy) <= (N - 1) * II + period`` (written divided by ``N``, which keeps the
        coefficients small). The window is the middle half of the iterations."""
        iterations = self.steady.iterations
        lo, hi = iterations // 4, iterations - iterations // 4
        if hi - lo < 2:
            return
        window = np.arange(lo, hi, dtype=np.int64)
        n = hi - lo
        load: dict[tuple[str, int], list[tuple[float, LinExpr]]] = {}
        for a in self.steady.activities:
            for mode in a.modes:
                if not np.isin(window, mode.firings).all():
                    continue
                for resource, (start, end) in mode.busy.items():
                    load.setdefault(resource, []).append((end - start, self.ind[a.key][mode.index]))
        period = self.starts[self.steady.n_slots]
        for (kind, rid), parts in sorted(load.items()):
            busy = _combine(*parts)
            self.model.add(((n - 1) / n) * self.interval + (1 / n) * period - busy >= 0, name=f"load[{kind} {rid}]")

    def _finishes(self) -> None:
        """``T >= last * II + slot start + duration`` for every mode's last firing, written as
        ``T = (I - 1) * II + E`` with ``E >= (last - I + 1) * II + ...``: most activities fire last in
        the last iteration, so these rows carry no large coefficient (a single row links T)."""
        m, steady = self.model, self.steady
        top = steady.iterations - 1
        slack = m.add_var("E", -top * self.big, self.big * 2)
        m.add(self.latency - top * self.interval - slack == 0, name="latency")
        by_activity: dict[str, list] = {}
        for f in steady.finishes:
            by_activity.setdefault(f.activity, []).append(f)
        for key, items in sorted(by_activity.items()):
            ind = self.ind[key]
            shared = {(f.last, f.slot) for f in items}
            if len(shared) == 1 and len(items) == len(ind):
                last, slot = items[0].last, items[0].slot
                end = Model.sum(f.dur * ind[f.mode] for f in items)
                m.add(slack - (last - top) * self.interval - self.starts[slot] - end >= 0, name=f"finish[{key}]")
                continue
            for f in items:
                big = (top - f.last + 2) * self.big
                m.add(
                    slack - (f.last - top) * self.interval - self.starts[f.slot] + big * (1 - ind[f.mode]) >= f.dur,
                    name=f"finish[{key}]#mode {f.mode}",
                )

    def _occupancy(self) -> None:
        """Stream's OCCUPANCY model: ``O`` is at most the idle time of every used core and link."""
        m, steady = self.model, self.steady
        period = self.starts[steady.n_slots]
        overlap = m.add_integer("O", 0, 2 * self.p_max + 1)
        m.add(period - overlap >= 0, name="overlap_bound")
        active: dict[tuple[str, int], dict[int, LinExpr]] = {}
        for a in steady.activities:
            for mode in a.modes:
                for resource in mode.busy:
                    slots = active.setdefault(resource, {})
                    slots[a.slot] = slots.get(a.slot, LinExpr()) + self.ind[a.key][mode.index]
        for resource, slots in sorted(active.items()):
            idle = LinExpr()
            for s in range(steady.n_slots):
                use = slots.get(s)
                latency = self.starts[s + 1] - self.starts[s]
                if use is None:
                    idle = idle + latency
                elif use.terms:
                    part = m.add_var(f"idle[{resource[0]} {resource[1]}]#slot {s}", 0, self.big)
                    m.add(part - latency <= 0, name=f"occupancy[{resource[0]} {resource[1]}]#slot {s}")
                    m.add(part + self.big * use <= self.big, name=f"occupancy[{resource[0]} {resource[1]}]#slot {s}")
                    idle = idle + part
            m.add(idle - overlap >= 0, name=f"occupancy[{resource[0]} {resource[1]}]")
        iterations = steady.iterations
        m.add(self.latency - iterations * period + (iterations - 1) * overlap >= 0, name="latency")
        self.interval = period - overlap

    # -- public context and objectives -----------------------------------------------------------------
    def _context(self, run_settings: dict) -> ModelContext:
        steady = self.steady
        buffers: dict[tuple[str, int], dict[int, list]] = {}
        meta: dict[str, tuple[str, str, str]] = {}
        for buffer in steady.buffers:
            meta[buffer.name] = (buffer.tensor, buffer.node, buffer.role)
            for e in buffer.entries:
                levels = buffers.setdefault((buffer.name, e.core), {})
                levels.setdefault(e.level, []).append(e)
        views = []
        for (name, core), levels in sorted(buffers.items()):
            tensor, node, role = meta[name]
            items = []
            for level, entries in sorted(levels.items()):
                resident = Model.sum(self.ind[e.activity][e.mode] for e in entries)
                top = max(entries, key=lambda e: e.bits)
                items.append(BufferLevel(level, top.tiles, top.reuse, top.bds, top.bits, resident))
            views.append(BufferView(name, tensor, node, role, core, tuple(items)))
        transfers = []
        for a in steady.activities:
            if not a.is_transfer:
                continue
            into: dict[int, LinExpr] = {}
            out_of: dict[int, LinExpr] = {}
            for mode in a.modes:
                ind = self.ind[a.key][mode.index]
                for core in sorted({d for r in mode.records for d in r.dsts}):
                    into[core] = into.get(core, LinExpr()) + ind
                for core in sorted({r.src for r in mode.records}):
                    out_of[core] = out_of.get(core, LinExpr()) + ind
            transfers.append(TransferView(a.key, a.tensor, a.kind, a.slot, into, out_of))
        placement: dict[str, dict[int, LinExpr]] = {}
        for a in steady.activities:
            if a.kind == "compute":
                cores = placement.setdefault(a.node, {})
                for mode in a.modes:
                    for core in sorted(set(mode.cores)):  # a core running several parts counts once
                        cores[core] = cores.get(core, LinExpr()) + self.ind[a.key][mode.index]
        return ModelContext(
            model=self.model,
            accelerator=self.acc,
            group=steady.group.name,
            nodes=tuple(steady.nodes),
            iterations=steady.iterations,
            latency=self.latency,
            interval=self.interval,
            slot_starts=tuple(self.starts),
            buffers=tuple(views),
            transfers=tuple(transfers),
            placement=placement,
            settings=run_settings,
        )

    def traffic(self, a: Activity, mode_index: int) -> int:
        offchip = self.steady.offchip
        mode = a.modes[mode_index]
        return sum(int(r.bits.sum()) for r in mode.records if r.src == offchip or offchip in r.dsts)

    def _objectives(self) -> None:
        ctx, steady = self.context, self.steady
        latency = LinExpr.of(self.latency) + Model.sum(ctx.latency_terms)
        traffic = _combine(
            *((self.traffic(a, mode.index), self.ind[a.key][mode.index]) for a in steady.activities for mode in a.modes)
        )
        tiles = _combine(*((e.tiles, self.ind[e.activity][e.mode]) for b in steady.buffers for e in b.entries))
        hops = _combine(
            *(
                (sum(len(r.links) for r in mode.records), self.ind[a.key][mode.index])
                for a in steady.activities
                for mode in a.modes
                if len(a.modes) > 1
            )
        )
        slack, rel = self.settings.latency_slack(self.problem.drain(steady.group))
        levels = [
            Objective(latency, name="latency", abs_tol=slack, rel_tol=rel),
            Objective(traffic, name="offchip_traffic", abs_tol=0.5),
            Objective(tiles, name="buffering", abs_tol=0.5),
        ]
        for term in sorted(ctx.objectives, key=lambda t: -t.priority):
            levels.append(Objective(term.expr, name=term.name, abs_tol=1e-6))
        if hops.terms:
            levels.append(Objective(hops, name="route_hops", abs_tol=0.5))
        self.model.set_lexicographic(levels)

    # -- solving -----------------------------------------------------------------------------------
    def solve(self, solver, time_limit: float) -> tuple[Solution, Solved | None]:
        options = SolveOptions(
            time_limit=time_limit, relative_gap=RELATIVE_GAP, threads=self.settings.threads, explain_conflicts=False
        )
        key = _answer_key(self.model, solver, options)
        reused = key in _ANSWERS
        if reused:
            _ANSWERS.move_to_end(key)
            values, known = _ANSWERS[key]
            solution = attrs.evolve(known, values=dict(enumerate(values.tolist())), seconds=0.0)
        else:
            solution = solver.solve(self.model, options)
            if solution.status is Status.OPTIMAL:
                values = np.fromiter((solution.values.get(i, 0.0) for i in range(self.model.num_vars)), np.float64)
                _ANSWERS[key] = (values, attrs.evolve(solution, values={}))
                while len(_ANSWERS) > _ANSWERS_KEPT:
                    _ANSWERS.popitem(last=False)
        if not solution.ok:
            return solution, None
        choices = {}
        for a in self.steady.activities:
            variables = self.mode_vars.get(a.key)
            choices[a.key] = (
                0 if variables is None else max(range(len(variables)), key=lambda i: solution.value(variables[i]))
            )
        starts = tuple(solution.int_value(v) for v in self.starts)
        names = [o.name for o in self.model.objectives]
        return solution, Solved(
            choices=choices,
            slot_starts=starts,
            status=solution.status.value,
            gap=solution.gap,
            objectives=dict(zip(names, solution.objective_values, strict=True)),
            seconds=solution.seconds,
            solver=solution.solver,
            message=solution.message,
            reused=reused,
        )


def _answer_key(model: Model, solver: object, options: SolveOptions) -> str:
    """A digest of everything a solve's answer depends on but its time limit: the model's variables,
    rows and objectives (in their order), the solver and its gap and threads."""
    content = (
        [(v.name, v.lb, v.ub, v.vtype.value) for v in model.vars],
        [(c.sense.value, c.rhs, c.expr.terms) for c in model.constraints],
        [(o.minimize, o.abs_tol, o.rel_tol, o.expr.constant, o.expr.terms) for o in model.objectives],
        (type(solver).__module__, type(solver).__qualname__, getattr(solver, "name", "")),
        (options.relative_gap, options.threads),
    )
    return hashlib.blake2b(pickle.dumps(content, protocol=5), digest_size=20).hexdigest()


def heuristic_choices(steady: SteadyState) -> dict[str, int]:
    """A quick allocation without the solver: fastest core per node, then per transfer the mode
    that needs the least buffer memory (then the shortest) among those matching the cores (separate
    fetches: no shared delivery)."""
    choices: dict[str, int] = {}
    core_of: dict[str, int] = {}
    for a in steady.activities:
        if a.kind == "compute":
            best = min(a.modes, key=lambda m: (m.dur, m.index))
            choices[a.key] = best.index
            core_of[a.node] = best.cores[0]
    memory: dict[tuple[str, int], int] = {}
    for b in steady.buffers:
        for e in b.entries:
            memory[(e.activity, e.mode)] = memory.get((e.activity, e.mode), 0) + e.bits
    for a in steady.activities:
        if a.kind == "compute":
            continue
        fitting = [m for m in a.modes if all(core_of[n] == c for n, c in m.needs) and not (m.serves or m.served_by)]
        best = min(fitting, key=lambda m: (memory.get((a.key, m.index), 0), m.dur, m.index))
        choices[a.key] = best.index
    return choices
