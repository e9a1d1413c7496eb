"""Solver agreement and the time limit.

``tiled_pair``: conv1 -> conv2 (3x3, 2 -> 2 -> 2 channels, 4x4, int8) tiled one row per iteration,
conv1 on core 0, conv2 on candidate cores 1 or 2 (the MILP chooses), inputs from DRAM over one bus.
"""

from __future__ import annotations

import importlib.util

import pytest
from stream_tetra.allocator import SolveLimitError
from tetra_helpers import EXAMPLES, core
from tetra_workloads import relu_chain, two_conv

from stream_core import RunOptions, hookimpl, run
from stream_core.errors import InputError
from stream_core.records import SolverRecord
from stream_core.testing import check_schedule

MAPPING = {
    "layers": [{"name": "conv1", "core_allocation": [[0]]}, {"name": "conv2", "core_allocation": [[1, 2]]}],
    "fused_groups": [
        {
            "name": "g",
            "layers": ["conv1", "conv2"],
            "intra_core_tiling": [{"dim": "conv1.D2", "tile": 1}, {"dim": "conv2.D2", "tile": 1}],
        }
    ],
}


def _gurobi_usable() -> bool:
    if importlib.util.find_spec("gurobipy") is None:
        return False
    try:
        import gurobipy

        gurobipy.Model().dispose()
    except Exception:
        return False
    return True


SOLVERS = ["gscip", "highs", *(["gurobi"] if _gurobi_usable() else [])]


@pytest.fixture
def tiled_pair(plugins, hardware, write_mapping):
    links = [
        {"type": "link", "cores": [0, 1], "bandwidth": 16},
        {"type": "link", "cores": [0, 2], "bandwidth": 4},
        {"type": "bus", "cores": [0, 1, 2, 3], "bandwidth": 8},
    ]
    acc = hardware([core("a"), core("b", rate=2), core("c", rate=8)], links)
    return two_conv(), acc, write_mapping(MAPPING)


@pytest.mark.parametrize("solver", SOLVERS)
def test_solvers_agree_on_the_latency(plugins, tiled_pair, solver):
    """Every backend reaches the same optimal latency (and so the same realised schedule length) when
    latency comes first (with a latency tolerance any latency within it is optimal)."""
    workload, acc, mapping = tiled_pair
    first = {"tetra.latency_tolerance": 0}
    reference = run(workload, acc, mapping, plugins=plugins, options=RunOptions(solver="gscip", settings=first)).result
    outcome = run(workload, acc, mapping, plugins=plugins, options=RunOptions(solver=solver, settings=first))
    stats, ref = dict(outcome.result.groups[0].stats), dict(reference.groups[0].stats)
    assert stats["status"] == "optimal" and stats["solver"] == solver
    assert stats["milp_latency"] == ref["milp_latency"]
    assert outcome.result.totals.latency == reference.totals.latency
    assert check_schedule(outcome.result, outcome.problem) == []


@pytest.mark.parametrize("limit", [0.001, 0.3])
def test_tiny_time_limit_gives_a_valid_schedule_or_a_clear_error(plugins, limit):
    """A limit far below the ~2 s the ResNet block needs: the best solution found (with its gap),
    the heuristic allocation when the solver found none, a SolveLimitError, or the run's own limit
    passing in a stage (which of them depends on the machine's load: the mapping search's solves
    share the 0.3 s) -- never a crash."""
    options = RunOptions(cost_model="roofline", time_limit=limit)
    workload = EXAMPLES / "workloads" / "resnet_block.onnx"
    try:
        outcome = run(workload, EXAMPLES / "hardware" / "hetero_array_simd.yaml", plugins=plugins, options=options)
    except SolveLimitError as error:
        assert "raise --time-limit" in str(error)
        return
    except InputError as error:
        assert f"stage after its time limit of {limit:g} s; raise time_limit" in str(error)
        return
    stats = dict(outcome.result.groups[0].stats)
    assert stats["status"] in ("optimal", "feasible", "heuristic")
    if stats["status"] == "feasible":
        assert stats["gap"] is None or stats["gap"] >= 0
    if stats["status"] != "optimal":
        assert any("not proven optimal" in w or "heuristic" in w for w in outcome.result.warnings)
    assert check_schedule(outcome.result, outcome.problem) == []


class _GivesUp:
    name = "gives-up"

    def solve(self, model, options):
        from stream_core.ir.lp import Solution, Status

        return Solution(Status.NO_SOLUTION, self.name, message="time limit reached without a solution")


class GivesUpPlugin:
    @hookimpl
    def stream_register_solvers(self):
        yield SolverRecord(name="gives-up", description="finds nothing", factory=_GivesUp, problem_classes={"milp"})


@pytest.fixture
def candidates(plugins, hardware, write_mapping):
    """relu_0 may run on core 0 (8 ops/cycle) or core 1 (1 op/cycle); see test_allocation."""
    plugins.register(GivesUpPlugin(), name="gives-up")
    mapping = write_mapping({"layers": [{"name": "relu_0", "core_allocation": [[0, 1]]}]})
    return plugins, hardware, mapping


def test_without_a_solution_the_heuristic_allocation_is_used(candidates):
    """The heuristic takes the fastest core: 8 + 1 + 8 = 17 cycles, flagged as heuristic."""
    plugins, hardware, mapping = candidates
    acc = hardware([core("fast", rate=8), core("slow", rate=1)])
    outcome = run(relu_chain(8, 1), acc, mapping, plugins=plugins, options=RunOptions(solver="gives-up"))
    assert outcome.result.totals.latency == 17
    assert dict(outcome.result.groups[0].stats)["status"] == "heuristic"
    assert any("heuristic allocation" in w for w in outcome.result.warnings)
    assert check_schedule(outcome.result, outcome.problem) == []


def test_a_heuristic_that_does_not_fit_is_a_clear_error(candidates):
    """The fast core holds only 100 bits (< 128): the heuristic's choice does not fit."""
    plugins, hardware, mapping = candidates
    acc = hardware([core("fast", rate=8, memory_bits=100), core("slow", rate=1)])
    with pytest.raises(SolveLimitError, match=r"memory_capacity:memory\[core 0\] is violated by 28"):
        run(relu_chain(8, 1), acc, mapping, plugins=plugins, options=RunOptions(solver="gives-up"))


class _Counting:
    """Another solver (``inner``), counting its solves."""

    name = "counting"
    calls = 0
    inner = None

    def solve(self, model, options):
        type(self).calls += 1
        return self.inner.solve(model, options)


class CountingPlugin:
    @hookimpl
    def stream_register_solvers(self):
        yield SolverRecord(name="counting", description="gscip, counted", factory=_Counting, problem_classes={"milp"})


def test_an_identical_model_takes_the_answer_solved_before(candidates, monkeypatch):
    """The same group allocated twice in one process is solved once: the second run takes the first
    run's optimum (relu_0 on the fast core, 8 + 1 + 8 = 17 cycles) and says so."""
    from collections import OrderedDict

    import stream_tetra.milp

    monkeypatch.setattr(stream_tetra.milp, "_ANSWERS", OrderedDict())
    plugins, hardware, mapping = candidates
    plugins.register(CountingPlugin(), name="counting")
    monkeypatch.setattr(_Counting, "calls", 0)
    monkeypatch.setattr(_Counting, "inner", plugins.load("solvers", "gscip"))
    acc = hardware([core("fast", rate=8), core("slow", rate=1)])
    options = RunOptions(solver="counting", use_cache=False)
    first, second = (run(relu_chain(8, 1), acc, mapping, plugins=plugins, options=options) for _ in range(2))
    assert _Counting.calls == 1
    assert first.result.totals.latency == second.result.totals.latency == 17
    stats = [dict(outcome.result.groups[0].stats) for outcome in (first, second)]
    assert "solve_reused" not in stats[0] and "solve_reused" in stats[1]
    assert stats[1]["solve_seconds"] == 0 and stats[1]["status"] == stats[0]["status"] == "optimal"
    assert stats[1]["choices"] == stats[0]["choices"]
