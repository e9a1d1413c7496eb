"""Every registered implementation satisfies its kind's protocol; frontends turn Python objects
into workloads (an in-process plugin, run end to end on a schedule computed by hand)."""

from __future__ import annotations

import attrs
import pytest

from stream_core import InputError, RunContext, hookimpl, run
from stream_core.ir import Workload
from stream_core.protocols import PROTOCOL_OF_KIND
from stream_core.records import FrontendRecord
from stream_core.testing import check_schedule, relu_chain


@attrs.frozen
class ReluChainSpec:
    """A Python-object workload: ``length`` ReLUs of ``n`` int8 elements each."""

    n: int
    length: int


class LongerChain(ReluChainSpec):
    pass


class ReluChainFrontend:
    def load(self, source: object, context: RunContext) -> Workload:
        assert isinstance(source, ReluChainSpec)
        return relu_chain(source.n, length=source.length)


class FrontendPlugin:
    @hookimpl
    def stream_register_frontends(self):
        yield FrontendRecord(
            name="relu-chain",
            description="ReluChainSpec objects",
            factory=ReluChainFrontend,
            object_types=(f"{__name__}.ReluChainSpec",),
        )


def test_installed_implementations_satisfy_their_protocols(toy_plugins):
    toy_plugins.register(FrontendPlugin(), name="frontend-plugin")
    checked = 0
    for kind, protocol in PROTOCOL_OF_KIND.items():
        for record in toy_plugins.registry(kind):
            assert isinstance(record.load(), protocol), f"{kind} {record.name}"
            checked += 1
    # roofline + toy-cost, toy, greedy, whole-layer, three exporters, the frontend
    assert checked == 9


def test_a_frontend_is_chosen_by_the_objects_class_and_its_workload_runs(toy_plugins, toy_hardware):
    toy_plugins.register(FrontendPlugin(), name="frontend-plugin")
    [record] = toy_plugins.registry("frontends")
    assert record.accepts(ReluChainSpec(8, 2)) and record.accepts(LongerChain(8, 2))
    assert not record.accepts("model.onnx") and not record.accepts(relu_chain(8))
    context = RunContext(plugins=toy_plugins)
    workload = record.load().load(ReluChainSpec(8, 2), context)
    assert [node.name for node in workload.nodes] == ["relu_0", "relu_1"]
    outcome = run(workload, toy_hardware(n=1), plugins=toy_plugins)
    # the same hand-computed schedule as test_greedy's relu chain: input in [0,8), relus [8,12), out [12,20)
    assert outcome.result.totals.latency == 20
    assert check_schedule(outcome.result, outcome.problem) == []


def test_run_hands_an_object_to_the_frontend_that_accepts_it(toy_plugins, toy_hardware):
    toy_plugins.register(FrontendPlugin(), name="frontend-plugin")
    outcome = run(LongerChain(8, 2), toy_hardware(n=1), plugins=toy_plugins)
    assert outcome.result.totals.latency == 20  # the hand-computed schedule above
    assert outcome.result.provenance["workload frontend"].startswith("relu-chain (frontend-plugin")


def test_an_object_no_frontend_accepts_is_an_input_error_listing_what_is_accepted(toy_plugins, toy_hardware):
    toy_plugins.register(FrontendPlugin(), name="frontend-plugin")
    with pytest.raises(
        InputError, match=r"no installed frontend reads a builtins\.dict; accepted objects: .*ReluChainSpec"
    ):
        run({"not": "a model"}, toy_hardware(n=1), plugins=toy_plugins)


def test_a_frontend_record_needs_its_object_types():
    with pytest.raises(TypeError):
        FrontendRecord(name="x", factory=ReluChainFrontend)  # type: ignore[call-arg]
