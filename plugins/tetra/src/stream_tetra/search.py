"""The fused mapper's mapping search (``fused.effort``): score candidate mappings of one fused group and
keep the best by ``fused.objective``.

A :class:`Candidate` replaces one group of the mapper's own mapping (the *seed*) by one or more groups
with their node mappings (cores, split) and tiles. :func:`choose` scores the candidates:

1. **Costs.** The tiles of every candidate are costed in one :func:`stream_core.cost_tiles` batch (the
   core's model choice, deduplication and persistent cost cache; a cost model that runs in processes,
   as ZigZag does, runs them all at once: this is where the search runs in parallel).
2. **Schedules.** Each candidate's groups are scheduled alone (inputs from off-chip, results written
   back: the allocators' model of a group) by the run's own allocator (TETRA by default), each solve
   limited to ``min(--time-limit, SEARCH_TIME_LIMIT)`` seconds. A score is a realised schedule, not an
   estimate. The greedy list scheduler is no screen: on the parity pairs it ranks candidates unlike
   TETRA (a split over rows: greedy 12,596 cycles, TETRA 4,685).
3. **Choice.** With the latency objective, only candidates using at most ``fused.energy_tolerance``
   more energy than the seed compete (none: no limit, nor when the seed cannot be scheduled), so by
   default a faster mapping is at most 0.25 % dearer than the mapper's own. Among them, schedules within
   ``tetra.latency_tolerance`` of the shortest count as equally fast (the cap TETRA itself uses,
   :meth:`stream_tetra.settings.TetraSettings.latency_cap`) and the one using the least energy wins,
   then the shorter. A candidate whose lower bound (:func:`stream_core.bounds.group_bound`) is above
   the cap of the best competing latency so far is not scheduled. With ``energy`` or ``edp``, the
   lowest of that figure wins, then the shorter.

The earlier candidate (the seed first) wins ties. Scores are memoised by content
(node mappings, groups, tiles), so a candidate reached twice is scheduled once; everything runs in
candidate order, so the same inputs give the same choice -- unless a solve stopped at its time limit
(TETRA's status ``feasible`` or ``heuristic``): its schedule, and so the choice, then depends on how far
the solver got, i.e. on the machine's load, and the choice's note says so.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from stream_core import cost_tiles
from stream_core.bounds import group_bound
from stream_core.context import Progress, RunContext
from stream_core.errors import StreamError
from stream_core.ir.accelerator import Accelerator
from stream_core.ir.cost import CostRequest, CostResult
from stream_core.ir.mapping import FusedGroup, NodeMapping
from stream_core.ir.mapping import Mapping as RunMapping
from stream_core.ir.problem import AllocationProblem, CostTable
from stream_core.ir.result import GroupRecord
from stream_core.ir.workload import Workload
from stream_core.reductions import Lowered, lower_split_reductions
from stream_core.tiling import NodeTiling

EFFORTS = ("fast", "normal", "high")
OBJECTIVES = ("latency", "energy", "edp")
#: Seconds per solve while scoring a candidate (at most the run's ``--time-limit``).
SEARCH_TIME_LIMIT = 5.0
#: A group's ``status`` (TETRA's group stats) when its solve stopped at the time limit: with a solution
#: not proven optimal, or with none (the heuristic allocation).
STOPPED = ("feasible", "heuristic")


def _node_dict(nodes: Mapping[str, NodeMapping]) -> dict[str, NodeMapping]:
    return dict(nodes)


def _group_tuple(groups: Iterable[FusedGroup]) -> tuple[FusedGroup, ...]:
    return tuple(groups)


@attrs.frozen
class Candidate:
    """One way to map a seed group: its node mappings and the group(s) replacing it."""

    label: str
    nodes: dict[str, NodeMapping] = attrs.field(converter=_node_dict)
    groups: tuple[FusedGroup, ...] = attrs.field(converter=_group_tuple)

    @property
    def key(self) -> str:
        text = repr((sorted(self.nodes.items()), [(g.nodes, g.tiles, g.derived) for g in self.groups]))
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@attrs.frozen
class Score:
    latency: int
    energy: float
    #: a solve stopped at its time limit (:data:`STOPPED`): another run may score it otherwise
    stopped: bool = False

    def rank(self, objective: str) -> tuple[float, float]:
        if objective == "energy":
            return (self.energy, self.latency)
        if objective == "edp":
            return (self.energy * self.latency, self.latency)
        return (self.latency, self.energy)


@attrs.frozen
class Choice:
    """The winner of one seed group, its score and the seed's, and what the search did."""

    candidate: Candidate
    score: Score | None
    seed: Score | None
    tried: int
    scheduled: int
    pruned: int
    #: scheduled candidates whose solve stopped at ``time_limit`` seconds (:attr:`Score.stopped`)
    stopped: int = 0
    time_limit: float = SEARCH_TIME_LIMIT
    #: the scheduled candidate with the least energy, when it is neither the winner nor the seed
    thriftiest: tuple[str, Score] | None = None
    #: the fastest candidate ``fused.energy_tolerance`` turned down, when faster than the winner
    dearer: tuple[str, Score] | None = None
    #: the energy tolerance that applied (``None``: none did)
    energy_tolerance: float | None = None

    def note(self, name: str) -> str:
        """One sentence for the mapping notes."""
        did = f"{self.tried} candidates, {self.scheduled} scheduled, {self.pruned} pruned by the lower bound"
        if self.score is None:
            chose = "kept the mapper's own mapping"
        elif self.seed is None:
            chose = (
                f"chose {self.candidate.label}: {self.score.latency:,} cycles and {self.score.energy:,.0f} pJ "
                "(the mapper's own mapping could not be scheduled, so no energy tolerance applied)"
            )
        elif self.candidate.label == "seed":
            chose = f"kept the mapper's own mapping ({self.seed.latency:,} cycles)"
        else:
            chose = (
                f"chose {self.candidate.label}: {self.score.latency:,} cycles and {self.score.energy:,.0f} pJ, "
                f"against {self.seed.latency:,} and {self.seed.energy:,.0f} for the mapper's own"
            )
        if self.thriftiest is not None:
            label, least = self.thriftiest
            chose += f"; least energy of those scheduled: {label}, {least.latency:,} cycles and {least.energy:,.0f} pJ"
        if self.dearer is not None and self.seed is not None:
            label, fast = self.dearer
            extra = f" ({fast.energy / self.seed.energy - 1:+.1%})" if self.seed.energy else ""
            chose += (
                f"; turned down by fused.energy_tolerance ({self.energy_tolerance:.4g} of the mapper's own energy): "
                f"{label}, {fast.latency:,} cycles and {fast.energy:,.0f} pJ{extra}"
            )
        if self.stopped:
            chose += (
                f" ({self.stopped} of the scheduled candidates' solves stopped at the {self.time_limit:g} s time "
                "limit: this choice can depend on the machine's load)"
            )
        return f"{name}: {did}; {chose}"


class Scorer:
    """Schedules candidates alone with the run's allocator and remembers their scores (by content)."""

    def __init__(
        self, workload: Workload, accelerator: Accelerator, base: Mapping[str, NodeMapping], context: RunContext
    ):
        self.workload, self.accelerator, self.base = workload, accelerator, dict(base)
        self.time_limit = min(context.options.solve_seconds, SEARCH_TIME_LIMIT)
        options = attrs.evolve(context.options, time_limit=self.time_limit)
        self.context = _Quiet(context.plugins, options, Progress(), [], context.accelerator)
        registry = context.plugins.registry("allocators")
        record = registry.get(context.options.allocator) if context.options.allocator else registry.default()
        self.allocator = record.name if record is not None else None
        self.costs: dict[str, CostResult] = {}
        self._lowered: dict[str, Lowered] = {}
        self.scores: dict[str, Score | None] = {}

    def lowered(self, candidate: Candidate) -> Lowered:
        """The run's workload and ``candidate``'s mapping with its split reductions made explicit."""
        if candidate.key not in self._lowered:
            mapping = RunMapping({**self.base, **candidate.nodes}, candidate.groups)
            self._lowered[candidate.key] = lower_split_reductions(self.workload, mapping)
        return self._lowered[candidate.key]

    def tilings(self, candidate: Candidate) -> dict[str, NodeTiling]:
        lowered = self.lowered(candidate)
        workload, mapping = lowered.workload, lowered.mapping
        return {
            name: NodeTiling(workload.node(name), mapping[name], group.tile_sizes(name))
            for group in mapping.groups
            for name in group.nodes
        }

    def problem(self, candidate: Candidate) -> AllocationProblem:
        lowered, tilings = self.lowered(candidate), self.tilings(candidate)
        table = CostTable()
        for name, tiling in tilings.items():
            for shape, core, request in _requests(tiling, self.accelerator):
                table.add(name, core, shape, self.costs[request.key])
        return AllocationProblem(lowered.workload, self.accelerator, lowered.mapping, tilings, table)

    def cost(self, candidates: Iterable[Candidate]) -> None:
        """Cost every tile of ``candidates`` not costed yet, in one batch."""
        wanted: dict[str, CostRequest] = {}
        for candidate in candidates:
            for tiling in self.tilings(candidate).values():
                for _, _, request in _requests(tiling, self.accelerator):
                    if request.key not in self.costs:
                        wanted.setdefault(request.key, request)
        if wanted:
            self.costs.update(zip(wanted, cost_tiles(list(wanted.values()), self.context), strict=True))

    def bound(self, candidate: Candidate) -> int:
        problem = self.problem(candidate)
        seen: set[str] = set()
        return sum(group_bound(problem, group, seen).cycles for group in problem.mapping.groups)

    def score(self, candidate: Candidate) -> Score | None:
        """``candidate``'s groups scheduled alone; ``None`` when they cannot run."""
        if candidate.key not in self.scores:
            self.scores[candidate.key] = self._schedule(candidate)
        return self.scores[candidate.key]

    def _schedule(self, candidate: Candidate) -> Score | None:
        problem = self.problem(candidate)
        if self.allocator is None or not _runnable(problem):
            return None
        try:
            result = self.context.plugins.load("allocators", self.allocator).allocate(problem, self.context)
        except StreamError:
            return None
        return Score(result.totals.latency, result.totals.energy_pj, stopped(result.groups))


def choose(
    candidates: Sequence[Candidate],
    scorer: Scorer,
    objective: str,
    cap: Callable[[int], int] = int,
    energy_tolerance: float | None = None,
) -> Choice:
    """The best of ``candidates`` (the first is the seed; see the module docstring); ``cap``: the longest
    latency counting as equally fast as a given one (the default: none but itself); ``energy_tolerance``:
    with the latency objective, the most energy over the seed's, as a fraction, a candidate may use to
    compete (``None``: no limit)."""
    scorer.cost(candidates)
    seed = scorer.score(candidates[0])
    budget = math.inf
    if objective == "latency" and energy_tolerance is not None and seed is not None and math.isfinite(seed.energy):
        budget = seed.energy * (1 + energy_tolerance)
    scored: list[tuple[tuple[float, float], int, Candidate, Score]] = []
    if seed is not None:
        scored.append((seed.rank(objective), 0, candidates[0], seed))
    pruned = 0
    for index, candidate in enumerate(candidates[1:], 1):
        best = min((s.latency for *_, s in scored if s.energy <= budget), default=None)
        if objective == "latency" and best is not None and scorer.bound(candidate) > cap(best):
            pruned += 1
        elif (score := scorer.score(candidate)) is not None:
            scored.append((score.rank(objective), index, candidate, score))
    stopped = sum(s.stopped for *_, s in scored)
    counts = (len(candidates), len(scored), pruned, stopped, scorer.time_limit)
    if not scored:
        return Choice(candidates[0], None, seed, *counts)
    ranked = scored
    if objective == "latency":
        competing = [entry for entry in scored if entry[3].energy <= budget]
        limit = cap(min(s.latency for *_, s in competing))
        ranked = [(s.rank("energy"), index, c, s) for _, index, c, s in competing if s.latency <= limit]
    *_, winner, score = min(ranked, key=lambda s: s[:2])
    *_, cheap, least = min(scored, key=lambda s: (s[3].rank("energy"), s[1]))
    thriftiest = None if cheap in (winner, candidates[0]) else (cheap.label, least)
    dearer = None
    if turned_down := [e for e in scored if e[3].energy > budget and e[3].latency < score.latency]:
        *_, fast, faster = min(turned_down, key=lambda e: (e[3].latency, e[1]))
        dearer = (fast.label, faster)
    tolerance = energy_tolerance if budget < math.inf else None
    return Choice(winner, score, seed, *counts, thriftiest=thriftiest, dearer=dearer, energy_tolerance=tolerance)


def stopped(groups: Iterable[GroupRecord]) -> bool:
    """Whether a group's solve stopped at its time limit (its ``status`` one of :data:`STOPPED`)."""
    return any(dict(g.stats).get("status") in STOPPED for g in groups)


class _Quiet(RunContext):
    """A candidate's run context: its warnings are not the run's, so they are neither kept nor logged."""

    def warn(self, message: str) -> None:
        pass


def _requests(tiling: NodeTiling, accelerator: Accelerator) -> list[tuple[tuple[int, ...], int, CostRequest]]:
    """``(shape, core, request)`` for every tile shape of ``tiling`` on each of its cores."""
    mapping = tiling.mapping
    return [
        (shape, core, CostRequest(tiling.tile_node(shape), accelerator.cores[core], mapping.kernel, mapping.hints))
        for shape in tiling.shapes()
        for core in dict.fromkeys(mapping.cores)
    ]


def _runnable(problem: AllocationProblem) -> bool:
    """Every part of a split feasible on its core, every other node on one of its candidates."""
    for name, tiling in problem.tilings.items():
        shapes = list(tiling.shapes())
        feasible = [problem.costs.feasible(name, core, shapes) for core in tiling.mapping.cores]
        if not (all(feasible) if tiling.parts > 1 else any(feasible)):
            return False
    return True
