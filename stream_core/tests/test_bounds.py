"""Lower bounds (stream_core.bounds) derived by hand on toy cases, shown beside the latency, and never
above the latency of a bundled example.

Toy cores (tests/fixtures/example_plugin): ``toy-cost`` latency = ceil(work / 4 MACs per cycle).
"""

from __future__ import annotations

import pytest
from core_test_support import write_yaml

from stream_core import RunOptions, run
from stream_core.examples import hardware, workload
from stream_core.ir import FusedGroup, Mapping, NodeMapping
from stream_core.report import summary_dict, summary_table
from stream_core.testing import matmul_workload, relu_chain


def test_split_parts_bound_their_cores_and_the_bus_carries_both_directions(tmp_path, toy_plugins, toy_hardware):
    """mm (D=4, C=4, K=8) split over cores 0 and 1 along K: each part 64 MACs = 16 cycles on its
    pinned core, so compute = 16. Off-chip: a 128 + w 256 bits in, y 256 out over one 64 bit/cycle
    bus (both directions share it): (384 + 256) / 64 = 10. Bound 16; greedy takes 24 (a goes to both
    cores at once: test_greedy.py's test_split_matmul_runs_parts_on_pinned_cores)."""
    mapping = write_yaml(
        tmp_path / "map.yaml",
        {"layers": [{"name": "mm", "core_allocation": [[0, 1]], "inter_core_tiling": [[{"dim": "D2", "split": 2}]]}]},
    )
    outcome = run(matmul_workload(4, 4, 8), toy_hardware(n=2, bandwidth=64), mapping, plugins=toy_plugins)
    [group] = outcome.result.lower_bound.groups
    assert (group.compute, group.offchip, group.offchip_bits) == (16, 10, 640)
    assert outcome.result.lower_bound.cycles == 16 <= outcome.result.totals.latency == 24


def test_point_to_point_links_carry_each_direction_at_full_rate(toy_plugins, toy_hardware):
    """relu_0 reads t0 (64 bits) and writes t1 (64 bits); two full-duplex 8 bit/cycle links join core
    0 and DRAM: 64 / 16 = 4 each way, 128 / 32 = 4 both ways; the 8-element relu costs 2 cycles."""
    links = [{"cores": [0, 1], "bandwidth": 8}, {"cores": [0, 1], "bandwidth": 8}]
    chain = relu_chain(8)
    outcome = run(chain, toy_hardware(n=1, links=links), plugins=toy_plugins)
    [group] = outcome.result.lower_bound.groups
    assert (group.compute, group.offchip) == (2, 4)
    assert group.cycles <= outcome.result.totals.latency


def test_groups_add_up_and_a_tensor_between_groups_goes_out_and_back(toy_plugins, toy_hardware):
    """Two groups of one relu each on one core, bus 8 bits/cycle: group 0 reads t0 and writes t1 back
    (read by the next group), group 1 reads t1 and writes t2: 128 bits = 16 cycles each, 32 in all."""
    chain = relu_chain(8, length=2)
    nodes = {n.name: NodeMapping(n.name, (0,)) for n in chain.nodes}
    groups = tuple(FusedGroup(f"g{i}", (n.name,)) for i, n in enumerate(chain.nodes))
    outcome = run(chain, toy_hardware(n=1), Mapping(nodes, groups), plugins=toy_plugins)
    bound = outcome.result.lower_bound
    assert [(g.group, g.offchip, g.offchip_bits) for g in bound.groups] == [("g0", 16, 128), ("g1", 16, 128)]
    assert bound.cycles == 32 <= outcome.result.totals.latency
    summary = summary_dict(outcome.result, outcome.problem.accelerator)
    assert summary["latency_lower_bound_cycles"] == 32
    assert [g["cycles"] for g in summary["lower_bound"]["groups"]] == [16, 16]
    table = summary_table(outcome.result, outcome.problem.accelerator)
    latency = outcome.result.totals.latency
    assert f"latency      {latency:,} cycles  (lower bound 32" in table
    assert "g0: " in table and "(bound 16)" in table


BASELINE = RunOptions(cost_model="roofline", allocator="greedy", mapper="whole-layer", use_cache=False)


@pytest.mark.parametrize("hw", ["tpu_like_quad_core", "hetero_array_simd"])
@pytest.mark.parametrize("wl", ["two_conv", "resnet_block", "transformer_mlp"])
def test_the_bound_is_never_above_the_latency_of_a_bundled_example(hw, wl):
    result = run(workload(wl), hardware(hw), options=BASELINE).result
    bound = result.lower_bound
    assert 0 < bound.cycles <= result.totals.latency
    assert all(0 < g.cycles <= record.latency for g, record in zip(bound.groups, result.groups, strict=True))
