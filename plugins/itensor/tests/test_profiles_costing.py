"""Kernel timing profiles are costed through the core (stream_core.costing): deduplicated, cached,
with the core's model choice and a warning when it falls back."""

from __future__ import annotations

from stream_itensor.api import build_stream_graph, profiles_from_cost_model
from stream_itensor.examples import diamond
from stream_itensor.target import DEFAULT_TARGET

from stream_core import hookimpl
from stream_core.context import RunContext, RunOptions
from stream_core.ir import CostResult
from stream_core.records import CostModelRecord
from stream_core.testing import make_plugins


class _Counting:
    """A cost model answering 10 cycles per iteration point of the tile, counting what it is asked."""

    def __init__(self, core_types: frozenset[str] = frozenset()) -> None:
        self.asked: list[int] = []
        self.core_types = core_types

    @hookimpl
    def stream_register_cost_models(self):
        yield CostModelRecord(name="counting", factory=lambda: self, core_types=self.core_types)

    def cache_token(self, context):
        return "counting-v1"

    def cost(self, requests, context):
        self.asked.append(len(requests))
        return [CostResult(latency=10 * r.node.iteration_points, energy_pj=1.0, model="counting") for r in requests]


def test_identical_kernels_are_costed_once_and_then_cached(tmp_path):
    model = _Counting()
    plugins = make_plugins(("counting", model), entry_points=False)
    context = RunContext(plugins=plugins, options=RunOptions(cache_dir=tmp_path))
    workload, tilings = diamond(rows=4, cols=16)  # a, c: Relu; b: Tanh; d: Add, each one 1x16 row per tile
    graph = build_stream_graph(workload, tilings)
    profiles = profiles_from_cost_model(graph, DEFAULT_TARGET, context, cost_model="counting")
    assert {name: p.interval for name, p in profiles.items()} == {"a": 160, "b": 160, "c": 160, "d": 160}
    assert model.asked == [3]  # Relu a and c are the same tile on the same core
    profiles_from_cost_model(graph, DEFAULT_TARGET, context, cost_model="counting")
    assert model.asked == [3]  # the second plan reads the persistent cache


def test_a_model_that_cannot_cost_the_kernel_core_falls_back_with_a_warning(tmp_path):
    model = _Counting(core_types=frozenset({"zigzag"}))
    plugins = make_plugins(("counting", model), entry_points=False)
    context = RunContext(plugins=plugins, options=RunOptions(cache_dir=tmp_path, cost_model="counting"))
    workload, tilings = diamond(rows=4, cols=16)
    profiles = profiles_from_cost_model(build_stream_graph(workload, tilings), DEFAULT_TARGET, context)
    assert model.asked == []
    assert set(profiles) == {"a", "b", "c", "d"}
    assert context.warnings == [
        "kernel timing profiles of a, b, c, d costed by roofline, not counting, because "
        "no installed core type 'itensor' names a cost model"
    ]
