"""A reader of part of what an earlier reader on the same cores receives shares its fetch (a residual
block's strided 1x1 shortcut reads rows inside its 3x3 convolution's).

Workload: ``x`` (8 int8 = 64 bits) read whole by ``relu`` (-> ``ya``, 8) and its first half by
``head`` (-> ``yb``, 4), one group on core 0. tetratoy cores (4 ops/cycle, 0.1 pJ per bit), DRAM as
core 1 (1.0 pJ per bit), one 8 bit/cycle bus.
"""

from __future__ import annotations

import pytest
from tetra_helpers import core
from tetra_workloads import A, elementwise

from stream_core import RunOptions, run
from stream_core.ir import LoopDim, Node, Operand, TensorSpec, Workload
from stream_core.testing import check_schedule


def whole_and_half() -> Workload:
    tensors = {"x": TensorSpec("x", (8,), "int8"), "ya": TensorSpec("ya", (8,), "int8")}
    tensors["yb"] = TensorSpec("yb", (4,), "int8")
    reads = [Operand("input", "x", 8, (A("D0"),)), Operand("output", "yb", 8, (A("D0"),))]
    head = Node("head", "Relu", [LoopDim("D0", 4)], reads)
    nodes = [elementwise("relu", "Relu", "x", "ya", 8), head]
    return Workload("whole_and_half", nodes, tensors, inputs=["x"], outputs=["ya", "yb"])


def test_a_reader_of_half_the_delivered_block_shares_the_fetch(plugins, hardware, write_mapping):
    """x over the bus once (64 bits, 8 cycles), not again for head's 32 bits: memory energy
    (64 + 64 + 32) x (1.0 + 0.1) = 176.0 pJ (a second fetch would add 32 x 1.1 = 35.2)."""
    mapping = {
        "layers": [{"name": n, "core_allocation": [[0]]} for n in ("relu", "head")],
        "fused_groups": [{"name": "g", "layers": ["relu", "head"]}],
    }
    options = RunOptions(settings={"tetra.greedy": False})
    acc = hardware([core("a")])
    outcome = run(whole_and_half(), acc, write_mapping(mapping), plugins=plugins, options=options)
    result = outcome.result
    assert check_schedule(result, outcome.problem) == []
    assert [(t.tensor, t.src, t.dst, t.start, t.end, t.bits) for t in result.transfers if t.tensor == "x"] == [
        ("x", 1, 0, 0, 8, 64)
    ]
    assert result.totals.memory_energy_pj == pytest.approx(176.0)
    assert dict(result.groups[0].stats)["slots"]["0"] == ["input:relu:x#0"]
