"""The mapping search's choice under TETRA's latency cap: within ``tetra.latency_tolerance`` of the
shortest candidate, the one using the least energy wins."""

from __future__ import annotations

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
