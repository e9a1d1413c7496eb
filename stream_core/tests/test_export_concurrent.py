"""Writers and exporters run at the same time, one process per CPU taking them in turn: the same
files as one after another, all or nothing per writer, a failing one named, no child left behind;
sequential without fork. The summary's YAML is PyYAML's ``safe_dump`` text whichever emitter writes it.

Two writers that "meet" each wait until the other has started: they can only both finish when they
run at the same time, in two processes, so each pair puts exactly one writer in a child."""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import yaml
from core_test_support import FailingExporter, GoodExporter

from stream_core import hookimpl, pipeline
from stream_core.context import RunContext
from stream_core.outputs import Written, write_each
from stream_core.pipeline import PipelineState, export_stage, run
from stream_core.records import ExporterRecord
from stream_core.report import summary_dict
from stream_core.testing import relu_chain

forking = pytest.mark.skipif(
    not hasattr(os, "fork") or threading.active_count() > 1,
    reason="the platform cannot fork, or another thread runs (write_each then runs writers in turn)",
)


def _writes(name: str, text: str):
    def writer(folder: Path) -> int:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
        return os.getpid()

    return writer


def _meet(marks: Path, me: str, other: str) -> None:
    """Say that ``me`` started, then wait (up to 30 s) until ``other`` has."""
    marks.mkdir(exist_ok=True)
    (marks / me).write_text(str(os.getpid()))
    deadline = time.monotonic() + 30
    while not (marks / other).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{other} did not start while {me} ran")
        time.sleep(0.005)


def _meets(marks: Path, me: str, other: str, name: str):
    def writer(folder: Path) -> int:
        _meet(marks, me, other)
        (folder / name).write_text(me)
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


@pytest.fixture
def two_cpus(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


@forking
def test_writers_run_at_the_same_time_and_their_files_merge_in_order(tmp_path, two_cpus):
    out, marks = tmp_path / "out", tmp_path / "marks"
    out.mkdir()
    writers = [_meets(marks, "a", "b", "x.txt"), _meets(marks, "b", "a", "b.txt"), _raises, _writes("x.txt", "last")]
    done = write_each(writers, out)
    assert [d.error for d in done] == ["", "", "ValueError: no column 'lat'", ""]
    assert "_raises" in done[2].details  # a traceback comes back from a child too
    pids = {done[0].value, done[1].value}
    assert len(pids) == 2 and os.getpid() in pids  # this process and a child ran at the same time
    assert all(_gone(pid) for pid in pids - {os.getpid()})
    assert sorted(p.name for p in out.iterdir()) == ["b.txt", "x.txt"]  # no half.csv, no writer folder
    assert (out / "x.txt").read_text() == "last"  # the later writer's file, as in sequence


@forking
def test_the_writers_start_in_the_order_given_and_merge_in_theirs(tmp_path, two_cpus):
    """Started third and first, c and a run together (each waits for the other); b, started last,
    finds both begun. Taken in the given order, b would start beside a and find c not begun."""
    out, marks = tmp_path / "out", tmp_path / "marks"
    out.mkdir()

    def after_both(folder: Path) -> None:
        missing = [me for me in ("a", "c") if not (marks / me).exists()]
        assert not missing, f"started before {missing}"
        (folder / "x.txt").write_text("b")

    writers = [_meets(marks, "a", "c", "x.txt"), after_both, _meets(marks, "c", "a", "x.txt")]
    done = write_each(writers, out, order=[2, 0, 1])
    assert [d.error for d in done] == ["", "", ""]
    assert (out / "x.txt").read_text() == "c"  # the last writer's file, whatever the start order


@forking
def test_objects_are_frozen_only_while_the_lanes_run_and_a_callers_freeze_is_kept(tmp_path, two_cpus):
    def counts(folder: Path) -> int:
        return gc.get_freeze_count()

    assert gc.get_freeze_count() == 0
    done = write_each([counts, counts], tmp_path)
    assert all(d.value > 0 for d in done) and gc.get_freeze_count() == 0
    gc.freeze()
    try:
        mine = gc.get_freeze_count()
        done = write_each([counts, counts], tmp_path)
        # the lanes froze nothing more and left the caller's freeze (frozen objects may still be freed)
        assert max(d.value for d in done) <= mine and 0 < gc.get_freeze_count() <= mine
    finally:
        gc.unfreeze()


def test_an_order_must_name_each_writer_once(tmp_path):
    with pytest.raises(ValueError, match="indices once"):
        write_each([_writes("a.txt", "a"), _writes("b.txt", "b")], tmp_path, order=[1, 1])
    assert list(tmp_path.iterdir()) == []


def test_without_fork_writers_run_one_after_another_with_the_same_files(tmp_path, monkeypatch, two_cpus):
    monkeypatch.delattr(os, "fork", raising=False)
    done = write_each([_writes("a/x.txt", "first"), _raises, _writes("a/x.txt", "second")], tmp_path)
    assert [d.value for d in done] == [os.getpid(), None, os.getpid()]
    assert done[1].error == "ValueError: no column 'lat'"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "x.txt"]
    assert (tmp_path / "a" / "x.txt").read_text() == "second"


@forking
def test_a_fork_that_fails_leaves_the_writers_to_this_process(tmp_path, monkeypatch, two_cpus):
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    done = write_each([_writes("a.txt", "a"), _writes("b.txt", "b")], tmp_path)
    assert [d.value for d in done] == [os.getpid(), os.getpid()]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


@forking
def test_a_child_that_dies_is_reported_and_the_others_write(tmp_path, two_cpus):
    out, marks, parent = tmp_path / "out", tmp_path / "marks", os.getpid()
    out.mkdir()

    def dies_in_a_child(me: str, other: str):
        def writer(folder: Path) -> None:
            _meet(marks, me, other)
            (folder / f"{me}.txt").write_text(me)
            if os.getpid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)

        return writer

    done = write_each([dies_in_a_child("a", "b"), dies_in_a_child("b", "a"), _writes("c.txt", "c")], out)
    died = f"its process ended without a result (killed by signal {int(signal.SIGKILL)})"
    assert sorted(d.error for d in done[:2]) == ["", died] and done[2].error == ""
    lived = "a" if done[0].error == "" else "b"
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{lived}.txt", "c.txt"])


@forking
def test_an_interrupt_kills_and_reaps_the_children(tmp_path, two_cpus):
    marks, parent = tmp_path / "marks", os.getpid()

    def sleeps_or_interrupts(me: str, other: str):
        def writer(folder: Path) -> None:
            if os.getpid() != parent:
                (marks / me).write_text(str(os.getpid()))
                time.sleep(60)
            _meet(marks, me, other)  # once the child sleeps
            raise KeyboardInterrupt

        return writer

    marks.mkdir()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        write_each([sleeps_or_interrupts("a", "b"), sleeps_or_interrupts("b", "a")], tmp_path)
    assert time.monotonic() - started < 20
    assert [p.name for p in tmp_path.iterdir()] == ["marks"]  # no writer's folder left behind
    [child] = {int(mark.read_text()) for mark in marks.iterdir()} - {parent}
    assert _gone(child)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


class _Exporters:
    """``good`` writes good.txt; ``bad`` writes half a file, then raises; ``warns`` warns and writes;
    ``left`` and ``right`` meet, warn naming their process and write, ``left-bad`` and ``right-bad``
    meet and raise."""

    def __init__(self, marks: Path):
        self.marks = marks

    @hookimpl
    def stream_register_exporters(self):
        yield ExporterRecord(name="good", factory=GoodExporter)
        yield ExporterRecord(name="bad", factory=FailingExporter)
        yield ExporterRecord(name="warns", factory=lambda: _Warns())
        for me, other in (("left", "right"), ("right", "left")):
            yield self._meets(me, other, raises=False)
            yield self._meets(f"{me}-bad", f"{other}-bad", raises=True)

    def _meets(self, me: str, other: str, raises: bool) -> ExporterRecord:
        return ExporterRecord(name=me, factory=lambda: _Meets(self.marks, me, other, raises))


class _Warns:
    def export(self, result, problem, output_dir, context):
        context.warn("warns: careful")
        path = output_dir / "warned.txt"
        path.write_text("ok")
        return [path]


class _Meets:
    def __init__(self, marks: Path, me: str, other: str, raises: bool):
        self.marks, self.me, self.other, self.raises = marks, me, other, raises

    def export(self, result, problem, output_dir, context):
        _meet(self.marks, self.me, self.other)
        (output_dir / f"{self.me}.txt").write_text(self.me)
        if self.raises:
            raise RuntimeError(f"{self.me} failed")
        context.warn(f"{self.me} ran in process {os.getpid()}")
        return [output_dir / f"{self.me}.txt"]


@pytest.fixture
def computed(toy_plugins, toy_hardware, tmp_path):
    """A toy run's state and context, its result computed and nothing exported yet."""
    toy_plugins.register(_Exporters(tmp_path / "marks"), name="acme-export", distribution="acme-export", version="1.2")
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
def test_concurrent_export_writes_the_same_bytes_as_sequential(computed, tmp_path, monkeypatch, two_cpus):
    state, context = computed
    names = ["gantt", "warns", "good", "perfetto", "summary"]
    monkeypatch.setattr(pipeline, "CONCURRENT_EXPORT", 10**9)
    alone = _export(state, context, tmp_path / "sequential", names)
    assert context.warnings == ["warns: careful"]
    monkeypatch.setattr(pipeline, "CONCURRENT_EXPORT", 0)
    context.warnings.clear()
    together = _export(state, context, tmp_path / "concurrent", names)
    assert sorted(together) == ["gantt.png", "good.txt", "summary.json", "summary.yaml", "trace.json", "warned.txt"]
    assert together == alone and state.export_failures == []
    assert context.warnings == ["warns: careful"]


def test_the_trace_and_the_gantt_chart_start_first(computed, tmp_path, monkeypatch):
    state, context = computed
    started: list[int] = []

    def write_each(writers, folder, *, concurrent, order):
        started.extend(order)
        return [Written() for _ in writers]

    monkeypatch.setattr(pipeline, "write_each", write_each)
    names = ["left", "gantt", "summary", "perfetto"]
    state.output_dir, state.exporters = tmp_path, names
    export_stage(state, context)
    assert [names[i] for i in started] == ["perfetto", "gantt", "left", "summary"]


@forking
def test_warnings_of_an_exporter_in_a_child_reach_the_context(computed, tmp_path, monkeypatch, two_cpus):
    state, context = computed
    monkeypatch.setattr(pipeline, "CONCURRENT_EXPORT", 0)
    files = _export(state, context, tmp_path / "o", ["left", "right"])
    assert sorted(files) == ["left.txt", "right.txt"] and state.export_failures == []
    pids = {int(w.rpartition(" ")[2]) for w in context.warnings}
    assert [w.partition(" ")[0] for w in context.warnings] == ["left", "right"]  # in exporter order
    assert len(pids) == 2 and os.getpid() in pids


@forking
def test_a_failing_exporter_in_a_child_is_named_and_the_others_still_write(computed, tmp_path, monkeypatch, two_cpus):
    state, context = computed
    monkeypatch.setattr(pipeline, "CONCURRENT_EXPORT", 0)
    files = _export(state, context, tmp_path / "o", ["left-bad", "right-bad", "good", "summary"])
    assert state.export_failures == [  # one of the two raised in a child (see the module docstring)
        "exporter left-bad (acme-export 1.2) failed: RuntimeError: left-bad failed",
        "exporter right-bad (acme-export 1.2) failed: RuntimeError: right-bad failed",
    ]
    assert sorted(files) == ["good.txt", "summary.json", "summary.yaml"]  # nothing of theirs, no writer folder
    assert files["good.txt"] == f"latency {state.result.totals.latency}".encode()


def test_the_summary_yaml_is_safe_dump_text(computed, tmp_path):
    state, context = computed
    files = _export(state, context, tmp_path / "o", ["summary"])
    data = summary_dict(state.result, state.accelerator)
    assert files["summary.yaml"].decode() == yaml.safe_dump(data, sort_keys=False)
    assert yaml.safe_load(files["summary.yaml"]) == data


def test_an_interrupted_sequential_writer_leaves_no_folder(tmp_path):
    def interrupts(folder: Path) -> None:
        (folder / "half.txt").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_each([_writes("a.txt", "a"), interrupts, _writes("c.txt", "c")], tmp_path, concurrent=False)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_cannot_move_in_fails_its_writer_only(tmp_path):
    """A folder named like a writer's file: that writer fails with its other file removed, the rest write."""
    (tmp_path / "b.txt").mkdir()
    both = _writes("a2.txt", "a2")

    def two_files(folder: Path) -> None:
        both(folder)
        (folder / "b.txt").write_text("b")

    done = write_each([_writes("a.txt", "a"), two_files, _writes("c.txt", "c")], tmp_path, concurrent=False)
    assert [bool(d.error) for d in done] == [False, True, False]
    assert "could not be moved" in done[1].error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt", "c.txt"]
