"""A contraction split over cores: the fused mapper's candidate (contraction_splits) and the mapping file
written in the workload's own terms (the parts and adds made by stream_core.reductions left out)."""

from __future__ import annotations

import pytest
import yaml
from stream_tetra.mapper import contraction_splits
from test_group_alternatives import alternatives
from tetra_helpers import core
from tetra_workloads import A, matmul

from stream_core import run
from stream_core.hardware import load_accelerator
from stream_core.ir import LoopDim, Node, NodeMapping, Operand, TensorSpec, Workload
from stream_core.testing import check_schedule


def relu_then_matmul() -> Workload:
    """x (4 x 8) -> relu -> h -> h @ w (8 x 6) -> y: the product reduces over h's columns."""
    tensors = {
        "x": TensorSpec("x", (4, 8), "int8"),
        "h": TensorSpec("h", (4, 8), "int8"),
        "w": TensorSpec("w", (8, 6), "int8"),
        "y": TensorSpec("y", (4, 6), "int8"),
    }
    rows = (A("D"), A("C"))
    relu = Node(
        "relu",
        "Relu",
        [LoopDim("D", 4), LoopDim("C", 8)],
        [Operand("input", "x", 8, rows), Operand("output", "h", 8, rows)],
    )
    mm = Node(
        "mm",
        "Gemm",
        [LoopDim("D", 4), LoopDim("C", 8), LoopDim("K", 6)],
        [
            Operand("input", "h", 8, rows),
            Operand("weight", "w", 8, (A("C"), A("K"))),
            Operand("output", "y", 8, (A("D"), A("K"))),
        ],
        mac_op=True,
    )
    return Workload("relu_mm", [relu, mm], tensors, inputs=["x", "w"], outputs=["y"])


def test_a_product_splits_its_contraction_as_its_producer_splits_the_columns(plugins, hardware):
    """The relu streams rows D and splits its columns C over the two cores; the seed splits mm's output
    columns K. The candidate splits mm's contraction C by 2 on the relu's cores instead, so each core
    reduces over the columns it made; a second candidate also halves mm's columns K (3 of 6)."""
    acc = load_accelerator(hardware([core("a"), core("b")]), plugins)
    found = alternatives(contraction_splits, relu_then_matmul(), acc)
    assert [c.nodes["mm"] for c in found] == [NodeMapping("mm", (0, 1), (("C", 2),))] * 2
    assert [c.nodes["relu"].split for c in found] == [(("C", 2),)] * 2
    assert ("mm", "K", 3) in found[1].groups[0].tiles and ("mm", "K", 3) not in found[0].groups[0].tiles


def test_no_candidate_without_a_producer_split_along_the_contraction(plugins, hardware):
    acc = load_accelerator(hardware([core("a")]), plugins)
    assert alternatives(contraction_splits, relu_then_matmul(), acc) == []


def test_the_mapping_file_states_the_split_as_given_and_reruns_the_same(plugins, hardware, write_mapping, tmp_path):
    """mm's contraction C split over two cores runs as two parts and an add (TETRA): part1's partial
    sums (4 x 6 int8) move to core 0 once, and that move's memory energy and the add's tiles are the
    parts Stream does not count. The mapping.yaml written names mm with its split of D1 (C) by 2, and
    fed back it gives the same schedule."""
    acc = hardware([core("a"), core("b")])
    given = write_mapping(
        {"layers": [{"name": "mm", "core_allocation": [[0, 1]], "inter_core_tiling": [[{"dim": "D1", "split": 2}]]}]}
    )
    first = run(matmul(4, 8, 6), acc, given, plugins=plugins, output=tmp_path / "out")
    assert {t.node for t in first.result.tiles} == {"mm.part0", "mm.part1", "mm.add0"}
    assert check_schedule(first.result, first.problem) == []
    moved = [t for t in first.result.transfers if t.tensor in first.problem.workload.partial_sum_tensors]
    assert [(t.tensor, t.src, t.dst, t.bits) for t in moved] == [("y.part1", 1, 0, 192)]
    cores = first.problem.accelerator.cores
    memory = 192 * (cores[1].summary.read_energy("output") + cores[0].summary.write_energy("input"))
    adds = sum(t.energy_pj for t in first.result.tiles if t.node == "mm.add0")
    assert memory > 0 and first.result.totals.energy_not_in_stream_pj == {
        "split_reduction_adds": pytest.approx(adds),
        "split_reduction_partials": pytest.approx(memory),
    }
    written = yaml.safe_load((tmp_path / "out" / "mapping.yaml").read_text())
    assert [(layer["name"], layer["inter_core_tiling"]) for layer in written["layers"]] == [
        ("mm", [[{"dim": "D1", "split": 2}]])
    ]
    again = run(matmul(4, 8, 6), acc, tmp_path / "out" / "mapping.yaml", plugins=plugins)
    assert again.result.totals.latency == first.result.totals.latency
    assert again.result.totals.energy_pj == pytest.approx(first.result.totals.energy_pj)
