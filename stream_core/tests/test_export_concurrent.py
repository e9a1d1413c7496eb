"""Writers and exporters run at the same time in forked children: the same files as one after
another, all or nothing per writer, a failing one named, no child left behind; sequential without
fork. The summary's YAML is PyYAML's ``safe_dump`` text whichever emitter writes it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import yaml

from stream_core import hookimpl, pipeline
from stream_core.context import RunContext
from stream_core.outputs import write_each
from stream_core.pipeline import PipelineState, export_stage, run
from stream_core.records import ExporterRecord
from stream_core.report import summary_dict
from stream_core.testing import relu_chain

forking = pytest.mark.skipif(not hasattr(os, "fork"), reason="the platform cannot fork")


def _writes(name: str, text: str):
    def writer(folder: Path) -> int:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
        return os.getpid()

    return writer


def _raises(folder: Path) -> None:
    (folder / "half.csv").write_text("node,lat")
    raise ValueError("no column 'lat'")


def _gone(pid: int) -> bool:
    """Whether ``pid`` was reaped: no such child to wait for (no zombie either)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@forking
def test_writers_run_in_children_and_their_files_merge_in_order(tmp_path):
    writers = [_writes("a/x.txt", "first"), _raises, _writes("a/x.txt", "second"), _writes("b.txt", "b")]
    done = write_each(writers, tmp_path)
    assert [d.error for d in done] == ["", "ValueError: no column 'lat'", "", ""]
    assert "_raises" in done[1].details  # the child's traceback comes back
    children = {done[0].value, done[2].value}
    assert os.getpid() not in children and done[3].value == os.getpid()  # the last runs here
    assert all(_gone(pid) for pid in children)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["a", "a/x.txt", "b.txt"]
    assert (tmp_path / "a" / "x.txt").read_text() == "second"  # the later writer's file, as in sequence


def test_without_fork_writers_run_one_after_another_with_the_same_files(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "fork", raising=False)
    done = write_each([_writes("a/x.txt", "first"), _raises, _writes("a/x.txt", "second")], tmp_path)
    assert [d.value for d in done] == [os.getpid(), None, os.getpid()]
    assert done[1].error == "ValueError: no column 'lat'"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "x.txt"]
    assert (tmp_path / "a" / "x.txt").read_text() == "second"


@forking
def test_a_fork_that_fails_leaves_the_writers_to_this_process(tmp_path, monkeypatch):
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    done = write_each([_writes("a.txt", "a"), _writes("b.txt", "b")], tmp_path)
    assert [d.value for d in done] == [os.getpid(), os.getpid()]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


@forking
def test_a_child_that_dies_is_reported_and_the_others_write(tmp_path):
    def dies(folder: Path) -> None:
        (folder / "partial.bin").write_bytes(b"\0")
        os.kill(os.getpid(), signal.SIGKILL)

    done = write_each([dies, _writes("b.txt", "b")], tmp_path)
    assert done[0].error == f"its process ended without a result (killed by signal {int(signal.SIGKILL)})"
    assert [p.name for p in tmp_path.iterdir()] == ["b.txt"]


@forking
def test_an_interrupt_kills_and_reaps_the_children(tmp_path):
    pid_file = tmp_path.parent / f"{tmp_path.name}.pid"

    def slow(folder: Path) -> None:
        pid_file.write_text(str(os.getpid()))
        time.sleep(60)

    def interrupted(folder: Path) -> None:
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        write_each([slow, interrupted], tmp_path)
    assert time.monotonic() - started < 20
    child = int(pid_file.read_text())
    assert _gone(child)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


class _Exporters:
    """``good`` writes good.txt; ``bad`` writes half a file, then raises; ``warns`` warns and writes."""

    @hookimpl
    def stream_register_exporters(self):
        yield ExporterRecord(name="good", factory=lambda: _Good())
        yield ExporterRecord(name="bad", factory=lambda: _Bad())
        yield ExporterRecord(name="warns", factory=lambda: _Warns())


class _Good:
    def export(self, result, problem, output_dir, context):
        path = output_dir / "good.txt"
        path.write_text(f"latency {result.totals.latency}")
        return [path]


class _Bad:
    def export(self, result, problem, output_dir, context):
        (output_dir / "bad.csv").write_text("node,lat")
        raise TypeError("unsupported format string passed to NoneType.__format__")


def _warning(pid: int) -> str:
    return f"warns: written by process {pid}"


class _Warns:
    def export(self, result, problem, output_dir, context):
        context.warn(_warning(os.getpid()))
        path = output_dir / "warned.txt"
        path.write_text("ok")
        return [path]


@pytest.fixture
def computed(toy_plugins, toy_hardware):
    """A toy run's state and context, its result computed and nothing exported yet."""
    toy_plugins.register(_Exporters(), name="acme-export", distribution="acme-export", version="1.2")
    outcome = run(relu_chain(3), toy_hardware(2), plugins=toy_plugins)
    problem = outcome.problem
    state = PipelineState(None, problem.accelerator)
    state.workload, state.accelerator, state.mapping = problem.workload, problem.accelerator, problem.mapping
    state.tilings, state.costs, state.result = problem.tilings, problem.costs, outcome.result
    return state, RunContext(plugins=toy_plugins)


def _export(state: PipelineState, context: RunContext, folder: Path, names: list[str]) -> dict[str, bytes]:
    folder.mkdir()
    state.output_dir, state.exporters, state.export_failures = folder, names, []
    export_stage(state, context)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@forking
def test_concurrent_export_writes_the_same_bytes_as_sequential(computed, tmp_path, monkeypatch):
    state, context = computed
    names = ["gantt", "warns", "good", "perfetto", "summary"]  # all but summary in children
    monkeypatch.setattr(pipeline, "CONCURRENT_EXPORT", 10**9)
    alone = _export(state, context, tmp_path / "sequential", names)
    assert context.warnings == [_warning(os.getpid())]
    monkeypatch.setattr(pipeline, "CONCURRENT_EXPORT", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    context.warnings.clear()
    together = _export(state, context, tmp_path / "concurrent", names)
    assert sorted(together) == ["gantt.png", "good.txt", "summary.json", "summary.yaml", "trace.json", "warned.txt"]
    assert together == alone and state.export_failures == []
    [warning] = context.warnings  # given in a child, kept in this process's context
    assert warning.startswith("warns: written by process ") and warning != _warning(os.getpid())


@forking
def test_a_failing_exporter_in_a_child_is_named_and_the_others_still_write(computed, tmp_path, monkeypatch):
    state, context = computed
    monkeypatch.setattr(pipeline, "CONCURRENT_EXPORT", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    files = _export(state, context, tmp_path / "o", ["bad", "good", "summary"])
    assert state.export_failures == [
        "exporter bad (acme-export 1.2) failed: TypeError: unsupported format string passed to NoneType.__format__"
    ]
    assert sorted(files) == ["good.txt", "summary.json", "summary.yaml"]  # no half bad.csv, no writer folder
    assert files["good.txt"] == f"latency {state.result.totals.latency}".encode()


def test_the_summary_yaml_is_safe_dump_text(computed, tmp_path):
    state, context = computed
    files = _export(state, context, tmp_path / "o", ["summary"])
    data = summary_dict(state.result, state.accelerator)
    assert files["summary.yaml"].decode() == yaml.safe_dump(data, sort_keys=False)
    assert yaml.safe_load(files["summary.yaml"]) == data
