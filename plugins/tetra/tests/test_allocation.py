"""Where TETRA goes past Stream: the chosen core's latency, and infeasibility that explains itself.

Hardware: tetratoy cores on one 8 bit/cycle bus with DRAM (see conftest); workload: relu chains of
8 int8 elements (64 bits per tensor).
"""

from __future__ import annotations

import pytest
from tetra_helpers import core
from tetra_workloads import relu_chain

from stream_core import RunOptions, run
from stream_core.errors import InfeasibleError
from stream_core.ir import FusedGroup, Mapping, NodeMapping
from stream_core.testing import check_schedule


def test_candidate_core_choice_beats_the_max_over_candidates(plugins, hardware, write_mapping):
    """relu_0 may run on core 0 (8 ops/cycle: 1 cycle) or core 1 (1 op/cycle: 8 cycles).
    Stream's constraint uses the largest latency over the candidates, 8: T = 8 (in) + 8 + 8 (out) = 24.
    TETRA picks the core with a binary per candidate and uses its latency: 8 + 1 + 8 = 17."""
    acc = hardware([core("fast", rate=8), core("slow", rate=1)])
    mapping = write_mapping({"layers": [{"name": "relu_0", "core_allocation": [[0, 1]]}]})
    outcome = run(relu_chain(8, 1), acc, mapping, plugins=plugins)
    result = outcome.result
    stream_bound = 8 + max(1, 8) + 8
    assert result.totals.latency == 17 < stream_bound == 24
    assert [(t.node, t.core, t.start, t.end) for t in result.tiles] == [("relu_0", 0, 8, 9)]
    assert dict(result.groups[0].stats)["choices"]["compute:relu_0"] == "cores [0]"
    assert check_schedule(result, outcome.problem) == []


def test_memory_limit_moves_the_node_to_the_slower_core(plugins, hardware, write_mapping):
    """The fast core holds 100 bits, less than relu_0's input and output (64 + 64 bits), so the MILP
    must use the slow core: 8 + 8 + 8 = 24 cycles."""
    acc = hardware([core("fast", rate=8, memory_bits=100), core("slow", rate=1)])
    mapping = write_mapping({"layers": [{"name": "relu_0", "core_allocation": [[0, 1]]}]})
    outcome = run(relu_chain(8, 1), acc, mapping, plugins=plugins)
    assert outcome.result.totals.latency == 24
    assert [t.core for t in outcome.result.tiles] == [1]
    assert check_schedule(outcome.result, outcome.problem) == []


def test_infeasible_memory_names_core_demand_and_capacity(plugins, hardware):
    """Only core 0 (100 bits) may run relu_0, whose input and output buffers need 64 + 64 = 128 bits.
    (The mapping is built in the IR: the mapping file reader would tile the layer to fit.)"""
    acc = hardware([core("tiny", memory_bits=100)])
    mapping = Mapping({"relu_0": NodeMapping("relu_0", (0,))}, (FusedGroup("g", ("relu_0",)),))
    with pytest.raises(InfeasibleError) as error:
        run(relu_chain(8, 1), acc, mapping, plugins=plugins)
    report = "\n".join(error.value.report)
    assert "core 0 (tiny): memory needs at least 128 bits but holds 100 bits" in report
    assert "t0 (input buffer of relu_0, level -1, 1 tiles): 64 bits" in report
    assert "t1 (output buffer of relu_0, level -1, 1 tiles): 64 bits" in report


def test_infeasible_with_a_choice_reports_the_smallest_demand(plugins, hardware, write_mapping):
    """Four tiles of 2 elements (16 bits): the input can come one tile at a time (ring of 2 tiles with
    double buffering: 32 bits) or as one 64-bit block; the output ring holds 2 x 16 bits. The least any
    allocation needs is 32 + 32 = 64 bits > 60 bits of core 0; the solver's conflict search names
    the memory row."""
    acc = hardware([core("tiny", memory_bits=60)])
    mapping = write_mapping(
        {
            "layers": [{"name": "relu_0", "core_allocation": [[0]]}],
            "fused_groups": [
                {"name": "g", "layers": ["relu_0"], "intra_core_tiling": [{"dim": "relu_0.D0", "tile": 2}]}
            ],
        }
    )
    with pytest.raises(InfeasibleError) as error:
        run(relu_chain(8, 1), acc, mapping, plugins=plugins)
    report = error.value.report
    assert report[0].startswith("core 0 (tiny): memory needs at least 64 bits but holds 60 bits")
    assert any("memory_capacity:memory[core 0]" in line for line in report)


def test_energy_adds_compute_links_and_memories(plugins, hardware, write_mapping):
    """One relu on core 0 (op energy 0.5 pJ, memory 0.1 pJ/bit), DRAM 1.0 pJ/bit, bus 2 pJ per cycle of use
    over 8 bits = 0.25 pJ/bit (Stream's unit). compute 8 x 0.5 = 4; transfers 2 x 64 bits x 0.25 = 32;
    memories 2 x 64 x (1.0 + 0.1) = 140.8."""
    links = [{"type": "bus", "cores": [0, 1], "bandwidth": 8, "unit_energy_cost": 2.0}]
    acc = hardware([core("a")], links)
    outcome = run(
        relu_chain(8, 1),
        acc,
        write_mapping({"layers": [{"name": "relu_0", "core_allocation": [[0]]}]}),
        plugins=plugins,
    )
    totals = outcome.result.totals
    assert (totals.compute_energy_pj, totals.transfer_energy_pj) == pytest.approx((4.0, 32.0))
    assert totals.memory_energy_pj == pytest.approx(140.8)
    assert totals.energy_pj == pytest.approx(176.8)
    assert check_schedule(outcome.result, outcome.problem) == []


def test_settings_are_checked(plugins, hardware):
    from stream_core.errors import InputError

    options = RunOptions(settings={"tetra.pipelining": "fast", "tetra.paths": 0, "tetra.colour": 1})
    with pytest.raises(InputError) as error:
        run(
            relu_chain(8, 1),
            hardware([core("a")]),
            plugins=plugins,
            options=options,
        )
    fields = sorted(p.field for p in error.value.problems)
    assert fields == ["tetra.colour", "tetra.paths", "tetra.pipelining"]
