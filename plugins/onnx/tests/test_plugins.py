"""Op parsers as plugins: registration records, third-party additions and overrides, conflicts."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from onnx import TensorProto, helper
from stream_onnx.api import GraphView, parse_elementwise
from stream_onnx.hookspecs import OpParserRecord
from stream_onnx.plugin import BUILTIN_OP_PARSERS, ELEMENTWISE_OPS

from stream_core import hookimpl
from stream_core.context import RunContext
from stream_core.errors import InputError, PluginConflictError
from stream_core.ir import AffineExpr, LoopDim, Node, OperandRole

pytest_plugins = ["stream_core.testing"]

F32 = TensorProto.FLOAT


class OpParsers:
    """A third-party plugin object registering the given records."""

    def __init__(self, *records: OpParserRecord):
        self.records = records

    @hookimpl
    def stream_register_op_parsers(self):
        yield from self.records


def counting_relu(node, graph: GraphView) -> list[Node]:
    """A replacement Relu parser: one flat loop over all elements, marked so the test can see it ran."""
    x, y = node.input[0], node.output[0]
    size = graph.spec(y).num_elements
    operands = [
        graph.operand(x, OperandRole.INPUT, None),
        graph.operand(y, OperandRole.OUTPUT, None),
    ]
    return [graph.make_node(node, [LoopDim("N", size)], operands, attributes={"parser": "third-party"})]


def rejecting_relu(node, graph: GraphView) -> list[Node]:
    raise graph.error(node, "this accelerator has no Relu", attribute="alpha")


def test_every_builtin_op_has_a_record(context):
    registry = context.plugins.registry("op_parsers")
    for op in [*BUILTIN_OP_PARSERS, *ELEMENTWISE_OPS]:
        record = registry.get(f"ai.onnx:{op}")
        assert (record.domain, record.op_type) == ("", op)
    assert context.plugins.origin("op_parsers", "ai.onnx:Conv").startswith("ai.onnx:conv (stream-onnx")
    parser = context.plugins.registry("workload_parsers").get("onnx")
    assert parser.suffixes == (".onnx",)


def test_listing_the_records_imports_no_parser():
    code = (
        "import sys, stream_onnx.plugin as p\n"
        "records = [*p.stream_register_op_parsers(), *p.stream_register_workload_parsers()]\n"
        "print(len(records), 'onnx' in sys.modules, 'stream_onnx.parser' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(len(BUILTIN_OP_PARSERS) + len(ELEMENTWISE_OPS) + 1), "False", "False"]


def silu_model(model):
    silu = helper.make_function(
        "com.example",
        "Silu",
        ["X"],
        ["Y"],
        [helper.make_node("Sigmoid", ["X"], ["S"]), helper.make_node("Mul", ["X", "S"], ["Y"])],
        [helper.make_opsetid("", 18)],
    )
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="proj"),
        helper.make_node("Silu", ["h"], ["y"], name="act", domain="com.example"),
    ]
    inits = {"w": np.zeros((8, 16), np.float32)}
    return model(
        nodes,
        {"x": (F32, [4, 8])},
        {"y": (F32, [4, 16])},
        initializers=inits,
        extra_opsets=[helper.make_opsetid("com.example", 1)],
        functions=[silu],
    )


def test_a_plugin_adds_a_custom_domain_op(stream_plugins, model, parse):
    record = OpParserRecord(
        name="com.example:Silu", domain="com.example", op_type="Silu", factory=lambda: parse_elementwise
    )
    stream_plugins.register(OpParsers(record), name="example-silu")
    w = parse(silu_model(model), RunContext(plugins=stream_plugins))
    act = w.node("act")
    assert (act.domain, act.op_type) == ("com.example", "Silu")
    assert [(loop.name, loop.size) for loop in act.loops] == [("D", 4), ("K", 16)]
    assert act.operands[0].access == (AffineExpr.of("D"), AffineExpr.of("K"))
    assert w.producer("h").name == "proj"


def test_a_plugin_overrides_a_builtin_parser(stream_plugins, model, parse):
    record = OpParserRecord(name="mycorp:Relu", domain="ai.onnx", op_type="Relu", factory=lambda: counting_relu)
    stream_plugins.register(OpParsers(record), name="mycorp")
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"), helper.make_node("Sigmoid", ["r"], ["y"], name="sig")]
    w = parse(model(nodes, {"x": (F32, [2, 3])}, {"y": (F32, [2, 3])}), RunContext(plugins=stream_plugins))
    assert w.node("relu").attribute("parser") == "third-party" and w.node("relu").sizes == {"N": 6}
    assert w.node("sig").loop_names == ("D", "K")  # other ops keep the built-in parser


def test_an_op_parser_error_is_reported_as_input(stream_plugins, model, parse):
    record = OpParserRecord(name="strict:Relu", domain="", op_type="Relu", factory=lambda: rejecting_relu)
    stream_plugins.register(OpParsers(record), name="strict")
    with pytest.raises(InputError) as info:
        parse(model([helper.make_node("Relu", ["x"], ["y"], name="r")], {"x": (F32, [2])}, {"y": (F32, [2])}),
              RunContext(plugins=stream_plugins))  # fmt: skip
    (problem,) = info.value.problems
    assert (
        problem.field == "graph.node.r.attribute.alpha"
        and problem.message == "node 'r' (Relu): this accelerator has no Relu"
    )


def test_two_overrides_of_one_op_conflict_when_used(stream_plugins, model, parse):
    for plugin in ("one", "two"):
        record = OpParserRecord(name=f"{plugin}:Relu", domain="", op_type="Relu", factory=lambda: counting_relu)
        stream_plugins.register(OpParsers(record), name=plugin)
    ctx = RunContext(plugins=stream_plugins)
    sigmoid = model([helper.make_node("Sigmoid", ["x"], ["y"], name="s")], {"x": (F32, [2])}, {"y": (F32, [2])})
    assert len(parse(sigmoid, ctx)) == 1  # a model without Relu is unaffected
    relu = model([helper.make_node("Relu", ["x"], ["y"], name="r")], {"x": (F32, [2])}, {"y": (F32, [2])})
    with pytest.raises(
        PluginConflictError,
        match=r"several plugins override the op parser of ai.onnx:Relu: one:relu \(one 0\), two:relu",
    ):
        parse(relu, ctx)


def test_same_record_name_conflicts_through_the_core_registry(stream_plugins, model, parse):
    record = OpParserRecord(name="ai.onnx:Relu", domain="", op_type="Relu", factory=lambda: counting_relu)
    stream_plugins.register(OpParsers(record), name="clash")
    relu = model([helper.make_node("Relu", ["x"], ["y"], name="r")], {"x": (F32, [2])}, {"y": (F32, [2])})
    with pytest.raises(PluginConflictError, match=r"conflicting plugins for op parser 'ai\.onnx:relu'"):
        parse(relu, RunContext(plugins=stream_plugins))


def test_an_explicit_custom_domain_parser_wins_over_the_op_type(stream_plugins, model, parse):
    record = OpParserRecord(
        name="com.example:Silu", domain="com.example", op_type="Silu", factory=lambda: counting_relu
    )
    stream_plugins.register(OpParsers(record), name="example-silu")
    ctx = RunContext(plugins=stream_plugins)
    act = parse(silu_model(model), ctx).node("act")
    assert act.attribute("parser") == "third-party" and act.sizes == {"N": 64}
    assert ctx.warnings == []  # not parsed by op type
