"""Outputs appear all or nothing, a user's files are never touched, a manifest cannot reach outside
its folder; exporters are chosen with --export and one failing exporter is reported by name."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from core_test_support import FailingExporter, GoodExporter

from stream_core import hookimpl
from stream_core.errors import InputError, UnknownPluginError
from stream_core.outputs import OUTPUT_MARKER, StagedOutput, write_files
from stream_core.pipeline import run
from stream_core.records import ExporterRecord
from stream_core.testing import relu_chain

FILES = {"top.cpp": b"// top", "src/k.cpp": b"// kernel"}


def _siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir())


def test_an_interrupted_write_leaves_nothing(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt), StagedOutput(target) as staged:
        staged.write(FILES)
        raise KeyboardInterrupt
    assert _siblings(target) == []  # neither the target nor a temporary folder
    write_files(target, FILES)
    with pytest.raises(KeyboardInterrupt), StagedOutput(target) as staged:
        staged.write({"top.cpp": b"// half"})
        raise KeyboardInterrupt
    assert (target / "top.cpp").read_bytes() == b"// top" and _siblings(target) == ["out"]


def test_a_manifest_naming_paths_outside_the_folder_deletes_nothing_there(tmp_path, caplog):
    outside = tmp_path / "other" / "file"
    outside.parent.mkdir()
    outside.write_text("precious")
    absolute = tmp_path / "absolute.txt"
    absolute.write_text("precious too")
    folder = tmp_path / "project"
    folder.mkdir()
    manifest = {"generated_by": "stream-core", "files": ["../other/file", str(absolute), "", "."]}
    (folder / OUTPUT_MARKER).write_text(json.dumps(manifest))
    with caplog.at_level(logging.WARNING, logger="stream_core.outputs"):
        write_files(folder, FILES)
    assert outside.read_text() == "precious" and absolute.read_text() == "precious too"
    assert "lists '../other/file', which is not inside the folder; ignored" in caplog.text
    assert f"lists '{absolute}', which is not inside the folder; ignored" in caplog.text
    assert json.loads((folder / OUTPUT_MARKER).read_text())["files"] == ["src/k.cpp", "top.cpp"]


def test_a_manifest_entry_through_a_link_out_of_the_folder_is_ignored(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "data.bin").write_text("precious")
    folder = tmp_path / "project"
    write_files(folder, FILES)
    (folder / "link").symlink_to(elsewhere)
    manifest = json.loads((folder / OUTPUT_MARKER).read_text())
    manifest["files"] += ["link/data.bin"]
    (folder / OUTPUT_MARKER).write_text(json.dumps(manifest))
    write_files(folder, FILES)  # 'link' is the user's (not listed): kept, and nothing behind it deleted
    assert (elsewhere / "data.bin").read_text() == "precious" and (folder / "link").is_symlink()


def test_user_files_are_kept_and_never_replaced_force_included(tmp_path):
    folder = tmp_path / "project"
    write_files(folder, {**FILES, "stale.cpp": b"// old"})
    (folder / "notes.txt").write_text("mine")
    write_files(folder, FILES)  # stream's own files are replaced, the stale one removed, notes kept
    assert sorted(p.name for p in folder.iterdir()) == [OUTPUT_MARKER, "notes.txt", "src", "top.cpp"]
    for force in (False, True):
        with pytest.raises(InputError, match=r"holds notes\.txt, which stream did not write; it is never replaced"):
            write_files(folder, {**FILES, "notes.txt": b"overwrite?"}, force=force)
    assert (folder / "notes.txt").read_text() == "mine" and (folder / "top.cpp").read_bytes() == b"// top"
    assert _siblings(folder) == ["project"]


class _Exporters:
    """Two exporters: ``good`` writes good.txt; ``bad`` writes half of its file, then raises."""

    @hookimpl
    def stream_register_exporters(self):
        yield ExporterRecord(name="good", factory=GoodExporter, default_enabled=True)
        yield ExporterRecord(name="bad", factory=FailingExporter)


@pytest.fixture
def exporting(toy_plugins, toy_hardware):
    toy_plugins.register(_Exporters(), name="acme-export", distribution="acme-export", version="1.2")
    return toy_plugins, toy_hardware(1)


def _names(outcome) -> list[str]:
    return sorted(p.name for p in outcome.files)


def test_export_selects_exactly_the_named_exporters(exporting, tmp_path):
    plugins, hardware = exporting
    default = run(relu_chain(2), hardware, output=tmp_path / "a", plugins=plugins)
    assert _names(default) == ["gantt.png", "good.txt", "summary.json", "summary.yaml", "trace.json"]
    chosen = run(relu_chain(2), hardware, output=tmp_path / "b", plugins=plugins, exporters=["summary", "Good"])
    assert _names(chosen) == ["good.txt", "summary.json", "summary.yaml"]
    with pytest.raises(UnknownPluginError, match="unknown exporter 'sumary'; did you mean 'summary'"):
        run(relu_chain(2), hardware, output=tmp_path / "c", plugins=plugins, exporters=["sumary"])
    assert not (tmp_path / "c").exists()


def test_a_failing_exporter_is_named_and_the_others_still_write(exporting, tmp_path):
    plugins, hardware = exporting
    outcome = run(relu_chain(2), hardware, output=tmp_path / "o", plugins=plugins, exporters=["bad", "good"])
    assert outcome.export_failures == (
        "exporter bad (acme-export 1.2) failed: TypeError: unsupported format string passed to NoneType.__format__",
    )
    assert _names(outcome) == ["good.txt"]  # bad.csv, half written, is not left behind
    assert (tmp_path / "o" / "good.txt").read_text() == f"latency {outcome.result.totals.latency}"
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [OUTPUT_MARKER, "good.txt"]


def test_cli_exit_3_names_the_failing_exporter(exporting, tmp_path, monkeypatch, capsys):
    from stream_core import cli

    plugins, hardware = exporting
    plugins.register(_Parser(), name="wl-parser")
    monkeypatch.setattr(cli, "load_plugins", lambda strict=False: plugins)
    model = tmp_path / "m.wl"
    model.write_text("2")
    out = tmp_path / "o"
    code = cli.main(["run", str(model), str(hardware), "-o", str(out), "--export", "bad", "--export", "good", "-q"])
    assert code == 3
    err = capsys.readouterr().err
    assert "error: exporter bad (acme-export 1.2) failed: TypeError: unsupported format" in err
    assert f"the other outputs are in {out}/" in err and (out / "good.txt").exists()


class _Parser:
    @hookimpl
    def stream_register_workload_parsers(self):
        from stream_core.records import WorkloadParserRecord

        yield WorkloadParserRecord(name="wl", suffixes=(".wl",), factory=lambda: self)

    def parse(self, path, context):
        return relu_chain(int(path.read_text()))


def test_ctrl_c_during_a_run_leaves_no_output(toy_plugins, toy_hardware, tmp_path, monkeypatch):
    from stream_core import cli, pipeline

    def interrupted(state, context):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "STAGES", (*pipeline.STAGES[:-1], ("export", interrupted)))
    toy_plugins.register(_Parser(), name="wl-parser")
    monkeypatch.setattr(cli, "load_plugins", lambda strict=False: toy_plugins)
    model = tmp_path / "m.wl"
    model.write_text("2")
    assert cli.main(["run", str(model), str(toy_hardware(1)), "-o", str(tmp_path / "out"), "-q"]) == 130
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.*"))


def test_a_closed_pipe_exits_quietly():
    """``stream plugins | head -1``: the reader is gone before we write (here: before we start)."""
    import subprocess
    import sys

    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; from stream_core.cli import main; sys.exit(main(['plugins']))"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    err = child.stderr.read()
    assert child.wait(timeout=60) == 141 and err == b""


class _Board:
    """A target whose file lookup is counted, its code generator and a workload format."""

    def __init__(self, target_file: Path):
        self.target_file = target_file
        self.lookups = 0

    def _file(self) -> Path:
        self.lookups += 1
        return self.target_file

    @hookimpl
    def stream_register_targets(self):
        from stream_core.records import TargetRecord

        yield TargetRecord(name="board", factory=self._file, code_generator="board-hls")

    @hookimpl
    def stream_register_code_generators(self):
        from stream_core.records import CodeGeneratorRecord

        yield CodeGeneratorRecord(name="board-hls", factory=lambda: self)

    def generate(self, workload, target, context):
        from stream_core.outputs import Generated

        return Generated({"top.cpp": f"// {len(workload)} nodes for {target.name}".encode()}, summary="1 kernel")


def test_compile_resolves_the_target_once_and_writes_all_or_nothing(toy_plugins, tmp_path, monkeypatch, capsys):
    from stream_core import cli

    board = _Board(tmp_path / "board.yaml")
    toy_plugins.register(board, name="board")
    toy_plugins.register(_Parser(), name="wl-parser")
    monkeypatch.setattr(cli, "load_plugins", lambda strict=False: toy_plugins)
    model = tmp_path / "m.wl"
    model.write_text("3")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["compile", str(model), "--target", "board"]) == 0
    assert board.lookups == 1
    assert (tmp_path / "stream-output" / "m-board" / "top.cpp").read_text() == "// 1 nodes for board.yaml"
    assert "wrote 1 files to stream-output/m-board/ (board-hls (board 0))" in capsys.readouterr().out
