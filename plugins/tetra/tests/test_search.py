"""The fused mapper's mapping search (``fused.effort``): it finds a better tiling than the mapper's own."""

from __future__ import annotations

import pytest
from stream_tetra.mapper import MapperSettings, fast_candidates, node_mapping
from tetra_helpers import core
from tetra_workloads import A, matmul

from stream_core import RunOptions, run
from stream_core.hardware import load_accelerator
from stream_core.ir import FusedGroup, LoopDim, Mapping, Node, NodeMapping, Operand, TensorSpec, Workload
from stream_core.testing import check_schedule


def relu_2d(rows: int = 8, cols: int = 8) -> Workload:
    """y[r, c] = relu(x[r, c]), int8: rows are the streaming loop."""
    tensors = {t: TensorSpec(t, (rows, cols), "int8") for t in ("x", "y")}
    node = Node(
        "relu",
        "Relu",
        [LoopDim("R", rows), LoopDim("C", cols)],
        [Operand("input", "x", 8, (A("R"), A("C"))), Operand("output", "y", 8, (A("R"), A("C")))],
    )
    return Workload("relu_2d", [node], tensors, inputs=["x"], outputs=["y"])


def searched(plugins, hardware, effort: str, **settings: str):
    """One core of 1 op/cycle and 4096 bits, DRAM on an 8 bit/cycle bus."""
    acc = hardware([core("a", rate=1)])
    options = RunOptions(settings={"fused.effort": effort, **settings})
    return run(relu_2d(), acc, plugins=plugins, options=options)


def test_search_finds_the_hand_derived_tiling(plugins, hardware):
    """x and y are 512 bits each. Whole (the mapper's own tiling: it fits in half of 4096 bits) the
    group is read (64 cycles on the bus), computed (64 points) and written (64): 192 cycles. In row
    tiles the bus streams all inputs while the core computes and then all outputs: 1024 bits at 8
    bits/cycle = 128 cycles, which is also the off-chip lower bound, so no tiling can do better."""
    fast = searched(plugins, hardware, "fast")
    assert fast.problem.mapping.groups[0].tiles == ()
    assert fast.result.totals.latency == 192
    best = searched(plugins, hardware, "normal")
    (group,) = best.problem.mapping.groups
    assert [(n, d) for n, d, _ in group.tiles] == [("relu", "R")]
    assert best.result.totals.latency == 128 == best.result.lower_bound.cycles
    assert check_schedule(best.result, best.problem) == []
    assert any("chose tiles relu.R=" in note and "against 192" in note for note in best.problem.mapping.notes)


def test_search_is_deterministic_and_fast_keeps_the_mappers_own(plugins, hardware):
    first, second = (searched(plugins, hardware, "high") for _ in range(2))
    assert first.problem.mapping == second.problem.mapping
    assert first.result.totals.latency == second.result.totals.latency
    assert not any(n.startswith("mapping search") for n in searched(plugins, hardware, "fast").problem.mapping.notes)


def test_unknown_effort_is_an_input_error(plugins, hardware):
    from stream_core.errors import InputError

    with pytest.raises(InputError, match="expected one of fast, normal, high"):
        searched(plugins, hardware, "max")


def test_fast_effort_streams_the_contraction_when_that_schedules_better(plugins, hardware):
    """matmul(1, 64, 2), int8, on one core of 300 bits (150 for tiles): the mapper's own tiling takes
    the columns to 1 and halves C to 8 (64 + 64 + 8 bits); streaming the contraction alone keeps K
    whole and halves C to 4 (32 + 64 + 16). Each is scheduled from its own mapping; the fast mapper's
    run has the shorter of the two latencies and its note names the tiling it chose."""

    def latency(tiles) -> int:
        mapping = Mapping({"mm": NodeMapping("mm", (0,))}, (FusedGroup("group_0", ("mm",), tiles),))
        outcome = run(matmul(1, 64, 2), hardware([core("a", memory_bits=300)]), mapping, plugins=plugins)
        assert check_schedule(outcome.result, outcome.problem) == []
        return outcome.result.totals.latency

    rows, contraction = latency((("mm", "C", 8), ("mm", "K", 1))), latency((("mm", "C", 4),))
    assert contraction < rows
    fast = run(matmul(1, 64, 2), hardware([core("a", memory_bits=300)]), plugins=plugins)
    assert fast.problem.mapping.groups[0].tiles == (("mm", "C", 4),)
    assert fast.result.totals.latency == contraction
    assert any("chose contraction streamed, tiles mm.C=4" in note for note in fast.problem.mapping.notes)


def matmul_softmax() -> Workload:
    """y = x @ w (4x4, int8), then z = softmax(y) over its columns: the softmax can split only rows."""
    tensors = {t: TensorSpec(t, (4, 4), "int8") for t in ("x", "w", "y", "z")}
    mm = matmul(4, 4, 4).node("mm")
    softmax = Node(
        "softmax",
        "Softmax",
        [LoopDim("R", 4), LoopDim("C", 4)],
        [Operand("input", "y", 8, (A("R"), A("C"))), Operand("output", "z", 8, (A("R"), A("C")))],
    )
    return Workload("mm_softmax", [mm, softmax], tensors, inputs=["x", "w"], outputs=["z"])


def test_fast_effort_splits_rows_when_a_node_could_not_split_otherwise(plugins, hardware):
    """On two cores the seed splits mm over its columns K and leaves the softmax (its columns are
    the normalised axis, its rows the streamed loop) whole on one of them; the alternative splits
    rows throughout. Both scheduled from their own mappings; the fast mapper keeps the shorter."""
    workload, acc_path = matmul_softmax(), hardware([core("a"), core("b")])
    acc = load_accelerator(acc_path, plugins)
    nodes = {n.name: node_mapping(n, acc, "homogeneous") for n in workload.nodes}
    seed = FusedGroup("group_0", ("mm", "softmax"))
    candidates = fast_candidates(workload, acc, MapperSettings(), nodes, seed)
    labels = [c.label.split(",")[0] for c in candidates]
    assert labels[:2] == ["seed", "split over rows"]
    # mm reads only the group's inputs: it keeps its split (K) while the softmax splits rows, and it
    # streams its contraction in two tiles
    assert labels[2:] == ["split over rows past the group's inputs", "first layer's contraction halved"]
    assert (candidates[2].nodes["mm"].split, candidates[2].nodes["softmax"].split) == ((("K", 2),), (("R", 2),))
    assert (nodes["mm"].split, nodes["softmax"].split) == ((("K", 2),), ())
    assert (candidates[1].nodes["mm"].split, candidates[1].nodes["softmax"].split) == ((("D", 2),), (("R", 2),))
    latencies = []
    for candidate in candidates:
        mapping = Mapping({**nodes, **candidate.nodes}, tuple(candidate.groups))
        outcome = run(workload, acc_path, mapping, plugins=plugins)
        assert check_schedule(outcome.result, outcome.problem) == []
        latencies.append(outcome.result.totals.latency)
    fast = run(workload, acc_path, plugins=plugins)
    assert fast.result.totals.latency == min(latencies)


@pytest.mark.parametrize("raw", ["-0.1", "lots", "inf"])
def test_a_bad_energy_tolerance_is_an_input_error(plugins, hardware, raw):
    from stream_core.errors import InputError

    with pytest.raises(InputError, match=r"fused.energy_tolerance.*expected a fraction >= 0 \(0.05: 5 %\) or none"):
        searched(plugins, hardware, "fast", **{"fused.energy_tolerance": raw})


def test_energy_tolerance_defaults_to_a_quarter_percent_and_none_is_no_limit(plugins):
    from stream_core.context import RunContext

    def tolerance(**settings: str) -> float | None:
        return MapperSettings.from_context(RunContext(plugins, RunOptions(settings=settings))).energy_tolerance

    assert tolerance() == 0.0025
    assert tolerance(**{"fused.energy_tolerance": "None"}) is None
    assert tolerance(**{"fused.energy_tolerance": "0.1"}) == 0.1
