"""Greedy prices each end of a transfer at the top memory of the operand it is there (Stream 2.1.1's
port rule, :meth:`Workload.transfer_roles`): a produced tensor is read from its producer's output
memory, and written into the memory of the role its reader takes it in.

Toy cores (tests/fixtures/example_plugin) whose memories are priced per operand role: input read 0.2,
written 0.3 pJ/bit; weight 0.7 / 0.6; output 0.4 / 0.5; DRAM 1.0 for all. One bus of 8 bits/cycle:
8 int8 elements (64 bits) take 8 cycles.
"""

from __future__ import annotations

import attrs
import pytest
from stream_example_plugin.core import ToyCore

from stream_core import run
from stream_core.hardware import load_accelerator
from stream_core.ir import CoreSummary, FusedGroup, Mapping, NodeMapping
from stream_core.testing import check_schedule, relu_chain
from stream_core.testing import matmul_workload as matmul

ROLE_ENERGIES = (("input", 0.2, 0.3), ("weight", 0.7, 0.6), ("output", 0.4, 0.5))


@attrs.frozen
class PricedToyCore(ToyCore):
    """A toy core whose operand memories are priced per role."""

    @property
    def summary(self) -> CoreSummary:
        return attrs.evolve(super().summary, operand_energies=ROLE_ENERGIES)


def priced(toy_plugins, path):
    """The toy accelerator at ``path`` with every compute core priced per role."""
    acc = load_accelerator(path, toy_plugins)
    cores = {
        i: attrs.evolve(core, description=PricedToyCore(**attrs.asdict(core.description))) if core.is_compute else core
        for i, core in acc.cores.items()
    }
    return attrs.evolve(acc, cores=cores)


def test_a_produced_tensor_is_read_from_the_output_memory_and_written_as_an_input(toy_plugins, toy_hardware):
    """relu_0 on core 0, relu_1 on core 1: t0 [0,8) into core 0's input memory, relu_0 [8,10); t1 from
    core 0's output memory into core 1's input memory [10,18), relu_1 [18,20); t2 from core 1's output
    memory to DRAM [20,28). Memory: 64 x (1.0 + 0.3) + 64 x (0.4 + 0.3) + 64 x (0.4 + 1.0) = 217.6 pJ
    (one price of 0.1 pJ/bit on chip would give 64 x (1.1 + 0.2 + 1.1) = 153.6)."""
    workload = relu_chain(8, length=2)
    mapping = Mapping(
        {"relu_0": NodeMapping("relu_0", (0,)), "relu_1": NodeMapping("relu_1", (1,))},
        (FusedGroup("g", ("relu_0", "relu_1")),),
    )
    outcome = run(workload, priced(toy_plugins, toy_hardware(n=2)), mapping, plugins=toy_plugins)
    result = outcome.result
    assert [(t.tensor, t.src, t.dst, t.start, t.end) for t in result.transfers] == [
        ("t0", 2, 0, 0, 8),
        ("t1", 0, 1, 10, 18),
        ("t2", 1, 2, 20, 28),
    ]
    assert result.totals.latency == 28
    assert result.totals.memory_energy_pj == pytest.approx(64 * 1.3 + 64 * 0.7 + 64 * 1.4)
    assert check_schedule(result, outcome.problem) == []


def test_weights_are_written_at_the_weight_memory_price(toy_plugins, toy_hardware):
    """mm (2x2 by 2x2, int8) whole on one core: a [0,4) and w [4,8) (32 bits each), mm [8,10) (8 MACs),
    y back [10,14). Memory: 32 x (1.0 + 0.3) + 32 x (1.0 + 0.6) + 32 x (0.4 + 1.0) = 137.6 pJ."""
    workload = matmul(2, 2, 2)
    mapping = Mapping({"mm": NodeMapping("mm", (0,))}, (FusedGroup("g", ("mm",)),))
    outcome = run(workload, priced(toy_plugins, toy_hardware(n=1)), mapping, plugins=toy_plugins)
    result = outcome.result
    assert [(t.tensor, t.start, t.end, t.bits) for t in result.transfers] == [
        ("a", 0, 4, 32),
        ("w", 4, 8, 32),
        ("y", 10, 14, 32),
    ]
    assert result.totals.memory_energy_pj == pytest.approx(32 * 1.3 + 32 * 1.6 + 32 * 1.4)
    assert check_schedule(result, outcome.problem) == []
