"""Stream 2.1.1 accelerators and mappings in TETRA: shared memories, measured bandwidths and a core
listed twice in a split, each against a schedule derived by hand.

tetratoy cores (rate 4 ops/cycle unless stated) and DRAM; relu chains of 8 int8 elements (64 bits
per tensor) unless stated. Cores 0 and 1 sharing a memory have no link of their own between them
(Stream forbids it): core 1 reaches DRAM through its owner 0's link.
"""

from __future__ import annotations

import numpy as np
import pytest
from stream_tetra.families import BUILTIN_FAMILIES
from stream_tetra.milp import TetraModel
from stream_tetra.settings import TetraSettings
from stream_tetra.steady import build_steady
from stream_tetra.transfer_records import RecordSpec
from test_steady_state import problem
from tetra_helpers import core
from tetra_workloads import relu_chain

from stream_core import RunOptions, run
from stream_core.errors import InfeasibleError
from stream_core.hardware import load_accelerator
from stream_core.ir import FusedGroup, Mapping, NodeMapping
from stream_core.testing import check_schedule

OWNER_LINK = [{"cores": [0, 2], "bandwidth": 8}]


def shared_pair(hardware, memory_bits: int):
    """Cores 0 and 1 sharing one memory of ``memory_bits``, DRAM 2 on the owner's 8 bit/cycle link."""
    cores = [core("a", memory_bits=memory_bits), core("b", memory_bits=memory_bits)]
    return hardware(cores, OWNER_LINK, core_memory_sharing=["0, 1"])


def one_node_per_core(nodes: dict[str, tuple[int, ...]], split: tuple = ()) -> Mapping:
    mapping = {name: NodeMapping(name, cores, split) for name, cores in nodes.items()}
    return Mapping(mapping, (FusedGroup("g", tuple(nodes)),))


def timeline(result) -> tuple[list, list]:
    tiles = [(t.node, t.index, t.core, t.start, t.end) for t in result.tiles]
    transfers = [(t.tensor, t.src, t.dst, t.links, t.start, t.end, t.reason) for t in result.transfers]
    return tiles, transfers


# -- shared memories ---------------------------------------------------------------------------------


def test_data_between_sharers_stays_in_place_and_their_buffers_add_up(plugins, hardware):
    """relu_0 on owner 0, relu_1 on member 1: t0 [0,8) over link 0, relu_0 [8,10) (8 ops / 4),
    relu_1 reads t1 in place [10,12), t2 leaves through the owner's link [12,20). The one memory
    holds t0, t1 (twice: relu_0's output, relu_1's input) and t2, 64 bits each: exactly 256."""
    mapping = one_node_per_core({"relu_0": (0,), "relu_1": (1,)})
    outcome = run(relu_chain(8, 2), shared_pair(hardware, 256), mapping, plugins=plugins)
    result = outcome.result
    assert timeline(result) == (
        [("relu_0", 0, 0, 8, 10), ("relu_1", 0, 1, 10, 12)],
        [("t0", 2, 0, (0,), 0, 8, "input"), ("t2", 1, 2, (0,), 12, 20, "writeback")],
    )
    assert result.memory == {0: ((0, 256), (20, 0))}
    assert check_schedule(result, outcome.problem) == []


def test_a_shared_memory_is_one_capacity_for_all_its_cores(plugins, hardware):
    """Each core alone needs 128 bits (two 64-bit buffers), within 200; together 256 do not fit the
    one memory (one row per core would have let both through)."""
    mapping = one_node_per_core({"relu_0": (0,), "relu_1": (1,)})
    with pytest.raises(InfeasibleError) as error:
        run(relu_chain(8, 2), shared_pair(hardware, 200), mapping, plugins=plugins)
    assert error.value.report[0] == (
        "core 0 (a): memory needs at least 256 bits but holds 200 bits -- "
        "t0 (input buffer of relu_0 on core 0, level -1, 1 tiles): 64 bits; "
        "t1 (intermediate buffer of relu_1 on core 1, level -1, 1 tiles): 64 bits; "
        "t1 (output buffer of relu_0 on core 0, level -1, 1 tiles): 64 bits; "
        "t2 (output buffer of relu_1 on core 1, level -1, 1 tiles): 64 bits"
    )


def test_the_milp_has_one_memory_row_per_shared_memory(plugins, hardware, write_mapping):
    """Tiles of 2 elements (16 bits), rings of 2: relu_0's output, relu_1's input and output hold
    32 bits each (96 fixed); t0 comes one tile at a time (32) or as one 64-bit block (a mode
    choice). One row for cores 0 and 1: 32 x0 + 64 x1 <= 4096 - 96."""
    tiling = [{"dim": f"relu_{i}.D0", "tile": 2} for i in range(2)]
    path = write_mapping(
        {
            "layers": [{"name": "relu_0", "core_allocation": [[0]]}, {"name": "relu_1", "core_allocation": [[1]]}],
            "fused_groups": [{"name": "g", "layers": ["relu_0", "relu_1"], "intra_core_tiling": tiling}],
        }
    )
    p = problem(plugins, relu_chain(8, 2), shared_pair(hardware, 4096), path)
    steady = build_steady(p, p.mapping.groups[0], TetraSettings())
    tm = TetraModel(steady, p, TetraSettings(), BUILTIN_FAMILIES, {})
    [capacity] = tm.context.capacities
    assert (capacity.name, capacity.core, capacity.capacity) == ("memory", 0, 4096)
    assert sorted(label.split(" (")[1].split(",")[0] for label, _ in capacity.terms) == [
        "input buffer of relu_0 on core 0",
        "input buffer of relu_0 on core 0",
        "intermediate buffer of relu_1 on core 1",
        "output buffer of relu_0 on core 0",
        "output buffer of relu_1 on core 1",
    ]
    [row] = [c for c in tm.model.constraints if c.name.startswith("memory_capacity:")]
    assert (row.name, row.rhs, sorted(row.expr.terms.values())) == ("memory_capacity:memory[core 0]", 4000, [32, 64])


def test_the_fused_mapper_tiles_for_the_shared_memory(plugins, hardware):
    """A relu of 64 elements split over the identical cores 0 and 1 (32 each: 256 bits in, 256 out).
    With memories of their own each part fits half of its 1024 bits untiled; sharing one memory the
    two parts need 1024 > 512, so the mapper halves the tiles (16 elements: 512 bits together)."""
    options = RunOptions(mapper="fused")
    cores = [core("a", memory_bits=1024), core("b", memory_bits=1024)]
    apart = hardware(cores, [*OWNER_LINK, {"cores": [1, 2], "bandwidth": 8}], name="apart")
    assert run(relu_chain(64, 1), apart, plugins=plugins, options=options).problem.mapping.groups[0].tiles == ()
    outcome = run(relu_chain(64, 1), shared_pair(hardware, 1024), plugins=plugins, options=options)
    assert outcome.problem.mapping["relu_0"].cores == (0, 1)
    assert outcome.problem.mapping.groups[0].tiles == (("relu_0", "D0", 16),)
    assert check_schedule(outcome.result, outcome.problem) == []


# -- a core listed twice ------------------------------------------------------------------------------


def test_a_core_listed_twice_runs_its_parts_one_after_the_other(plugins, hardware):
    """relu_0 split in two parts of 4 elements at 1 op/cycle: 4 cycles each. On cores (0, 0): t0 is
    one 64-bit transfer [0,8), the parts run [8,12) and [12,16) (the compute slot lasts 4 + 4), the
    halves go back [16,20) and [20,24): 24 cycles. On cores (0, 1) the parts run side by side: 20."""
    workload = relu_chain(8, 1)
    twice = one_node_per_core({"relu_0": (0, 0)}, (("D0", 2),))
    own = RunOptions(settings={"tetra.greedy": False})  # TETRA's own schedule (greedy's is shorter)
    outcome = run(workload, hardware([core("a", rate=1)]), twice, plugins=plugins, options=own)
    assert timeline(outcome.result) == (
        [("relu_0", 0, 0, 8, 12), ("relu_0", 1, 0, 12, 16)],
        [
            ("t0", 1, 0, (0,), 0, 8, "input"),
            ("t1", 0, 1, (0,), 16, 20, "writeback"),
            ("t1", 0, 1, (0,), 20, 24, "writeback"),
        ],
    )
    assert outcome.result.totals.latency == 24
    assert check_schedule(outcome.result, outcome.problem) == []
    p = outcome.problem
    [compute] = [a for a in build_steady(p, p.mapping.groups[0], TetraSettings()).activities if a.kind == "compute"]
    assert (compute.modes[0].dur, compute.modes[0].busy) == (8, {("core", 0): (0, 8)})

    apart = one_node_per_core({"relu_0": (0, 1)}, (("D0", 2),))
    outcome = run(workload, hardware([core("a", rate=1), core("b", rate=1)]), apart, plugins=plugins, options=own)
    assert [(t.core, t.start, t.end) for t in outcome.result.tiles] == [(0, 8, 12), (1, 8, 12)]
    assert outcome.result.totals.latency == 20


# -- measured bandwidths -------------------------------------------------------------------------------


def test_a_measured_bandwidth_times_tetras_transfers(plugins, hardware):
    """DRAM (core 1) measured at 4 bits/cycle over a bus of 8: each 64-bit transfer takes 16 cycles.
    t0 [0,16), relu_0 [16,18), t1 [18,34), as the greedy scheduler has it."""
    acc = hardware([core("a")], bandwidth={1: {"ceiling": 4, "contiguous": 4}})
    outcome = run(relu_chain(8, 1), acc, plugins=plugins)
    assert timeline(outcome.result) == (
        [("relu_0", 0, 0, 16, 18)],
        [("t0", 1, 0, (0,), 0, 16, "input"), ("t1", 0, 1, (0,), 18, 34, "writeback")],
    )
    assert check_schedule(outcome.result, outcome.problem) == []


def test_a_multicast_lasts_as_long_as_its_slowest_destination_and_names_it(plugins, hardware):
    """relu_0 split over cores 0 and 1; core 1 moves 2 bits/cycle. t0 (64 bits) goes to both at once
    on the bus: 64 / 2 = 32 cycles, set by core 1, which the record names. The parts run [32,33);
    core 1's half leaves in 32 / 2 = 16 cycles [33,49), then core 0's in 32 / 8 = 4 [49,53)."""
    acc = hardware([core("a"), core("b")], bandwidth={1: {"ceiling": 2, "contiguous": 2}})
    mapping = one_node_per_core({"relu_0": (0, 1)}, (("D0", 2),))
    own = RunOptions(settings={"tetra.greedy": False})  # TETRA's own schedule (greedy's is shorter)
    outcome = run(relu_chain(8, 1), acc, mapping, plugins=plugins, options=own)
    assert timeline(outcome.result) == (
        [("relu_0", 0, 0, 32, 33), ("relu_0", 1, 1, 32, 33)],
        [
            ("t0", 2, 1, (0,), 0, 32, "input (multicast to cores 0, 1)"),
            ("t1", 1, 2, (0,), 33, 49, "writeback"),
            ("t1", 0, 2, (0,), 49, 53, "writeback"),
        ],
    )
    assert check_schedule(outcome.result, outcome.problem) == []


def test_a_record_lasts_its_longest_firing_not_its_largest(plugins, hardware):
    """Core 0 reads 16 bits/cycle contiguous, measured 4 at 32-byte and 8 at 64-byte runs. A record
    moving 384 bits (48 bytes: efficiency 0.25 + 0.25 x log(48/32) / log 2 = 0.396) takes
    ceil(384 / 6.34) = 61 cycles, one moving 256 bits (efficiency 0.25) 64: the slot reserves 64."""
    model = {"ceiling": 16, "contiguous": 16, "strided": {"read": {32: 4, 64: 8}}}
    acc = load_accelerator(hardware([core("a")], bandwidth={0: model}), plugins)
    record = RecordSpec(0, (1,), acc.path(0, 1), np.array([384, 256]), acc)
    assert record.timing(record.bits)[0].tolist() == [61, 64]
    assert record.max_cycles == 64


# -- systolic drain ------------------------------------------------------------------------------------


def test_a_group_ends_after_its_longest_chain_of_drains(plugins, hardware):
    """relu_0 -> relu_1 on core 0 (drain 5) of a bus with core 1 (no drain), one group: without the
    drain the schedule is t0 [0,8), relu_0 [8,10), relu_1 [10,12) reading t1 in place, t2 [12,20).
    Stream 2.1.1 adds the drains along the group's longest chain once at its end: relu_0 and relu_1
    each drain 5 on core 0, so the group ends at 20 + 10 = 30."""
    cores = [{**core("a"), "drain": 5}, core("b")]
    mapping = one_node_per_core({"relu_0": (0,), "relu_1": (0,)})
    outcome = run(relu_chain(8, 2), hardware(cores), mapping, plugins=plugins)
    assert check_schedule(outcome.result, outcome.problem) == []
    (group,) = outcome.result.groups
    assert outcome.problem.drain(outcome.problem.mapping.groups[0]) == 10
    last = max(t.end for t in [*outcome.result.tiles, *outcome.result.transfers])
    assert (last, group.end, outcome.result.totals.latency) == (20, 30, 30)
    assert dict(group.stats)["drain_cycles"] == 10
    realised = dict(group.stats)["realised"]
    assert realised.endswith(", 20 cycles (others: list 20, greedy 20); then 10 cycles of systolic drain")
    greedy = run(relu_chain(8, 2), hardware(cores), mapping, plugins=plugins, options=RunOptions(allocator="greedy"))
    assert check_schedule(greedy.result, greedy.problem) == []
    assert (greedy.result.groups[0].end, greedy.result.totals.latency) == (30, 30)
