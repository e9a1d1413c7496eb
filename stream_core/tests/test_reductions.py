"""Split reductions made explicit (stream_core.reductions): parts over slices of the reduction, adds of
their partial sums, checked against a direct computation and through a whole run."""

from __future__ import annotations

import numpy as np
import pytest

from stream_core.ir import FusedGroup, Mapping, NodeMapping
from stream_core.ir.workload import Workload
from stream_core.pipeline import run
from stream_core.reductions import lower_split_reductions, not_lowered
from stream_core.testing import check_schedule, matmul_workload


def _mapping(workload: Workload, cores: tuple[int, ...], split: tuple[tuple[str, int], ...]) -> Mapping:
    return Mapping({"mm": NodeMapping("mm", cores, split)}, [FusedGroup("g", ["mm"], [("mm", "D", 2)])])


def _evaluate(workload: Workload, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run every node of ``workload`` point by point through its affine accesses: a Gemm multiplies
    and accumulates its two reads, an Add adds them (an interpreter independent of the lowering)."""
    values = dict(values)
    for node in workload.nodes:
        out = np.zeros(workload.tensor(node.output.tensor).shape)
        for point in np.ndindex(*(loop.size for loop in node.loops)):
            at = dict(zip(node.loop_names, point, strict=True))
            a, b = (values[op.tensor][tuple(e.evaluate(at) for e in op.access)] for op in node.reads)
            index = tuple(e.evaluate(at) for e in node.output.access)
            out[index] += a * b if node.op_type == "Gemm" else a + b  # an Add visits each output once
        values[node.output.tensor] = out
    return values


def test_a_contraction_split_in_four_is_four_slices_and_a_tree_of_three_adds():
    """``y[4, 6] = a[4, 8] @ w[8, 6]`` with its contraction C split in 4 over cores 0..3: part j reads
    columns 2j..2j+1 of ``a`` and rows 2j..2j+1 of ``w`` on core j; add0 = part0 + part1 on core 0, add1 =
    part2 + part3 on core 2, add2 = add0 + add1 writes ``y`` on core 0. Their result equals ``a @ w``."""
    workload = matmul_workload(4, 8, 6)
    lowered = lower_split_reductions(workload, _mapping(workload, (0, 1, 2, 3), (("C", 4),)))
    names = [n.name for n in lowered.workload.nodes]
    assert sorted(names) == ["mm.add0", "mm.add1", "mm.add2", "mm.part0", "mm.part1", "mm.part2", "mm.part3"]
    mapping = lowered.mapping
    assert [mapping[f"mm.part{j}"].cores for j in range(4)] == [(0,), (1,), (2,), (3,)]
    assert [(mapping[f"mm.add{i}"].cores) for i in range(3)] == [(0,), (2,), (0,)]
    part2 = lowered.workload.node("mm.part2")
    assert part2.sizes == {"D": 4, "C": 2, "K": 6}
    assert [str(e) for e in part2.inputs[0].access] == ["D", "C + 4"]
    assert [str(e) for e in part2.weights[0].access] == ["C + 4", "K"]
    adds = {n.name: [op.tensor for op in n.operands] for n in lowered.workload.nodes if n.op_type == "Add"}
    assert adds == {
        "mm.add0": ["y.part0", "y.part1", "y.sum0"],
        "mm.add1": ["y.part2", "y.part3", "y.sum1"],
        "mm.add2": ["y.sum0", "y.sum1", "y"],
    }
    assert sum(n.macs for n in lowered.workload.nodes) == workload.macs
    # the group keeps its tile of D (2 rows) on every made node, in the node's place
    assert sorted(lowered.mapping.groups[0].tiles) == sorted((n, "D", 2) for n in names)
    rng = np.random.default_rng(0)
    inputs = {"a": rng.integers(-4, 5, (4, 8)), "w": rng.integers(-4, 5, (8, 6))}
    assert np.array_equal(_evaluate(lowered.workload, inputs)["y"], inputs["a"] @ inputs["w"])


def test_a_split_of_rows_and_contraction_keeps_the_row_split_on_each_slice():
    """Split D by 2 and C by 2 over cores 4..7: parts are numbered over the loops in order (D, C), so
    the slice C=0 is on cores 4 and 6 (D=0 and D=1), split over D; its add runs there too."""
    workload = matmul_workload(4, 8, 6)
    lowered = lower_split_reductions(workload, _mapping(workload, (4, 5, 6, 7), (("D", 2), ("C", 2))))
    mapping = lowered.mapping
    assert mapping["mm.part0"].cores == (4, 6) and mapping["mm.part0"].split == (("D", 2),)
    assert mapping["mm.part1"].cores == (5, 7)
    assert mapping["mm.add0"].cores == (4, 6) and mapping["mm.add0"].split == (("D", 2),)
    rng = np.random.default_rng(1)
    inputs = {"a": rng.integers(-4, 5, (4, 8)), "w": rng.integers(-4, 5, (8, 6))}
    assert np.array_equal(_evaluate(lowered.workload, inputs)["y"], inputs["a"] @ inputs["w"])


def test_no_split_reduction_leaves_the_workload_as_it_is():
    workload = matmul_workload(4, 8, 6)
    mapping = _mapping(workload, (0, 1), (("K", 2),))
    lowered = lower_split_reductions(workload, mapping)
    assert lowered.workload is workload and lowered.mapping is mapping and lowered.notes == ()


def test_a_split_it_cannot_price_is_left_with_a_note_saying_so():
    """Two parts listed on one core (a candidate set, not one core per part): the node is left as it is,
    and the note says its partial sums are not added."""
    workload = matmul_workload(4, 8, 6)
    mapping = _mapping(workload, (0,), (("C", 2),))
    assert not_lowered(workload.node("mm"), mapping["mm"]) == "its cores do not list one per part"
    lowered = lower_split_reductions(workload, mapping)
    assert lowered.workload is workload and lowered.mapping is mapping
    assert lowered.notes == (
        "mm: its split reduction is not made explicit (its cores do not list one per part): its partial sums "
        "are not added",
    )


def test_a_run_prices_the_adds_and_the_partial_sums_moved_apart(toy_plugins, toy_hardware):
    """A whole run of a contraction split over two cores (greedy): the schedule passes check_schedule;
    part1's partial sums (4 x 6 int8, 192 bits) move from core 1 to the add on core 0 once. Stream adds
    no partial sums, so the add's tiles are the ``split_reduction_adds`` part and that move's memory
    energy (read at core 1, written at core 0) the ``split_reduction_partials`` part."""
    workload = matmul_workload(4, 8, 6)
    mapping = Mapping({"mm": NodeMapping("mm", (0, 1), (("C", 2),))}, [FusedGroup("g", ["mm"])], source="test")
    outcome = run(workload, toy_hardware(n=2), mapping, plugins=toy_plugins)
    result = outcome.result
    assert check_schedule(result, outcome.problem) == []
    assert {t.node for t in result.tiles} == {"mm.part0", "mm.part1", "mm.add0"}
    partials = outcome.problem.workload.partial_sum_tensors
    assert partials == {"y.part0", "y.part1"}
    moved = [(t.tensor, t.src, t.dst, t.bits) for t in result.transfers if t.tensor in partials]
    assert moved == [("y.part1", 1, 0, 192)]
    cores = outcome.problem.accelerator.cores
    memory = 192 * (cores[1].summary.read_energy("output") + cores[0].summary.write_energy("input"))
    adds = sum(t.energy_pj for t in result.tiles if t.node == "mm.add0")
    assert adds > 0 and memory > 0
    assert result.totals.energy_not_in_stream_pj == {
        "split_reduction_adds": pytest.approx(adds),
        "split_reduction_partials": pytest.approx(memory),
    }
