"""``stream fifo-size``: the command object with an in-process workload parser, targets, and the real CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from stream_itensor.command import FifoSizeCommand, parse_tiles
from stream_itensor.examples import diamond

from stream_core import hookimpl
from stream_core.cli import options_from_args
from stream_core.context import RunContext
from stream_core.errors import InputError
from stream_core.plugins import Plugins
from stream_core.records import WorkloadParserRecord
from stream_core.testing import make_plugins


class DiamondParser:
    def parse(self, path: Path, context: RunContext) -> Any:
        workload, _ = diamond(rows=8, cols=4)
        return workload


class DiamondPlugin:
    @hookimpl
    def stream_register_workload_parsers(self) -> Any:
        yield WorkloadParserRecord(name="test-diamond", description="test", suffixes=(".wl",), factory=DiamondParser)


@pytest.fixture
def test_plugins() -> Plugins:
    return make_plugins(("test-diamond", DiamondPlugin()))


def run(plugins: Plugins, *argv: str) -> int:
    command = FifoSizeCommand()
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    args = parser.parse_args(list(argv))
    return command.run(args, RunContext(plugins=plugins, options=options_from_args(args)))


def test_fifo_size_prints_and_writes_json(test_plugins: Plugins, tmp_path: Path, capsys: Any) -> None:
    source = tmp_path / "d.wl"
    source.write_text("diamond")
    out = tmp_path / "sizes.json"
    assert (
        run(test_plugins, str(source), "--tile", "r=2", "--solver", "highs", "--output", str(out), "--simulate", "2")
        == 0
    )
    text = capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["workload"] == "diamond" and data["target"] == "default" and data["budget_bits"] is None
    fifos = {f["name"]: f for f in data["fifos"]}
    assert set(fifos) == {"a->b:ya", "a->c:ya", "b->d:yb", "c->d:yc"}
    for f in fifos.values():
        assert f["token_bits"] == 2 * 4 * 32  # 2 rows x 4 columns of float32 per token
        assert f["bits"] == f["depth"] * f["token_bits"] and f["depth"] >= 1
        assert f"{f['name']}" in text
    assert data["totals"]["fifo_bits"] == sum(f["bits"] for f in fifos.values())
    assert f"total FIFO bits {data['totals']['fifo_bits']}" in text
    assert data["groups"][0]["lp"]["solver"] == "highs"
    (sim,) = data["simulation"]
    assert not sim["deadlock"] and sim["cycles"] == sim["unbounded_cycles"]
    kernel = next(k for k in data["kernels"] if k["name"] == "a")
    assert kernel["iterations"] == 4 and kernel["ports"][0]["itensor"] == (
        "itensor<2x4xf32, iter_space: [4]*[2], iter_map: (d0)->(d0,0)>"
    )


def test_target_file_splits_groups(test_plugins: Plugins, tmp_path: Path) -> None:
    source = tmp_path / "d.wl"
    source.write_text("diamond")
    target = tmp_path / "small.yaml"
    # a, b and c each need 2 x 2x4 floats (64 bytes), d 96 bytes: 150 bytes hold two of them
    target.write_text("name: small\non_chip_memory_bytes: 150\nkernel: {macs_per_cycle: 8, ops_per_cycle: 8}\n")
    out = tmp_path / "o.json"
    assert run(test_plugins, str(source), "--tile", "r=2", "--target", str(target), "--output", str(out)) == 0
    data = json.loads(out.read_text())
    assert [g["kernels"] for g in data["groups"]] == [["a", "b"], ["c"], ["d"]]
    assert data["budget_bits"] == 1200 and len(data["fifos"]) == 1
    assert [e["name"] for e in data["edges"] if not e["streams"]] == ["a->c:ya", "b->d:yb", "c->d:yc"]


def test_bad_target_reports_every_problem(test_plugins: Plugins, tmp_path: Path) -> None:
    source = tmp_path / "d.wl"
    source.write_text("diamond")
    target = tmp_path / "bad.yaml"
    target.write_text("on_chip_memory: 10\nkernel: {macs_per_cycle: -1, speed: 3}\nconverter_bits_per_cycle: 0\n")
    with pytest.raises(InputError) as info:
        run(test_plugins, str(source), "--target", str(target))
    fields = sorted(p.field or "" for p in info.value.problems)
    assert fields == [
        "converter_bits_per_cycle",
        "kernel.macs_per_cycle",
        "kernel.speed",
        "on_chip_memory",
        "on_chip_memory_bytes",
    ]
    assert all(p.file == str(target) for p in info.value.problems)
    assert "did you mean 'on_chip_memory_bytes'" in str(info.value)
    with pytest.raises(InputError, match="no registered target of that name"):
        run(test_plugins, str(source), "--target", "no-such-target")


def test_tile_arguments() -> None:
    assert parse_tiles([]) is None
    tiling = parse_tiles(["OY=1", "m=16"])
    assert tiling is not None and dict(tiling.tiles) == {"OY": 1, "m": 16}
    with pytest.raises(InputError) as info:
        parse_tiles(["OY", "m=0", "k=x"])
    assert len(info.value.problems) == 3


def test_command_is_registered() -> None:
    assert "fifo-size" in Plugins.discover().registry("commands")


def test_cli_on_an_onnx_residual_block(tmp_path: Path, capsys: Any) -> None:
    """Through stream-core's argument parser with the ONNX and solver plugins (other installed ones left out)."""
    onnx_plugin = pytest.importorskip("stream_onnx.plugin")
    onnx = pytest.importorskip("onnx")
    np = pytest.importorskip("numpy")
    from onnx import TensorProto, helper, numpy_helper
    from stream_itensor import plugin as itensor_plugin

    from stream_core.cli import build_parser

    weights = [numpy_helper.from_array(np.zeros((4, 4, 3, 3), np.float32), name) for name in ("w1", "w2")]
    nodes = [
        helper.make_node("Relu", ["x"], ["y0"], name="relu0"),
        helper.make_node("Conv", ["y0", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Add", ["y0", "c2"], ["y"], name="add"),
    ]
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 4, 8, 8]) for n in ("x", "y")]
    graph = helper.make_graph(nodes, "res", [io[0]], [io[1]], weights)
    path = tmp_path / "res.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    from stream_solvers import plugin as solvers_plugin

    mine = [("stream-onnx", onnx_plugin), ("stream-solvers", solvers_plugin), ("stream-itensor", itensor_plugin)]
    plugins = make_plugins(*mine, entry_points=False)
    out = tmp_path / "res.json"
    argv = ["fifo-size", str(path), "--tile", "OY=1", "--solver", "highs", "-o", str(out), "--simulate", "2"]
    args = build_parser(plugins).parse_args(argv)
    assert args.plugin_command.run(args, RunContext(plugins=plugins, options=options_from_args(args))) == 0
    data = json.loads(out.read_text())
    depths = {f["name"]: f["depth"] for f in data["fifos"]}
    assert set(depths) == {"relu0->conv1:y0", "relu0->add:y0", "conv1->relu1:c1", "relu1->conv2:r1", "conv2->add:c2"}
    # the residual FIFO covers the latency of two convolutions; a convolution's input holds its lookahead row
    assert depths["relu0->add:y0"] > depths["conv2->add:c2"] and depths["relu0->conv1:y0"] >= 2
    assert not data["simulation"][0]["deadlock"]
    args = build_parser(plugins).parse_args(["fifo-size", str(path), "--tile", "OY=3"])
    with pytest.raises(InputError, match="must be a positive divisor"):
        args.plugin_command.run(args, RunContext(plugins=plugins, options=options_from_args(args)))


class _Counting(DiamondParser):
    parsed = 0

    def parse(self, path: Path, context: RunContext) -> Any:
        _Counting.parsed += 1
        return super().parse(path, context)


def test_a_users_file_is_refused_before_any_work_and_ours_replaced_whole(tmp_path: Path) -> None:
    class Plugin:
        @hookimpl
        def stream_register_workload_parsers(self) -> Any:
            yield WorkloadParserRecord(name="counting", suffixes=(".wl",), factory=_Counting)

    plugins = make_plugins(("counting", Plugin()))
    source = tmp_path / "d.wl"
    source.write_text("diamond")
    mine = tmp_path / "mine.json"
    mine.write_text('{"my": "notes"}')
    with pytest.raises(InputError, match="was not written by stream"):
        run(plugins, str(source), "--output", str(mine))
    assert _Counting.parsed == 0 and mine.read_text() == '{"my": "notes"}'
    out = tmp_path / "sizes.json"
    assert run(plugins, str(source), "--output", str(out)) == 0
    assert json.loads(out.read_text())["generated_by"] == "stream fifo-size"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.wl", "mine.json", "sizes.json"]  # no temporary left
