"""No silent approximation: costs a model could not give itself, operand widths that fell back,
accelerator notes and the built-in-only hint reach the summary and the terminal; ``--strict-costs``
turns fallbacks into exit 2."""

from __future__ import annotations

import json

import attrs
import pytest
from core_test_support import TOY_COMPUTE, write_yaml
from stream_example_plugin import plugin as toy_plugin
from stream_example_plugin.core import ToyCoreType

from stream_core import hookimpl
from stream_core.builtin.roofline import roofline_cost
from stream_core.context import RunOptions
from stream_core.errors import InputError
from stream_core.hardware import load_accelerator
from stream_core.ir import AffineExpr, LoopDim, Node, Operand, TensorSpec, Workload
from stream_core.pipeline import run
from stream_core.plugins import Plugins
from stream_core.records import CoreTypeRecord, CostModelRecord, WorkloadParserRecord
from stream_core.report import summary_dict, summary_table
from stream_core.testing import conv_node, make_plugins

NO_RELU = "fake has no Relu kernel"
NARROW = "a 32-bit output does not fit the 16-bit register; Stream 1.13 widths used"
PRECISION = "workload dtypes (int8)"


def relu(name: str, x: str, y: str) -> Node:
    loops = [LoopDim(d, n) for d, n in (("B", 1), ("K", 8), ("OY", 8), ("OX", 8))]
    access = tuple(AffineExpr.of(d) for d in ("B", "K", "OY", "OX"))
    return Node(name, "Relu", loops, [Operand("input", x, 8, access), Operand("output", y, 8, access)])


def conv_relu_twice() -> Workload:
    """c1 (C=4) -> r1 -> c2 (C=8) -> r2, all int8 on 8x8 pixels with 8 output channels."""
    shapes = {"x": (1, 4, 8, 8), "w1": (8, 4, 3, 3), "w2": (8, 8, 3, 3)} | {
        t: (1, 8, 8, 8) for t in ("y1", "y2", "y3", "y4")
    }
    tensors = {name: TensorSpec(name, shape, "int8") for name, shape in shapes.items()}
    nodes = [
        conv_node("c1", c=4, k=8, oy=8, ox=8, tensors=("x", "w1", "y1")),
        relu("r1", "y1", "y2"),
        conv_node("c2", c=8, k=8, oy=8, ox=8, tensors=("y2", "w2", "y3")),
        relu("r2", "y3", "y4"),
    ]
    return Workload("conv_relu", nodes, tensors, inputs=["x", "w1", "w2"], outputs=["y4"])


class FakeModel:
    """Costs toy cores like the roofline, but answers Relu through the roofline with a
    ``fallback_reason``, reports a precision for all and a precision fallback for C=8 convs."""

    @hookimpl
    def stream_register_cost_models(self):
        yield CostModelRecord(name="fake", factory=lambda: self, core_types={"toy"})

    @hookimpl
    def stream_register_workload_parsers(self):
        yield WorkloadParserRecord(name="fake-wl", suffixes=(".wl",), factory=lambda: self)

    def parse(self, path, context):
        return conv_relu_twice()

    def cost(self, requests, context):
        out = []
        for request in requests:
            if request.node.op_type == "Relu":
                result = roofline_cost(request)
                out.append(attrs.evolve(result, details=(*result.details, ("fallback_reason", NO_RELU))))
                continue
            details = {"precision": PRECISION}
            if request.node.sizes["C"] == 8:
                details["precision_fallback"] = NARROW
            out.append(attrs.evolve(roofline_cost(request, model="fake"), details=details))
        return out


@pytest.fixture
def big_toy(toy_hardware):
    return toy_hardware(n=1, compute={**TOY_COMPUTE, "memory_bits": 10**6})


@pytest.fixture
def fake_plugins(stream_plugins):
    stream_plugins.register(toy_plugin, name="toy-plugin")
    stream_plugins.register(FakeModel(), name="fake")
    return stream_plugins


def test_summary_lists_exactly_the_fallen_back_nodes(fake_plugins, big_toy):
    options = RunOptions(cost_model="fake", allocator="greedy", use_cache=False)
    outcome = run(conv_relu_twice(), big_toy, plugins=fake_plugins, options=options)
    data = summary_dict(outcome.result, outcome.problem.accelerator)
    rows = {row["node"]: row for row in data["nodes"]}
    assert {n: r.get("fallback_reason") for n, r in rows.items()} == {
        "c1": None,
        "r1": NO_RELU,
        "c2": None,
        "r2": NO_RELU,
    }
    assert [rows[n]["cost_model"] for n in ("c1", "r1", "c2", "r2")] == ["fake", "roofline", "fake", "roofline"]
    assert rows["c1"]["precision"] == rows["c2"]["precision"] == PRECISION
    assert rows["r1"]["precision"] == "workload widths: input 8, output 8 bits"  # the roofline's answer
    assert {n: r.get("precision_fallback") for n, r in rows.items()} == {
        "c1": None,
        "r1": None,
        "c2": NARROW,
        "r2": None,
    }
    assert data["warnings"] == [
        f"2 nodes costed by roofline, not fake, because {NO_RELU}: r1, r2",
        f"1 node with operand widths that fell back ({NARROW}): c2",
    ]
    table = summary_table(outcome.result, outcome.problem.accelerator)
    assert f"warning: 2 nodes costed by roofline, not fake, because {NO_RELU}: r1, r2" in table
    # the roofline really answered: r1's 512 points on 4 ops/cycle, or its 1024 bits over 8 bits/cycle
    assert next(t for t in outcome.result.tiles if t.node == "r1").duration == max(512 // 4, 512 * 8 // 8)


def _cli(monkeypatch, plugins, *argv):
    from stream_core import cli

    monkeypatch.setattr(cli, "load_plugins", lambda strict=False: plugins)
    return cli.main(list(argv))


def test_strict_costs_exits_2_naming_nodes_and_reasons(fake_plugins, big_toy, tmp_path, monkeypatch, capsys):
    workload = tmp_path / "m.wl"
    workload.write_text("")
    args = ["run", str(workload), str(big_toy), "--cost-model", "fake", "--allocator", "greedy", "--no-cache"]
    assert _cli(monkeypatch, fake_plugins, *args, "-o", str(tmp_path / "a"), "--strict-costs") == 2
    err = capsys.readouterr().err
    assert f"error: --strict-costs: 2 nodes costed by roofline, not fake, because {NO_RELU}: r1, r2" in err
    assert f"--strict-costs: 1 node with operand widths that fell back ({NARROW}): c2" in err
    assert _cli(monkeypatch, fake_plugins, *args, "-o", str(tmp_path / "b")) == 0
    out = capsys.readouterr().out
    assert f"warning: 1 node with operand widths that fell back ({NARROW}): c2" in out
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert [r["node"] for r in summary["nodes"] if "fallback_reason" in r] == ["r1", "r2"]


class BareCores:
    """A core type whose record names no cost model: the roofline stands in and says so."""

    @hookimpl
    def stream_register_core_types(self):
        yield CoreTypeRecord(name="bare", factory=ToyCoreType, kinds={"compute"})


def bare_hardware(tmp_path, toy_hardware):
    path = toy_hardware(n=1, compute={**TOY_COMPUTE, "memory_bits": 10**6})
    write_yaml(tmp_path / "cores" / "bare.yaml", {**TOY_COMPUTE, "type": "bare.compute", "memory_bits": 10**6})
    data = {
        "name": "bare_acc",
        "cores": {0: "little.yaml", 1: "bare.yaml", 2: "dram.yaml"},
        "offchip_core_id": 2,
        "core_connectivity": [{"type": "bus", "cores": [0, 1, 2], "bandwidth": 8}],
    }
    write_yaml(path, data)
    return path


def test_a_core_type_without_cost_model_is_a_listed_fallback(tmp_path, toy_hardware):
    plugins = make_plugins(("toy-plugin", toy_plugin), ("bare", BareCores()), entry_points=False)
    mapping = write_yaml(tmp_path / "m.yaml", {"layers": [{"name": "default", "core_allocation": [[1]]}]})
    outcome = run(conv_relu_twice(), bare_hardware(tmp_path, toy_hardware), mapping, plugins=plugins)
    assert outcome.result.warnings == (
        "4 nodes costed by roofline because core type 'bare' names no cost model: c1, r1, c2, r2",
    )
    with pytest.raises(InputError, match="core type 'bare' names no cost model: c1, r1, c2, r2"):
        run(
            conv_relu_twice(),
            outcome.problem.accelerator,
            mapping,
            plugins=plugins,
            options=RunOptions(strict_costs=True),
        )


def test_only_builtins_installed_gives_a_hint_unless_the_user_chose_them(toy_plugins, big_toy):
    outcome = run(conv_relu_twice(), big_toy, plugins=toy_plugins)
    [hint] = [n for n in outcome.result.notes if "built-in" in n]
    assert hint.startswith(
        "mapped by the built-in whole-layer mapper (layer by layer, no fusion) and scheduled by the built-in "
        "greedy list scheduler: no other mapper or allocator is installed; a fusing mapper or an optimising "
        "allocator can change the answer (pip install stream-tetra for the fused mapper and TETRA allocation)"
    )
    assert f"note: {hint}" in summary_table(outcome.result, outcome.problem.accelerator)

    chosen = run(conv_relu_twice(), big_toy, plugins=toy_plugins, options=RunOptions(allocator="greedy"))
    [hint] = [n for n in chosen.result.notes if "built-in" in n]
    assert hint == (
        "mapped by the built-in whole-layer mapper (layer by layer, no fusion): no other mapper is installed; "
        "a fusing mapper can change the answer (pip install stream-tetra for the fused mapper)"
    )
    assert chosen.result.provenance["allocator"].endswith(", selected with allocator='greedy'")  # the API's words


def test_a_disabled_plugin_is_named_in_the_hint(big_toy):
    plugins = Plugins.discover(disabled=["stream-tetra"])
    plugins.register(toy_plugin, name="toy-plugin")
    outcome = run(conv_relu_twice(), big_toy, plugins=plugins)
    [hint] = [n for n in outcome.result.notes if "built-in" in n]
    assert "installed but not loaded: stream-tetra (disabled)" in hint


def test_accelerator_notes_reach_summary_and_validate(toy_plugins, big_toy, monkeypatch, capsys):
    import yaml

    data = yaml.safe_load(big_toy.read_text())
    write_yaml(big_toy, {**data, "technology_node": "n3"})
    acc = load_accelerator(big_toy, toy_plugins)
    outcome = run(conv_relu_twice(), acc, plugins=toy_plugins, options=RunOptions(allocator="greedy"))
    note = "technology_node: kept, not modelled (Stream uses it only for its hardware cost report)"
    assert note in summary_dict(outcome.result, acc)["notes"]
    assert _cli(monkeypatch, toy_plugins, "validate", str(big_toy)) == 0
    assert f"note: {note}" in capsys.readouterr().out
