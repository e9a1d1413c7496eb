"""The mapping search's choice under TETRA's latency cap: within ``tetra.latency_tolerance`` of the
shortest candidate, the one using the least energy wins."""

from __future__ import annotations

import math

from stream_tetra.search import Candidate, Score, choose
from stream_tetra.settings import TetraSettings


class _Scores:
    """A scorer whose candidates' schedules and lower bounds are given by hand (by label)."""

    time_limit = 5.0

    def __init__(self, scores: dict[str, Score], bounds: dict[str, int]):
        self.scores, self.bounds, self.scheduled = scores, bounds, []

    def cost(self, candidates) -> None:
        pass

    def bound(self, candidate: Candidate) -> int:
        return self.bounds[candidate.label]

    def score(self, candidate: Candidate) -> Score:
        self.scheduled.append(candidate.label)
        return self.scores[candidate.label]


def _candidates(*labels: str) -> list[Candidate]:
    return [Candidate(label, {}, []) for label in labels]


def test_within_the_cap_the_least_energy_wins():
    """Shortest 100 cycles; 2 % makes the cap floor(102.0) = 102. The 101-cycle candidate (5 pJ) is as
    fast as the seed (10 pJ) and cheaper, so it wins; the 103-cycle one (1 pJ) is beyond the cap. With no
    tolerance the shortest wins, as before."""
    scores = {"seed": Score(100, 10.0), "a": Score(101, 5.0), "b": Score(103, 1.0)}
    scorer = _Scores(scores, {"seed": 0, "a": 0, "b": 0})
    cap = TetraSettings(latency_tolerance=0.02).latency_cap
    assert cap(100) == 102
    assert choose(_candidates("seed", "a", "b"), scorer, "latency", cap).candidate.label == "a"
    assert choose(_candidates("seed", "a", "b"), scorer, "latency").candidate.label == "seed"
    none = TetraSettings(latency_tolerance=0).latency_cap
    assert choose(_candidates("seed", "a", "b"), scorer, "latency", none).candidate.label == "seed"


def test_a_candidate_is_pruned_only_when_its_bound_is_above_the_cap():
    """After the seed's 100 cycles the cap is 102: a bound of 102 may still be within it (scheduled), 103
    may not (pruned)."""
    scores = {"seed": Score(100, 10.0), "near": Score(102, 9.0), "far": Score(103, 1.0)}
    scorer = _Scores(scores, {"seed": 0, "near": 102, "far": 103})
    choice = choose(_candidates("seed", "near", "far"), scorer, "latency", TetraSettings().latency_cap)
    assert scorer.scheduled[:2] == ["seed", "near"] and "far" not in scorer.scheduled
    assert (choice.candidate.label, choice.scheduled, choice.pruned) == ("near", 2, 1)


def test_a_faster_candidate_using_more_energy_than_the_tolerance_does_not_compete():
    """Seed 100 cycles at 10 pJ. ``dear`` takes 80 cycles at 11 pJ (+10 %), ``frugal`` 90 at 10.1 (+1 %).
    At 2 % only the seed and ``frugal`` compete and ``frugal`` is the shorter; the note names
    ``dear`` and its extra energy. With no tolerance (``None``) or one of 15 %, ``dear`` wins."""
    scores = {"seed": Score(100, 10.0), "dear": Score(80, 11.0), "frugal": Score(90, 10.1)}
    scorer = _Scores(scores, {"seed": 0, "dear": 0, "frugal": 0})
    choice = choose(_candidates("seed", "dear", "frugal"), scorer, "latency", energy_tolerance=0.02)
    assert choice.candidate.label == "frugal"
    assert choice.dearer == ("dear", Score(80, 11.0))
    assert choice.note("group_0").endswith(
        "turned down by fused.energy_tolerance (0.02 of the mapper's own energy): dear, 80 cycles and 11 pJ (+10.0%)"
    )
    assert choose(_candidates("seed", "dear", "frugal"), scorer, "latency").candidate.label == "dear"
    assert choose(_candidates("seed", "dear", "frugal"), scorer, "latency", energy_tolerance=0.15).dearer is None
    assert choose(_candidates("seed", "dear", "frugal"), scorer, "latency", energy_tolerance=0.15).candidate.label == (
        "dear"
    )
    # the energy objective has no budget: the least energy wins
    assert choose(_candidates("seed", "dear", "frugal"), scorer, "energy", energy_tolerance=0.02).dearer is None


def test_only_a_competing_latency_prunes():
    """``dear`` (50 cycles, twice the seed's energy) is turned down, so its latency must not prune
    ``frugal`` (bound 60, above the cap of 50 but not of the seed's 100): ``frugal`` is scheduled and wins.
    Without a tolerance ``dear`` competes, prunes ``frugal`` and wins."""
    scores = {"seed": Score(100, 10.0), "dear": Score(50, 20.0), "frugal": Score(90, 10.0)}
    scorer = _Scores(scores, {"seed": 0, "dear": 0, "frugal": 60})
    cap = TetraSettings().latency_cap
    choice = choose(_candidates("seed", "dear", "frugal"), scorer, "latency", cap, 0.02)
    assert (choice.candidate.label, choice.scheduled, choice.pruned) == ("frugal", 3, 0)
    choice = choose(_candidates("seed", "dear", "frugal"), _Scores(scores, scorer.bounds), "latency", cap)
    assert (choice.candidate.label, choice.scheduled, choice.pruned) == ("dear", 2, 1)


def test_without_a_scheduled_seed_no_tolerance_applies_and_the_note_says_so():
    """The seed cannot be scheduled: there is no energy to measure the others against, so the fastest
    wins (``a``, 80 cycles, though five times ``b``'s energy) and the note says why; a seed whose energy
    is not a number sets no budget either (no error)."""
    scores = {"seed": None, "a": Score(80, 50.0), "b": Score(90, 10.0)}
    choice = choose(_candidates("seed", "a", "b"), _Scores(scores, {"a": 0, "b": 0}), "latency", energy_tolerance=0.02)
    assert (choice.candidate.label, choice.energy_tolerance, choice.dearer) == ("a", None, None)
    assert choice.note("group_0") == (
        "group_0: 3 candidates, 2 scheduled, 0 pruned by the lower bound; chose a: 80 cycles and 50 pJ (the "
        "mapper's own mapping could not be scheduled, so no energy tolerance applied); least energy of those "
        "scheduled: b, 90 cycles and 10 pJ"
    )
    scores["seed"] = Score(100, math.nan)
    choice = choose(_candidates("seed", "a", "b"), _Scores(scores, {"a": 0, "b": 0}), "latency", energy_tolerance=0.02)
    assert (choice.candidate.label, choice.energy_tolerance) == ("a", None)
