"""Outputs: the mapping written back as Stream YAML, elided records, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from stream_tetra.geometry import OutputIndex, StepGrid
from stream_tetra.iteration_space import temporal_loops
from stream_tetra.mapping_yaml import write_mapping as export_mapping
from tetra_helpers import EXAMPLES, core
from tetra_workloads import matmul, relu_chain, two_conv

from stream_core import RunOptions, run
from stream_core.errors import InputError
from stream_core.hardware import load_accelerator
from stream_core.mapping_io import load_mapping
from stream_core.report import summary_dict
from stream_core.testing import check_schedule
from stream_core.tiling import NodeTiling


def test_mapping_yaml_round_trips(plugins, hardware, tmp_path):
    """The fused mapper's mapping, written as mapping.yaml, reads back to the same mapping and
    gives the same schedule when fed back with --mapping."""
    acc = hardware([core("a", memory_bits=1000), core("b", memory_bits=1000)])
    first = run(two_conv(), acc, plugins=plugins, output=tmp_path / "out")
    path = tmp_path / "out" / "mapping.yaml"
    assert path in first.files
    back = load_mapping(path, first.problem.workload, load_accelerator(acc, plugins))
    assert back.nodes == first.problem.mapping.nodes and back.groups == first.problem.mapping.groups
    again = run(two_conv(), acc, path, plugins=plugins)
    assert again.result.totals.latency == first.result.totals.latency
    assert check_schedule(first.result, first.problem) == [] and check_schedule(again.result, again.problem) == []


def test_fused_group_errors_name_group_and_field(plugins, hardware, write_mapping):
    mapping = write_mapping(
        {
            "layers": [{"name": "conv1", "core_allocation": [[0]]}, {"name": "conv2", "core_allocation": [[0]]}],
            "fused_groups": [
                {"name": "g1", "layers": ["conv1", "convX"], "intra_core_tiling": [{"dim": "conv2.D2", "tile": 1}]},
                {"name": "g2", "layers": ["conv1", "conv2"], "intra_core_tiling": [{"dim": "conv2.D2", "tile": 0}]},
            ],
        }
    )
    with pytest.raises(InputError) as error:
        run(two_conv(), hardware([core("a")]), mapping, plugins=plugins)
    found = {(p.field, p.message.split(";")[0].split(" (")[0]) for p in error.value.problems}
    assert ("fused group 'g2'.intra_core_tiling", "'tile' of 'conv2.D2' must be a positive integer, got 0") in found
    assert ("fused group 'g1'.layers", "layer 'convX' is neither a node of the workload nor an op type of one") in found
    assert ("fused group 'g1'.intra_core_tiling", "conv2.D2: node 'conv2' is not in this group") in found
    assert ("fused group 'g2'.layers", "node 'conv1' is already in fused group 'g1'") in found


def test_long_runs_record_first_and_last_iterations(plugins, hardware, write_mapping):
    """64 elements in tiles of 1 on one core: 64 iterations x 2 nodes = 128 tiles. With
    tetra.max_tiles = 20, iterations 0..9 (20 tiles) and the last iteration (63: 2 tiles) are recorded;
    totals still cover all 128 tiles (compute 128 x 0.5 pJ). The checker then reports exactly the
    106 tiles left out and the compute-energy sum, nothing else."""
    mapping = write_mapping(
        {
            "layers": [{"name": "relu_0", "core_allocation": [[0]]}, {"name": "relu_1", "core_allocation": [[0]]}],
            "fused_groups": [
                {
                    "name": "g",
                    "layers": ["relu_0", "relu_1"],
                    "intra_core_tiling": [{"dim": "relu_0.D0", "tile": 1}, {"dim": "relu_1.D0", "tile": 1}],
                }
            ],
        }
    )
    options = RunOptions(settings={"tetra.max_tiles": 20, "tetra.max_levels": 0})
    outcome = run(relu_chain(64, 2), hardware([core("a")]), mapping, plugins=plugins, options=options)
    result = outcome.result
    elided = dict(result.groups[0].stats)["elided"]
    assert elided["tiles_total"] == 128
    assert elided["recorded_iterations"][:10] == list(range(10))
    assert len(result.tiles) == elided["tiles_recorded"] == 22
    assert result.totals.compute_energy_pj == pytest.approx(128 * 0.5)
    assert result.stats["tetra"]["elided"] is True
    violations = check_schedule(result, outcome.problem)
    unexplained = [v for v in violations if "is never scheduled" not in v and not v.startswith("compute energy")]
    assert unexplained == [] and len(violations) == 128 - 22 + 1


def test_same_inputs_same_summary(plugins):
    paths = (EXAMPLES / "workloads" / "two_conv.onnx", EXAMPLES / "hardware" / "tpu_like_quad_core.yaml")
    options = RunOptions(cost_model="roofline")
    first, second = (run(*paths, plugins=plugins, options=options) for _ in range(2))

    def stable(outcome):
        data = summary_dict(outcome.result, outcome.problem.accelerator)
        data.pop("stats")
        for group in data["groups"]:
            for key in ("build_seconds", "solve_seconds"):
                group.pop(key)
            group.pop("solve_reused", None)  # the second run takes the first's answer to an identical model
        return data

    assert stable(first) == stable(second)
    assert first.result.tiles == second.result.tiles and first.result.transfers == second.result.transfers
    assert check_schedule(first.result, first.problem) == []


@pytest.mark.parametrize(("memory", "fitted"), [(1000, {("conv2", "OX"): 2}), (700, {("conv2", "OY"): 1})])
def test_mapping_yaml_restates_a_mapping_the_reader_fitted_to_memory(
    plugins, hardware, write_mapping, tmp_path, memory, fitted
):
    """conv1.D2 (OY) tiled to 2 also tiles conv2.OY to 2 (one fused axis); conv2 (8 output channels)
    still does not fit one core, so the reader tiles it further (e.g. OX to 2, or OY to 1, a cut the
    axis entry cannot state). mapping.yaml writes back the one entry written, and reading it tiles
    conv2 the same way again: the same groups, no 'cut one fused axis differently' error."""
    written = write_mapping(
        {
            "layers": [{"name": "conv1", "core_allocation": [[0]]}, {"name": "conv2", "core_allocation": [[0]]}],
            "fused_groups": [
                {"name": "g", "layers": ["conv1", "conv2"], "intra_core_tiling": [{"dim": "conv1.D2", "tile": 2}]}
            ],
        }
    )
    wl, acc = two_conv(c=1, k1=2, k2=8), load_accelerator(hardware([core("a", memory_bits=memory)]), plugins)
    mapping = load_mapping(written, wl, acc)
    tiles = {(n, d): t for n, d, t in mapping.groups[0].tiles}
    assert tiles.items() >= fitted.items() and mapping.groups[0].derived == (("conv2", "OY", 2),)
    path = export_mapping(mapping, wl, tmp_path / "back.yaml", acc)
    assert yaml.safe_load(path.read_text())["fused_groups"][0]["intra_core_tiling"] == [{"dim": "conv1.D2", "tile": 2}]
    assert load_mapping(path, wl, acc).groups == mapping.groups


def test_mapping_file_loop_order_is_streams(plugins, hardware, write_mapping, tmp_path):
    """Stream nests a group's intra_core_tiling entries with the first innermost: C (reduction), then
    D, then K outermost. mm (D, C, K) = (4, 8, 4) in tiles of 2 has 4 C-steps per output box, so
    output box b (D, K in that nest) is complete after step 4b + 3: 3, 7, 11, 15 (in loop order, K
    innermost, two boxes would finish at 6, 7, 14, 15). The schedule checks, and mapping.yaml lists
    the entries in the same order, reading back to the same nest."""
    entries = [{"dim": f"mm.D{i}", "tile": 2} for i in (1, 0, 2)]
    mapping = write_mapping(
        {
            "layers": [{"name": "mm", "core_allocation": [[0]]}],
            "fused_groups": [{"name": "g", "layers": ["mm"], "intra_core_tiling": entries}],
        }
    )
    acc = hardware([core("a", memory_bits=10**6)])
    first = run(matmul(4, 8, 4), acc, mapping, plugins=plugins, output=tmp_path / "out")
    problem = first.problem
    assert problem.mapping.nodes["mm"].loop_order == ("C", "D", "K")
    group = problem.mapping.groups[0]
    grid = StepGrid(NodeTiling(problem.workload.node("mm"), problem.mapping.nodes["mm"], group.tile_sizes("mm")))
    assert [(loop.dim, loop.size) for loop in temporal_loops(grid)] == [("C", 4), ("D", 2), ("K", 2)]
    assert OutputIndex(grid).completion_step(np.arange(4)).tolist() == [3, 7, 11, 15]
    assert check_schedule(first.result, problem) == []
    written = yaml.safe_load((tmp_path / "out" / "mapping.yaml").read_text())
    assert [e["dim"] for e in written["fused_groups"][0]["intra_core_tiling"]] == ["mm.D1", "mm.D0", "mm.D2"]
    back = load_mapping(tmp_path / "out" / "mapping.yaml", problem.workload, problem.accelerator)
    assert back.nodes == problem.mapping.nodes and back.groups == problem.mapping.groups


def test_a_node_splitting_a_fused_axis_less_interleaves_its_tiles(plugins, hardware, write_mapping, tmp_path):
    """relu_0 splits its 8 elements over cores 0 and 1 (parts [0,4) and [4,8)), relu_1 runs them whole
    on core 0, both in tiles of 2. Stream steps the fused axis per core of the larger split (2 steps),
    each iteration taking one tile of every part, so relu_1 visits its tiles 0, 2, 1, 3: [0,2), [4,6),
    [2,4), [6,8) -- each right after relu_0 makes it -- and mapping.yaml reads back the same."""
    mapping = write_mapping(
        {
            "layers": [
                {"name": "relu_0", "core_allocation": [[0, 1]], "inter_core_tiling": [[{"dim": "D0", "split": 2}]]},
                {"name": "relu_1", "core_allocation": [[0]]},
            ],
            "fused_groups": [
                {"name": "g", "layers": ["relu_0", "relu_1"], "intra_core_tiling": [{"dim": "relu_0.D0", "tile": 2}]}
            ],
        }
    )
    acc = hardware([core("a"), core("b")])
    first = run(relu_chain(8), acc, mapping, plugins=plugins, output=tmp_path / "out")
    problem = first.problem
    assert problem.mapping.nodes["relu_1"].interleave == (("D0", 2),)
    assert problem.mapping.nodes["relu_0"].interleave == ()
    group = problem.mapping.groups[0]
    tiling = NodeTiling(problem.workload.node("relu_1"), problem.mapping.nodes["relu_1"], group.tile_sizes("relu_1"))
    assert [t.range_map["D0"] for t in tiling.tiles()] == [(0, 2), (4, 6), (2, 4), (6, 8)]
    grid = StepGrid(tiling)
    assert grid.coords(grid.all_steps()).tolist() == [[0, 2, 1, 3]]
    assert grid.step_index(np.array([[0, 1, 2, 3]])).tolist() == [0, 2, 1, 3]
    assert check_schedule(first.result, problem) == []
    back = load_mapping(tmp_path / "out" / "mapping.yaml", problem.workload, problem.accelerator)
    assert back.nodes == problem.mapping.nodes and back.groups == problem.mapping.groups
