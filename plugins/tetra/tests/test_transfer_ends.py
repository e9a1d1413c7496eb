"""Each end of a transfer priced at its operand's memory (Stream 2.1.1's ``PortRegistry.port_for``):
the source reads the producer's output memory (a graph input: the reader's role), each destination
writes the memory of the role its reader takes the tensor in; a write-back lands as an output.

tetratoy cores (0.1 pJ per bit read or written, unless a role's own memory says otherwise), DRAM as
the last core (1.0 pJ per bit), one 8 bit/cycle bus. Memory energy of a transfer = bits x (source
read + each destination's write).
"""

from __future__ import annotations

import pytest
from tetra_helpers import core
from tetra_workloads import matmul, relu_chain

from stream_core import RunOptions, run
from stream_core.ir import FusedGroup, Mapping, NodeMapping
from stream_core.testing import check_schedule

OWN = RunOptions(settings={"tetra.greedy": False})  # TETRA's own schedule


def pinned(cores: dict[str, int]) -> Mapping:
    return Mapping({n: NodeMapping(n, (c,), ()) for n, c in cores.items()}, (FusedGroup("g", tuple(cores)),))


def test_weights_land_in_their_own_memory_and_outputs_leave_theirs(plugins, hardware):
    """mm = X[2,4] @ W[4,4] (int8) on core 0, whose weights live in a memory written at 0.05 pJ/bit and
    whose outputs are read at 0.3: x 64 x (1.0 + 0.1) = 70.4, w 128 x (1.0 + 0.05) = 134.4 (not 140.8
    at the default memory), y 64 x (0.3 + 1.0) = 83.2 (not 70.4): 288.0 pJ."""
    roles = {"weight": [0.05, 0.05], "output": [0.3, 0.3]}
    acc = hardware([{**core("a"), "role_energy": roles}])
    outcome = run(matmul(2, 4, 4), acc, pinned({"mm": 0}), plugins=plugins, options=OWN)
    assert check_schedule(outcome.result, outcome.problem) == []
    assert sorted((t.tensor, t.bits) for t in outcome.result.transfers) == [("w", 128), ("x", 64), ("y", 64)]
    assert outcome.result.totals.memory_energy_pj == pytest.approx(288.0)


def test_an_edge_reads_the_producers_output_and_writes_the_readers_input(plugins, hardware):
    """relu_0 on core 0 (outputs read at 0.3 pJ/bit), relu_1 on core 1 (inputs written at 0.2), 8 int8
    elements: t0 64 x (1.0 + 0.1) = 70.4, t1 64 x (0.3 + 0.2) = 32.0 (not 12.8 at the defaults),
    t2 64 x (0.1 + 1.0) = 70.4: 172.8 pJ."""
    cores = [{**core("a"), "role_energy": {"output": [0.3, 0.3]}}, {**core("b"), "role_energy": {"input": [0.2, 0.2]}}]
    outcome = run(relu_chain(8, 2), hardware(cores), pinned({"relu_0": 0, "relu_1": 1}), plugins=plugins, options=OWN)
    assert check_schedule(outcome.result, outcome.problem) == []
    assert sorted((t.tensor, t.src, t.dst, t.bits) for t in outcome.result.transfers) == [
        ("t0", 2, 0, 64),
        ("t1", 0, 1, 64),
        ("t2", 1, 2, 64),
    ]
    assert outcome.result.totals.memory_energy_pj == pytest.approx(172.8)
