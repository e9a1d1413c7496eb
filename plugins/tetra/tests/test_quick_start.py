"""Stream's quick start (two_conv on tpu_like_quad_core, automatic mapping) with roofline costs.

Stream v1.13.14 publishes slot latencies {1: 1024, 2: 144, 3: 2376, 4: 2048, 5: 4656, 6: 4096}: the
input (8x32x32 bf16 = 131072 bits over the 128 bit/cycle bus: 1024), conv1's weights (16x8x3x3:
144), conv1, conv1's output to conv2 (262144 bits: 2048), conv2 (with conv2's weights, 576, in
conv1's slot), the output (524288 bits: 4096). Both convs are split 4 ways along OX.
"""

from __future__ import annotations

import importlib.util

import pytest
from tetra_helpers import EXAMPLES

from stream_core import RunOptions, run
from stream_core.testing import check_schedule

pytestmark = pytest.mark.skipif(importlib.util.find_spec("stream_onnx") is None, reason="needs stream-onnx")


@pytest.mark.parametrize(("transfers", "edge"), [("stream", 2048), ("exact", 384)])
def test_slot_structure_matches_stream(plugins, transfers, edge):
    """``transfers=stream`` reproduces Stream's transfer slots exactly; ``exact`` moves only the
    halo columns conv2's parts read from their neighbours: 6 columns of 16 channels x 32 rows x
    16 bits = 6 x 8192 bits over the bus, 384 cycles. Compute slots are the cost model's. TETRA's own
    schedule (greedy's, which multicasts the weights to the four cores, is shorter: 7,184 cycles)."""
    options = RunOptions(cost_model="roofline", settings={"tetra.transfers": transfers, "tetra.greedy": False})
    workload, hardware = EXAMPLES / "workloads" / "two_conv.onnx", EXAMPLES / "hardware" / "tpu_like_quad_core.yaml"
    outcome = run(workload, hardware, plugins=plugins, options=options)
    stats = dict(outcome.result.groups[0].stats)
    problem = outcome.problem
    assert [problem.mapping[n].split for n in ("Conv1", "Conv2")] == [(("OX", 4),), (("OX", 4),)]
    conv1, conv2 = (
        problem.costs.get(n, 0, next(iter(problem.tilings[n].shapes()))).latency for n in ("Conv1", "Conv2")
    )
    assert stats["slot_latencies"] == [1024, 144, max(conv1, 576), edge, conv2, 4096]
    assert outcome.result.totals.latency == sum(stats["slot_latencies"])
    assert check_schedule(outcome.result, problem) == []
