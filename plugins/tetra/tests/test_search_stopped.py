"""A mapping choice resting on a solve stopped at its time limit says so: with more time (a less
loaded machine) that candidate may score otherwise and another may win."""

from __future__ import annotations

from stream_tetra.search import Candidate, Score, choose, stopped

from stream_core.ir.result import GroupRecord


class HandScores:
    """A scorer whose candidates' schedules are given by hand (by label); no lower bound prunes."""

    def __init__(self, scores: dict[str, Score], time_limit: float):
        self.scores, self.time_limit = scores, time_limit

    def cost(self, candidates) -> None:
        pass

    def bound(self, candidate: Candidate) -> int:
        return 0

    def score(self, candidate: Candidate) -> Score:
        return self.scores[candidate.label]


def _candidates(*labels: str) -> list[Candidate]:
    return [Candidate(label, {}, []) for label in labels]


def test_a_group_stopped_at_its_time_limit_is_recognised():
    """TETRA's group status ``feasible`` (a solution, gap open) and ``heuristic`` (no solution) mean the
    solve hit its limit; ``optimal`` and a record without a status (greedy's) do not."""

    def record(**stats) -> GroupRecord:
        return GroupRecord("group_0", 0, 10, "tetra", stats)

    assert stopped([record(status="optimal"), record(status="feasible")])
    assert stopped([record(status="heuristic")])
    assert not stopped([record(status="optimal"), record()])


def test_the_note_says_when_a_scheduled_candidate_stopped_at_the_limit():
    """Seed 100 cycles (proven), ``a`` 90 cycles but its solve stopped at 5 s: ``a`` wins, and the note
    counts one stopped solve and names the limit."""
    scorer = HandScores({"seed": Score(100, 10.0), "a": Score(90, 12.0, stopped=True)}, time_limit=5.0)
    choice = choose(_candidates("seed", "a"), scorer, "latency")
    assert (choice.candidate.label, choice.stopped, choice.time_limit) == ("a", 1, 5.0)
    note = choice.note("group_0")
    assert note.endswith(
        "(1 of the scheduled candidates' solves stopped at the 5 s time limit: this choice can depend on the "
        "machine's load)"
    )


def test_no_stopped_solve_no_caveat():
    """Both solves proven: the note is the plain choice."""
    scorer = HandScores({"seed": Score(100, 10.0), "a": Score(90, 12.0)}, time_limit=5.0)
    choice = choose(_candidates("seed", "a"), scorer, "latency")
    note = choice.note("group_0")
    assert choice.stopped == 0
    assert note == (
        "group_0: 2 candidates, 2 scheduled, 0 pruned by the lower bound; chose a: 90 cycles and 12 pJ, "
        "against 100 and 10 for the mapper's own"
    )


def test_the_note_names_a_cheaper_candidate_than_the_winner():
    """``a`` wins on latency; ``b`` takes 5 % longer for less energy than both ``a`` and the seed: the note
    names it, so a user sees the trade the latency objective made. When the seed is the cheapest the note
    already shows it (the "against" part) and adds nothing."""
    scores = {"seed": Score(100, 10.0), "a": Score(90, 12.0), "b": Score(95, 9.0)}
    note = choose(_candidates("seed", "a", "b"), HandScores(scores, 5.0), "latency").note("group_0")
    assert note == (
        "group_0: 3 candidates, 3 scheduled, 0 pruned by the lower bound; chose a: 90 cycles and 12 pJ, "
        "against 100 and 10 for the mapper's own; least energy of those scheduled: b, 95 cycles and 9 pJ"
    )
    scores["b"] = Score(95, 11.0)
    note = choose(_candidates("seed", "a", "b"), HandScores(scores, 5.0), "latency").note("group_0")
    assert note.endswith("against 100 and 10 for the mapper's own")
