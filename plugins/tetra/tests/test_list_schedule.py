"""The list schedule and the mode refinement that go past the uniform iteration interval.

Refinement is checked against scores given here (which mode is better is ours to say), and the
whole allocator against the greedy list scheduler of the core on the same fused mapping.
"""

from __future__ import annotations

import pytest
from stream_tetra.refine import refine
from stream_tetra.settings import TetraSettings
from stream_tetra.steady import build_steady
from test_steady_state import MAPPING, problem
from tetra_helpers import EXAMPLES, core
from tetra_workloads import two_conv

from stream_core import RunOptions, run
from stream_core.ir.lp import Model
from stream_core.testing import check_schedule

WEIGHTS = "input:conv1:w1#1"


@pytest.fixture
def steady(plugins, hardware, write_mapping):
    p = problem(plugins, two_conv(), hardware([core("a"), core("b")]), write_mapping(MAPPING))
    return build_steady(p, p.mapping.groups[0], TetraSettings())


def start(steady) -> tuple[dict[str, int], Model, dict[str, list[int]]]:
    """All modes 0, and one binary per mode of every activity with several (as the MILP has)."""
    model = Model("t")
    mode_vars = {
        a.key: [model.add_binary(f"{a.key}#{m.index}").index for m in a.modes]
        for a in steady.activities
        if len(a.modes) > 1
    }
    return {a.key: 0 for a in steady.activities}, model, mode_vars


def levels(steady, key: str) -> list[int]:
    return [m.level.level for m in steady.activity(key).modes]


def test_the_weight_modes_are_the_stop_levels(steady):
    """conv1's weights: one tile per row step (level -1) or the whole OY loop (level 0, one firing)."""
    assert levels(steady, WEIGHTS) == [-1, 0]
    assert [len(m.firings) for m in steady.activity(WEIGHTS).modes] == [4, 1]


def test_refinement_takes_the_mode_that_shortens_the_schedule(steady):
    choices, _, mode_vars = start(steady)
    score = {0: 100, 1: 90}  # weights at level 0 realise 90 cycles, at level -1 100
    refined = refine(steady, choices, mode_vars, [], lambda c: score[c[WEIGHTS]], lambda k, m: 0, 10**6)
    assert refined.choices[WEIGHTS] == 1
    # conv2's weights move too, on the third level: one firing needs one buffered tile, not a
    # double-buffered pair
    assert refined.choices["input:conv2:w2#1"] == 1 and refined.moves == 2


def test_on_equal_latency_less_offchip_traffic_wins(steady):
    choices, _, mode_vars = start(steady)

    def traffic(key: str, mode: int) -> int:
        return (1000 if mode == 0 else 10) if key == WEIGHTS else 0

    refined = refine(steady, choices, mode_vars, [], lambda c: 50, traffic, 10**6)
    assert refined.choices[WEIGHTS] == 1


def test_refinement_keeps_family_rows(steady):
    """A memory row that forbids level 0 of the weights (over mode variables only) keeps level -1."""
    choices, model, mode_vars = start(steady)
    row = model.add(Model.sum([model.vars[mode_vars[WEIGHTS][1]]]) <= 0, name="memory")
    refined = refine(steady, choices, mode_vars, [row], lambda c: 90 if c[WEIGHTS] == 1 else 100, lambda k, m: 0, 10**6)
    assert refined.choices[WEIGHTS] == 0


def test_rows_with_other_variables_lock_their_activities(steady):
    """A row that also involves a non-mode variable cannot be checked on modes alone: the weights
    stay as the solver chose, even though the score would prefer level 0."""
    choices, model, mode_vars = start(steady)
    dma = model.add_integer("dma", 0, 8)
    row = model.add(Model.sum([model.vars[mode_vars[WEIGHTS][1]], dma]) <= 8, name="dma")
    refined = refine(steady, choices, mode_vars, [row], lambda c: 90 if c[WEIGHTS] == 1 else 100, lambda k, m: 0, 10**6)
    assert refined.choices[WEIGHTS] == 0


def test_no_budget_no_trials(steady):
    choices, _, mode_vars = start(steady)
    refined = refine(steady, choices, mode_vars, [], lambda c: 90 if c[WEIGHTS] == 1 else 100, lambda k, m: 0, 0)
    assert (refined.choices, refined.moves, refined.evaluated) == (choices, 0, 0)


def test_transformer_mlp_list_schedule_spaces_only_weight_iterations_and_the_shorter_schedule_wins():
    """The transformer MLP on the quad core: in TETRA's model FC1 and FC2 each fetch a 98,304-cycle
    weight block per step over the shared bus in 192 of the ~523 iterations. The uniform interval must
    hold both blocks (II ~ 2 x 98,304) in every iteration; the list schedule spaces only the iterations
    that carry them, so it is far shorter, within 10 % of the bus time of both weight streams. The core's
    greedy list scheduler, on the same fused mapping and costs, keeps a received weight block for the
    later steps that read it, so it goes below that bus time; TETRA then realises greedy's schedule and
    says so (the best schedule wins)."""
    hardware = EXAMPLES / "hardware" / "tpu_like_quad_core.yaml"
    workload = EXAMPLES / "workloads" / "transformer_mlp.onnx"
    base = {"cost_model": "roofline", "use_cache": False, "mapper": "fused"}
    tetra = run(workload, hardware, options=RunOptions(**base))
    greedy = run(workload, hardware, options=RunOptions(**base, allocator="greedy"))
    stats = dict(tetra.result.groups[0].stats)
    schedules = stats["schedules"]
    bus_bound = 2 * 192 * 98_304  # both weight streams, back to back on the bus
    assert bus_bound <= schedules["list"] < 1.1 * bus_bound < schedules["uniform"]
    assert schedules["greedy"] == greedy.result.totals.latency < bus_bound
    assert stats["schedule"] == "greedy" and tetra.result.totals.latency == greedy.result.totals.latency
    assert check_schedule(tetra.result, tetra.problem) == []


def test_a_trial_its_floor_rules_out_is_not_realised_but_counts(steady):
    """The solver's weights mode realises 90 cycles; the other mode's floor is 95 (no schedule of it can
    be shorter), so it is never realised, yet it counts as evaluated: the same trials as without a floor."""
    choices, _, mode_vars = start(steady)
    realised: list[int] = []

    def latency(c: dict[str, int]) -> int:
        realised.append(c[WEIGHTS])
        return 90 if c[WEIGHTS] == choices[WEIGHTS] else 100

    def floor(c: dict[str, int]) -> int:
        return 80 if c[WEIGHTS] == choices[WEIGHTS] else 95

    other = 1 - choices[WEIGHTS]
    plain = refine(steady, choices, mode_vars, [], latency, lambda k, m: 0, 10**6)
    assert other in realised
    realised.clear()
    floored = refine(steady, choices, mode_vars, [], latency, lambda k, m: 0, 10**6, floor)
    assert floored.choices == plain.choices and floored.evaluated == plain.evaluated
    assert other not in realised
