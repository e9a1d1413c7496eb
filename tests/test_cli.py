"""The `stream` CLI as a user runs it: help, version, listing, validation, exit codes."""

from __future__ import annotations

import json
import sys

import yaml
from cross_test_support import FIXTURE_PLUGIN, gemm_model, stream

from stream_core import __version__, cli, hookimpl
from stream_core.examples import hardware as example_hardware
from stream_core.records import AllocatorRecord
from stream_core.testing import make_plugins


def test_version_and_help():
    assert stream("--version").stdout.strip() == f"stream-core {__version__}"
    help_text = stream("--help").stdout
    for command in ("plugins", "run", "validate"):
        assert command in help_text
    run_help = stream("run", "--help").stdout
    for flag in ("--mapping", "--cost-model", "--allocator", "--solver", "--output", "--strict-plugins"):
        assert flag in run_help


def test_plugins_json_lists_every_installed_distribution():
    data = json.loads(stream("plugins", "--json").stdout)
    rows = {p["distribution"]: p for p in data["plugins"]}
    assert rows["stream-core"]["provides"]["allocators"] == ["greedy"]
    assert rows["stream-onnx"]["status"] == "active"
    assert "onnx" in rows["stream-onnx"]["provides"]["workload_parsers"]
    assert data["conflicts"] == {}


def test_bad_inputs_exit_with_2_and_a_clear_message(tmp_path):
    hardware = str(example_hardware("tpu_like_quad_core"))
    missing = stream("run", str(tmp_path / "nope.onnx"), hardware)
    assert missing.returncode == 2 and "nope.onnx: file not found" in missing.stderr
    assert "Traceback" not in missing.stderr

    model = gemm_model(tmp_path / "g.onnx")
    unknown = stream("run", str(model), hardware, "--cost-model", "roofine")
    assert unknown.returncode == 2
    assert "unknown cost model 'roofine'; did you mean 'roofline'?" in unknown.stderr

    only_one = stream("run", str(model))
    assert only_one.returncode == 2 and "give both WORKLOAD and HARDWARE" in only_one.stderr


def test_validate_reports_every_error_of_every_file(tmp_path):
    bad_hw = tmp_path / "hw.yaml"
    bad_hw.write_text(
        yaml.safe_dump({"cores": {0: "gone.yaml"}, "core_connectivity": [{"cores": [0, 3], "bandwidth": 8}]})
    )
    bad_map = tmp_path / "map.yaml"
    bad_map.write_text(yaml.safe_dump({"layers": [{"name": "x", "inter_core_tiling": [[{"dim": "D1", "split": -1}]]}]}))
    result = stream("validate", str(bad_hw), str(bad_map))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert any("hw.yaml: name: missing required field" in e for e in errors)
    assert any("hw.yaml: offchip_core_id: missing required field" in e for e in errors)
    assert any("hw.yaml: cores.0: core file 'gone.yaml' not found" in e for e in errors)
    assert any("hw.yaml: core_connectivity[0].cores: core 3 is not defined in 'cores'" in e for e in errors)
    assert any(
        "map.yaml: layer 'x'.inter_core_tiling: 'split' of dim 'D1' must be a positive integer, got -1" in e
        for e in errors
    )


def test_validate_accepts_the_bundled_examples():
    from stream_core.examples import HARDWARE_DIR, WORKLOADS_DIR

    files = (
        sorted(HARDWARE_DIR.glob("*.yaml"))
        + sorted(HARDWARE_DIR.glob("cores/*.yaml"))
        + sorted(WORKLOADS_DIR.glob("*.onnx"))
    )
    result = stream("validate", *map(str, files))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok ") == len(files)


class _BrokenAllocator:
    @hookimpl
    def stream_register_allocators(self):
        yield AllocatorRecord(name="explodes", factory=lambda: self, priority=-1)

    def allocate(self, problem, context):
        raise RuntimeError("boom")


def test_internal_error_exits_with_1_and_hides_the_traceback(monkeypatch, capsys, tmp_path, toy_hardware_file):
    sys.path.insert(0, str(FIXTURE_PLUGIN / "src"))
    from stream_example_plugin import plugin as toy_plugin

    plugins = make_plugins(("toy", toy_plugin), ("broken", _BrokenAllocator()))
    monkeypatch.setattr(cli, "load_plugins", lambda strict=False: plugins)
    model = gemm_model(tmp_path / "g.onnx")
    args = ["run", str(model), str(toy_hardware_file), "--allocator", "explodes", "--output", str(tmp_path / "o")]
    code = cli.main(args)
    captured = capsys.readouterr()
    assert code == 1
    assert "internal error: RuntimeError: boom (rerun with --verbose for the traceback)" in captured.err
    assert "Traceback" not in captured.err
    assert cli.main([*args, "--verbose"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_output_directory_of_the_user_is_never_overwritten(tmp_path):
    model = gemm_model(tmp_path / "g.onnx")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "summary.json").write_text("my notes")
    hardware = str(example_hardware("tpu_like_quad_core"))
    refused = stream("run", str(model), hardware, "--output", str(mine), "--cost-model", "roofline")
    assert refused.returncode == 2 and "was not written by stream" in refused.stderr
    assert (mine / "summary.json").read_text() == "my notes"
