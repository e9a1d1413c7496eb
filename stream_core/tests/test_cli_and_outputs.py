"""CLI robustness against broken plugin commands, and output files a user wrote are never replaced."""

from __future__ import annotations

import json
import logging

import pytest

from stream_core import cli, hookimpl
from stream_core.cli import build_parser, options_from_args
from stream_core.errors import InputError, PluginLoadError
from stream_core.outputs import GENERATED_BY, Generated, check_output_file, prepare_output_dir
from stream_core.records import CodeGeneratorRecord, CommandRecord, TargetRecord, WorkloadParserRecord
from stream_core.testing import make_plugins, relu_chain


class _Commands:
    @hookimpl
    def stream_register_commands(self):
        yield CommandRecord(name="broken", description="fails to import", factory=self._explode)
        yield CommandRecord(name="hello", description="works", factory=lambda: _Hello())

    @staticmethod
    def _explode():
        raise ImportError("No module named 'vendor_sdk'")


class _Hello:
    def add_arguments(self, parser):
        from stream_core.cli import add_run_options

        add_run_options(parser, cache=False)

    def run(self, args, context):
        return 0


def test_a_broken_command_is_skipped_with_a_warning(caplog):
    plugins = make_plugins(("cmds", _Commands()), entry_points=False)
    with caplog.at_level(logging.WARNING, logger="stream_core"):
        parser = build_parser(plugins)
    assert (
        "command broken (cmds 0) failed to load and was skipped: ImportError: No module named 'vendor_sdk'"
        in caplog.text
    )
    args = parser.parse_args(["hello", "--solver", "highs", "--time-limit", "5", "--set", "x.y=3"])
    options = options_from_args(args)
    assert (options.solver, options.time_limit, options.settings, options.cost_model) == (
        "highs",
        5.0,
        {"x.y": 3},
        None,
    )
    with pytest.raises(PluginLoadError, match=r"command broken .* failed to load"):
        build_parser(plugins, strict=True)


def test_output_files_and_directories_of_the_user_are_kept(tmp_path):
    mine = tmp_path / "notes.json"
    mine.write_text('{"my": "data"}')
    with pytest.raises(InputError, match="was not written by stream"):
        check_output_file(mine)
    check_output_file(mine, force=True)  # explicit permission
    ours = tmp_path / "sizes.json"
    ours.write_text(json.dumps({GENERATED_BY: "stream fifo-size"}))
    check_output_file(ours)
    check_output_file(tmp_path / "new.json")

    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "report.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty and was not written by stream"):
        prepare_output_dir(folder)
    assert prepare_output_dir(tmp_path / "fresh").is_dir()
    assert prepare_output_dir(tmp_path / "fresh").is_dir()  # ours: reused


class _FakeTarget:
    """A target, its code generator and a workload format, registered in-process."""

    def __init__(self, target_file):
        self.target_file = target_file
        self.seen = {}

    @hookimpl
    def stream_register_targets(self):
        yield TargetRecord(name="board", factory=lambda: self.target_file, code_generator="board-hls")

    @hookimpl
    def stream_register_code_generators(self):
        yield CodeGeneratorRecord(name="board-hls", factory=lambda: self)

    @hookimpl
    def stream_register_workload_parsers(self):
        yield WorkloadParserRecord(name="wl", suffixes=(".wl",), factory=lambda: self)

    def parse(self, path, context):
        return relu_chain(int(path.read_text()))

    def generate(self, workload, target, context):
        self.seen = {"nodes": len(workload), "target": target, "unroll": context.setting("board.unroll")}
        return Generated({"top.cpp": b"// top", "src/k.cpp": b"// kernel"}, summary="2 kernels")


def test_compile_dispatches_to_the_targets_code_generator(tmp_path, capsys, monkeypatch):
    from stream_core import cli

    board = _FakeTarget(tmp_path / "board.yaml")
    plugins = make_plugins(("board", board), entry_points=False)
    monkeypatch.setattr(cli, "load_plugins", lambda strict=False: plugins)
    model = tmp_path / "m.wl"
    model.write_text("3")
    out = tmp_path / "proj"
    assert cli.main(["compile", str(model), "--target", "board", "-o", str(out), "--set", "board.unroll=8"]) == 0
    assert board.seen == {"nodes": 1, "target": tmp_path / "board.yaml", "unroll": 8}
    assert (out / "src" / "k.cpp").read_text() == "// kernel"
    printed = capsys.readouterr().out
    assert "2 kernels" in printed and "wrote 2 files" in printed
    assert cli.main(["compile", str(model), "--target", "nowhere", "-o", str(out)]) == 2
    assert "unknown target 'nowhere': not a registered target (board) and not a file" in capsys.readouterr().err


def test_cost_cache_follows_xdg(monkeypatch, tmp_path):
    from stream_core.context import RunOptions, default_cache_dir

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "stream-core"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "stream-core"
    assert RunOptions(cache_dir=tmp_path / "mine").effective_cache_dir == tmp_path / "mine"


@pytest.mark.parametrize(
    ("raw", "expected"), [(True, True), (False, False), ("On", True), (" yes ", True), ("0", False), ("OFF", False)]
)
def test_flag_settings_read_words_and_bools(raw, expected):
    from stream_core.context import parse_flag

    assert parse_flag(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", "", "2", None])
def test_a_flag_setting_that_is_no_flag_is_refused(raw):
    from stream_core.context import parse_flag

    with pytest.raises(ValueError, match=f"expected true or false, got {raw!r}"):
        parse_flag(raw)


def test_strict_costs_is_a_standard_run_option():
    parser = build_parser(make_plugins(("cmds", _Commands()), entry_points=False))
    assert options_from_args(parser.parse_args(["hello", "--strict-costs"])).strict_costs is True
    assert options_from_args(parser.parse_args(["run"])).strict_costs is False


def test_set_values_are_read_by_the_bounded_yaml_reader(capsys):
    """A ``--set`` value is YAML read like every input: a malformed one is exit 2 naming the key, not an
    internal error; a value like ``[1, 2]`` still becomes a list."""
    assert cli.main(["run", "--set", "onnx.dims=[1,", "-q"]) == 2
    assert "error: --set onnx.dims: invalid YAML: line 1, column 4" in capsys.readouterr().err
    assert cli._settings(["a.b=[1, 2]", "c.d=on", "e.f=3"]) == {"a.b": [1, 2], "c.d": True, "e.f": 3}


def test_run_json_prints_the_summary_of_the_result(tmp_path, capsys):
    """--json prints summary_dict of the run's result, the export stage's seconds included; read back
    from summary.json when the summary exporter ran, computed when it did not."""
    import stream_core
    from stream_core import RunOptions
    from stream_core.examples import example_paths
    from stream_core.report import summary_dict

    fast = ["--cost-model", "roofline", "--allocator", "greedy", "--mapper", "whole-layer", "--no-cache"]
    for exporters in ([], ["--export", "mapping-yaml"]):
        out = tmp_path / f"run{len(exporters)}"
        assert cli.main(["run", "-q", "--json", "-o", str(out), *fast, *exporters]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert list(printed["stats"]["stage_seconds"]) == ["parse", "map", "cost", "allocate", "export"]
        assert (out / "summary.json").exists() == (not exporters)
    written = json.loads((tmp_path / "run0" / "summary.json").read_text())
    assert list(written["stats"]["stage_seconds"]) == ["parse", "map", "cost", "allocate"]

    plugins = make_plugins()
    options = RunOptions(cost_model="roofline", allocator="greedy", mapper="whole-layer", use_cache=False)
    for exporters in (None, ["mapping-yaml"]):
        outcome = stream_core.run(
            *example_paths(), options=options, plugins=plugins, output=tmp_path / f"api{exporters}", exporters=exporters
        )
        expected = summary_dict(outcome.result, outcome.problem.accelerator)
        assert json.dumps(cli.printed_summary(outcome, plugins)) == json.dumps(expected)
