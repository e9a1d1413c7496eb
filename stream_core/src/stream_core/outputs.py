"""Writing outputs all or nothing, without touching anything a user wrote.

A run's files are written into a temporary folder beside the target (:class:`StagedOutput`) and
moved into place at the end; on an error or Ctrl-C the temporary folder is removed and the target is
left as it was. The folder's manifest :data:`OUTPUT_MARKER` lists the files stream wrote there:

* a target that does not exist, or a folder stream created whose files are all listed in its
  manifest, is replaced as a whole (two renames);
* a folder stream created that also holds other files, or (with ``force``) a non-empty folder stream
  did not create, keeps those files: ours are moved in one by one, the files the previous manifest
  lists and this run does not write are removed, and a new file with the name of a user's file is
  refused before anything moves. A user's file is never replaced or removed, ``force`` included;
* only paths inside the folder count: a manifest entry naming ``../x`` or an absolute path is
  ignored with a warning, so nothing outside the folder is ever deleted.

A JSON file is ours when its top-level ``generated_by`` names a stream tool; :func:`check_output_file`
refuses to replace any other without ``force``.

Several writers (a run's exporters) fill one folder through :func:`write_each`: each writes into an
empty folder of its own, where the platform can fork in one of a few processes (one per CPU) that
take the writers in turn, and the files of each that did not raise are then moved into the folder
in order. The lanes are plain forks and pipes rather than :mod:`concurrent.futures`: writers are
closures (a pool would pickle them), this process is a lane too, and a child that dies loses only the
writer it ran. A child only writes files (a solver's native threads, left from the allocation, are
not used in it; glibc makes ``malloc`` safe across ``fork``).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import pickle
import select
import shutil
import signal
import struct
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, Any

import attrs

from stream_core.errors import InputError, Problem, option

log = logging.getLogger("stream_core.outputs")

OUTPUT_MARKER = ".stream-output"
GENERATED_BY = "generated_by"
#: Suffix of the temporary folders a run writes before moving them into place.
STAGING_SUFFIX = ".partial"
NAMES_SHOWN = 5


@attrs.frozen
class Generated:
    """What a code generator produced: file contents by relative path, and a summary to print."""

    files: Mapping[str, bytes] = attrs.field(converter=lambda f: dict(sorted(dict(f).items())))
    summary: str = ""


class StagedOutput:
    """Outputs bound for ``target``, written under :attr:`path` (a temporary folder beside it) and
    moved into place by :meth:`commit`. As a context manager, leaving the block by an exception
    (Ctrl-C included) removes the temporary folder. Whether ``target`` may receive outputs is
    checked here, before any work (see the module docstring)."""

    def __init__(self, target: Path, *, force: bool = False):
        self.target = Path(target)
        self._force = force
        self._listed, self._foreign = _inspect(self.target, force)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(
            tempfile.mkdtemp(prefix=f".{self.target.name}.", suffix=STAGING_SUFFIX, dir=self.target.parent)
        )

    def __enter__(self) -> StagedOutput:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:
            self.discard()

    def write(self, files: Mapping[str, bytes]) -> None:
        """Write ``files`` (relative path -> content) into the staging folder."""
        root = self.path.resolve()
        for name, content in files.items():
            target = self.path / name
            if root not in target.resolve().parents:
                raise ValueError(f"generated file {name!r} would be written outside {self.target}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def commit(self) -> list[Path]:
        """Move the staged files into place; returns their final paths."""
        files = sorted(_files_under(self.path))
        self._listed, self._foreign = _inspect(self.target, self._force)  # again: it may have changed
        if self._foreign:
            self._merge(files)
        else:
            _write_manifest(self.path, files)
            self._swap()
        return [self.target / name for name in files]

    def _swap(self) -> None:
        old = self.path.with_name(self.path.name + ".old")
        if self.target.exists():
            os.replace(self.target, old)
        try:
            os.replace(self.path, self.target)
        except BaseException:
            if old.exists():
                os.replace(old, self.target)
            raise
        shutil.rmtree(old, ignore_errors=True)

    def _merge(self, files: list[str]) -> None:
        clashes = [name for name in files if name not in self._listed and _exists(self.target / name)]
        if clashes:
            raise InputError(
                Problem(
                    f"the output folder holds {_some(clashes)}, which stream did not write; it is never "
                    f"replaced ({option('force', True)} included): move it or choose another output folder",
                    file=str(self.target),
                )
            )
        for name in files:
            destination = self.target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.path / name, destination)
        for stale in sorted(set(self._listed) - set(files)):
            (self.target / stale).unlink(missing_ok=True)
        _write_manifest(self.target, files)
        self.discard()


def _inspect(target: Path, force: bool) -> tuple[list[str], bool]:
    """The files ``target``'s manifest lists (inside it), and whether it holds others; raises
    :class:`InputError` when it may not receive outputs."""
    if not target.exists():
        return [], False
    if not target.is_dir() or target.is_symlink():
        raise InputError(Problem("the output path exists and is not a directory", file=str(target)))
    present = set(_files_under(target))
    if not (target / OUTPUT_MARKER).exists():
        if present and not force:
            raise InputError(
                Problem(
                    "the output directory exists, is not empty and was not written by stream; choose another "
                    f"output folder, or pass {option('force', True)} to add the outputs beside its files "
                    "(which are never replaced)",
                    file=str(target),
                )
            )
        return [], bool(present)
    listed = _contained(target, _manifest(target))
    return listed, bool(present - set(listed))


def check_output_dir(path: Path, *, force: bool = False) -> None:
    """Raise :class:`InputError` unless outputs may go to the folder ``path`` (see the module
    docstring), so a command can refuse before it does any work."""
    _inspect(Path(path), force)


def prepare_output_dir(path: Path, *, force: bool = False) -> Path:
    """Create ``path`` (a folder stream may write into, see :class:`StagedOutput`) for a caller that
    writes files directly; prefer :class:`StagedOutput`, which writes all or nothing."""
    path = Path(path)
    _inspect(path, force)
    path.mkdir(parents=True, exist_ok=True)
    if not (path / OUTPUT_MARKER).exists():
        _write_manifest(path, [])
    return path


def write_files(path: Path, files: Mapping[str, bytes], *, force: bool = False) -> list[Path]:
    """Write generated ``files`` to the folder ``path`` all or nothing (see :class:`StagedOutput`);
    files a previous generation wrote there and this one does not are removed. Returns the paths."""
    with StagedOutput(Path(path), force=force) as staged:
        staged.write(files)
        return staged.commit()


@attrs.frozen
class Written:
    """What one writer given to :func:`write_each` did: its return value, or the error it raised."""

    value: Any = None
    error: str = ""  # "TypeError: message"; empty when the writer returned
    details: str = ""  # the traceback behind ``error``


def write_each(
    writers: Sequence[Callable[[Path], Any]],
    folder: Path,
    *,
    concurrent: bool = True,
    order: Sequence[int] | None = None,
) -> list[Written]:
    """Call each writer with an empty folder of its own inside ``folder``; then, in order, move the
    files of each that returned into ``folder`` (a later writer's file replaces an earlier one's of
    the same name) and remove those of each that raised. With ``concurrent``, where this process can
    fork and runs no other thread, one process per CPU (this one and forked children) takes the
    writers in the order ``order`` gives their indices (default: as given; the longest first make
    the processes end together), each the next one as soon as it is free; else they run one after
    another here, as given.
    Children are always waited for, and killed first when this process is interrupted; the writers'
    folders are removed whatever happens. A file that cannot be moved in (a full disk, a folder of
    that name) makes its writer's outcome an error, its files already moved removed. A writer's
    return value must pickle."""
    taken = list(range(len(writers)) if order is None else order)
    if sorted(taken) != list(range(len(writers))):
        raise ValueError(f"order {taken} does not give each of the {len(writers)} writers' indices once")
    places: list[Path] = []
    try:
        places += [Path(tempfile.mkdtemp(prefix=f".writer-{i}-", dir=folder)) for i in range(len(writers))]
        forks = concurrent and hasattr(os, "fork") and threading.active_count() == 1 and len(writers) <= QUEUE_MAX
        lanes = min(len(writers), os.cpu_count() or 1) if forks else 1
        if lanes > 1:
            outcomes = _in_lanes(writers, places, lanes, taken)
        else:
            outcomes = [_call(writer, place) for writer, place in zip(writers, places, strict=True)]
        return [_merge(outcome, place, folder) for outcome, place in zip(outcomes, places, strict=True)]
    finally:
        for place in places:
            shutil.rmtree(place, ignore_errors=True)


def _merge(outcome: Written, place: Path, folder: Path) -> Written:
    """Move the files of a writer that returned from ``place`` into ``folder``; its outcome, an error
    (its moved files removed) when one cannot be moved."""
    if outcome.error:
        return outcome
    moved: list[Path] = []
    try:
        for name in sorted(_files_under(place)):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(place / name, folder / name)
            moved.append(folder / name)
    except OSError as exc:
        for path in moved:
            path.unlink(missing_ok=True)
        return Written(error=f"its files could not be moved into {folder}: {exc}")
    return outcome


_NUMBER = struct.Struct("<I")
#: The most writers :func:`write_each` runs at the same time: their numbers fill its queue (a pipe)
#: in one write that cannot block.
QUEUE_MAX = select.PIPE_BUF // _NUMBER.size


def _in_lanes(
    writers: Sequence[Callable[[Path], Any]], places: list[Path], lanes: int, order: list[int]
) -> list[Written]:
    """What each writer did, run by this process and ``lanes - 1`` forked children, which take the
    next writer (in the order ``order`` gives) from a queue as soon as they are free."""
    queue, fill = os.pipe()  # each writer's number once; taking one is an atomic read
    os.write(fill, b"".join(_NUMBER.pack(i) for i in order))
    os.close(fill)
    done: dict[int, Written] = {}
    children: list[_Child] = []
    freeze = gc.get_freeze_count() == 0  # else the caller froze objects: theirs to unfreeze, not ours
    if freeze:  # the objects made so far left out of collections until the lanes end, so that a
        gc.freeze()  # child's collections do not walk (and so copy) every page it shares with this process
    try:
        for _ in range(lanes - 1):
            try:
                children.append(_Child.start(lambda send: _work(queue, writers, places, send)))
            except OSError:  # no more processes or pipes: this process does the rest
                break
        _work(queue, writers, places, done.__setitem__)
        ended = [reason for child in children if (reason := child.results(done))]
    finally:
        os.close(queue)
        for child in children:
            child.stop()
        if freeze:
            gc.unfreeze()
    lost = Written(error=f"its process ended without a result ({'; '.join(ended)})")
    return [done.get(i, lost) for i in range(len(writers))]


def _work(
    queue: int, writers: Sequence[Callable[[Path], Any]], places: list[Path], report: Callable[[int, Written], Any]
) -> None:
    """Take writers from ``queue`` until none is left, run each and report what it did."""
    while taken := os.read(queue, _NUMBER.size):
        (i,) = _NUMBER.unpack(taken)
        report(i, _call(writers[i], places[i]))


def _call(writer: Callable[[Path], Any], place: Path) -> Written:
    try:
        return Written(writer(place))
    except Exception as exc:  # a writer's bug: reported, the other writers go on
        return Written(error=f"{type(exc).__name__}: {exc}", details=traceback.format_exc())


class _Child:
    """A forked child process running ``body``, which sends ``(number, Written)`` records back."""

    def __init__(self, pid: int, pipe: IO[bytes]):
        self.pid, self.pipe = pid, pipe

    @classmethod
    def start(cls, body: Callable[[Callable[[int, Written], None]], None]) -> _Child:
        read, write = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # or the child could write their buffers a second time
            stream.flush()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            raise
        if pid:
            os.close(write)
            return cls(pid, os.fdopen(read, "rb"))
        code = 1  # the child: never returns nor raises, whatever a writer does (Ctrl-C included)
        try:
            os.close(read)
            with os.fdopen(write, "wb") as pipe:
                body(lambda i, outcome: _send(pipe, i, outcome))
            code = 0
        finally:
            os._exit(code)

    def results(self, done: dict[int, Written]) -> str:
        """Wait for the child, adding what its writers did to ``done``; why it ended early, if it did."""
        with self.pipe:
            data = self.pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        start = 0
        while start + _NUMBER.size <= len(data):  # whole records only: a killed child may leave half of one
            (size,) = _NUMBER.unpack_from(data, start)
            start += _NUMBER.size + size
            if start <= len(data):
                i, outcome = pickle.loads(data[start - size : start])  # written by our own child
                done[i] = outcome
        code = os.waitstatus_to_exitcode(status)
        return "" if code == 0 else f"killed by signal {-code}" if code < 0 else f"exit status {code}"

    def stop(self) -> None:
        """Kill and reap the child unless :meth:`results` already waited for it."""
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0
        self.pipe.close()


def _send(pipe: IO[bytes], i: int, outcome: Written) -> None:
    try:
        payload = pickle.dumps((i, outcome))
    except Exception as exc:  # a return value that does not pickle
        payload = pickle.dumps((i, Written(error=f"{type(exc).__name__}: {exc}")))
    pipe.write(_NUMBER.pack(len(payload)) + payload)
    pipe.flush()


def _files_under(folder: Path) -> Iterator[str]:
    """Every entry under ``folder`` but its manifest and directories (a link to one counts), as
    relative POSIX paths."""
    for parent, dirs, names in os.walk(folder):
        here = Path(parent)
        for name in [*names, *(d for d in dirs if (here / d).is_symlink())]:
            relative = (here / name).relative_to(folder).as_posix()
            if relative != OUTPUT_MARKER:
                yield relative


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _contained(folder: Path, names: Iterable[str]) -> list[str]:
    """The manifest entries that name a path inside ``folder``; the others are ignored with a warning."""
    root = folder.resolve()
    kept = []
    for name in names:
        relative = PurePosixPath(name)
        inside = bool(name) and not relative.is_absolute() and ".." not in relative.parts
        if inside and (root / relative).resolve().is_relative_to(root) and (root / relative).resolve() != root:
            kept.append(relative.as_posix())
        else:
            log.warning("%s lists %r, which is not inside the folder; ignored", folder / OUTPUT_MARKER, name)
    return kept


def _manifest(path: Path) -> list[str]:
    try:
        files = json.loads((path / OUTPUT_MARKER).read_text()).get("files", [])
        return [str(f) for f in files] if isinstance(files, list) else []
    except (OSError, ValueError, AttributeError, TypeError):  # an older plain-text marker, or none
        return []


def _write_manifest(path: Path, files: list[str]) -> None:
    manifest = {GENERATED_BY: "stream-core", "note": "stream replaces the files listed here on its next run"}
    (path / OUTPUT_MARKER).write_text(json.dumps({**manifest, "files": files}, indent=2) + "\n")


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


def write_output_file(path: Path, content: bytes, *, force: bool = False) -> None:
    """Replace the file ``path`` (guarded as :func:`check_output_file`) all or nothing: written
    beside it, then moved into place."""
    path = Path(path)
    check_output_file(path, force=force)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, content)


def replace_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` all or nothing: into a temporary file beside it, then moved into
    place, so a reader (another run, a crash) never sees half a file. Raises ``OSError``."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=STAGING_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_output_file(path: Path, *, force: bool = False) -> None:
    """Refuse to replace an existing file that no stream tool wrote (see the module docstring)."""
    path = Path(path)
    if force or not path.exists():
        return
    try:
        ours = str(json.loads(path.read_text()).get(GENERATED_BY, "")).startswith("stream")
    except (ValueError, AttributeError, OSError):
        ours = False
    if not ours:
        raise InputError(
            Problem(
                "the output file exists and was not written by stream; choose another name or pass "
                f"{option('force', True)}",
                file=str(path),
            )
        )
