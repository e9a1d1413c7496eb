"""Run options and the context object every plugin call receives.

A run's time budget (:meth:`RunContext.budget`): ``RunOptions.time_limit`` seconds from the start of
its stages, for the whole run (``None``, the default: no run limit, each solve gets
``DEFAULT_SOLVE_SECONDS``). Solves get what is left of it (:func:`solve_time_limit`), long loops
check it (:func:`check_time`), and in the main thread a timer raises :class:`TimeLimitExceeded` where
the run is when it passes (a stage the checks do not reach, e.g. a plugin's model build). A run is
never stopped before ``MIN_RUN_SECONDS``: a smaller limit bounds the solves only (reading and costing
a small workload take a second or two).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from stream_core.plugins import Plugins

if TYPE_CHECKING:
    from stream_core.ir.accelerator import Accelerator
    from stream_core.protocols import Solver

log = logging.getLogger("stream_core")


#: A run is stopped for its time limit no earlier than this (see the module docstring).
MIN_RUN_SECONDS = 5.0
#: The least a solve is given once the budget is spent, so that it can still report "no solution".
MIN_SOLVE_SECONDS = 0.01
#: A solve's time limit when the run has none.
DEFAULT_SOLVE_SECONDS = 60.0

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def parse_flag(raw: Any) -> bool:
    """A boolean run setting (``--set key=on``): a bool, or one of ``TRUE_WORDS``/``FALSE_WORDS`` in
    any case; anything else raises ``ValueError`` with the message a ``Problem`` can carry."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/stream-core``, else ``~/.cache/stream-core``."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "stream-core"


@attrs.define
class RunOptions:
    """User choices for one run. ``settings`` holds plugin-specific options as ``"plugin.key": value``.
    ``strict_costs`` makes any cost the chosen model could not give itself (a fallback) an error."""

    cost_model: str | None = None
    allocator: str | None = None
    mapper: str | None = None
    solver: str | None = None
    jobs: int | None = None
    use_cache: bool = True
    cache_dir: Path | None = None
    time_limit: float | None = None
    strict_costs: bool = False
    settings: dict[str, Any] = attrs.field(factory=dict)

    @property
    def solve_seconds(self) -> float:
        """A solve's time limit before the run's budget caps it: ``time_limit``, else
        ``DEFAULT_SOLVE_SECONDS``."""
        return self.time_limit if self.time_limit is not None else DEFAULT_SOLVE_SECONDS

    @property
    def effective_jobs(self) -> int:
        return max(1, self.jobs if self.jobs else (os.cpu_count() or 1))

    @property
    def effective_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else default_cache_dir()


class Progress:
    """Stage and counter display on a terminal; silent otherwise (or when quiet)."""

    def __init__(self, enabled: bool = False, stream: TextIO | None = None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self._stage = ""
        self._last = 0.0

    @classmethod
    def for_terminal(cls, quiet: bool = False, stream: TextIO | None = None) -> Progress:
        stream = stream or sys.stderr
        return cls(enabled=not quiet and stream.isatty(), stream=stream)

    def stage(self, name: str) -> None:
        self._stage = name
        if self.enabled:
            self.stream.write(f"\r\x1b[K[{name}]")
            self.stream.flush()

    def count(self, done: int, total: int, what: str) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        self.stream.write(f"\r\x1b[K[{self._stage}] {what} {done}/{total}")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


class TimeLimitExceeded(BaseException):
    """The run's time limit passed while ``stage`` ran. A ``BaseException``, as ``KeyboardInterrupt``, so
    that no plugin's ``except Exception`` turns it into a fallback; the pipeline reports it as an
    :class:`~stream_core.errors.InputError`."""

    def __init__(self, stage: str, limit: float):
        self.stage, self.limit = stage, limit
        super().__init__(f"the run was still in its {stage or 'first'} stage after its time limit of {limit:g} s")


@attrs.define
class RunContext:
    """Handed to every plugin call: the plugin set, the options, progress and collected warnings."""

    plugins: Plugins
    options: RunOptions = attrs.field(factory=RunOptions)
    progress: Progress = attrs.field(factory=Progress)
    warnings: list[str] = attrs.field(factory=list)
    #: The run's accelerator once parsed (for plugins that need accelerator-level annotations).
    accelerator: Accelerator | None = None
    #: The stage running (set by the pipeline; named when the time limit passes).
    stage: str = ""
    #: ``time.monotonic()`` when the run's budget started (``None`` outside :meth:`budget`).
    started: float | None = None

    def remaining(self) -> float | None:
        """Seconds left of the run's time limit (negative once passed), ``None`` outside a run or
        without a limit."""
        if self.started is None or self.options.time_limit is None:
            return None
        return self.started + self.options.time_limit - time.monotonic()

    def check_time(self) -> None:
        """Raise :class:`TimeLimitExceeded` once the run is past its deadline (see the module docstring)."""
        deadline = self._deadline
        if deadline is not None and time.monotonic() > deadline:
            raise TimeLimitExceeded(self.stage, self.options.time_limit or 0.0)

    @property
    def _deadline(self) -> float | None:
        if self.started is None or self.options.time_limit is None:
            return None
        return self.started + max(self.options.time_limit, MIN_RUN_SECONDS)

    @contextlib.contextmanager
    def budget(self) -> Iterator[None]:
        """Run the body within the time limit (see the module docstring); a nested call (a run inside a
        run) keeps the outer budget."""
        if self.started is not None or _ACTIVE.get() is not None:
            yield
            return
        self.started = time.monotonic()
        token = _ACTIVE.set(self)
        try:
            with self._timer():
                yield
        finally:
            _ACTIVE.reset(token)
            self.started = None

    @contextlib.contextmanager
    def _timer(self) -> Iterator[None]:
        """A real-time timer raising :class:`TimeLimitExceeded` at the deadline, when this is the main
        thread and nobody else uses SIGALRM or the timer (then only the checks bound the run)."""
        free = (
            signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None) and signal.getitimer(signal.ITIMER_REAL)[0] == 0
        )
        deadline, limit = self._deadline, self.options.time_limit
        if deadline is None or limit is None or threading.current_thread() is not threading.main_thread() or not free:
            yield
            return

        def expire(_signum: int, _frame: object) -> None:
            raise TimeLimitExceeded(self.stage, limit)

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 1e-3))
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
            log.warning(message)

    def setting(self, key: str, default: Any = None) -> Any:
        return self.options.settings.get(key, default)

    def solver(self, problem_class: str = "milp") -> Solver:
        """The solver object chosen by ``--solver`` (or the default solver) for this run."""
        registry = self.plugins.registry("solvers")
        if self.options.solver:
            record = registry.get(self.options.solver)
        else:
            record = registry.default()
            if record is None:
                from stream_core.errors import UnknownPluginError

                raise UnknownPluginError("no solver plugin is installed; install stream-solvers")
        if problem_class not in record.problem_classes:
            from stream_core.errors import PluginError

            raise PluginError(f"solver {record.name!r} cannot solve {problem_class.upper()} problems")
        return record.load()


_ACTIVE: ContextVar[RunContext | None] = ContextVar("stream_core_active_run", default=None)


def check_time() -> None:
    """:meth:`RunContext.check_time` of the run in progress, if any: for loops that get no context."""
    context = _ACTIVE.get()
    if context is not None:
        context.check_time()


def solve_time_limit(limit: float | None) -> float | None:
    """A solve's time limit: ``limit`` capped by what is left of the run in progress (at least
    ``MIN_SOLVE_SECONDS``); ``limit`` itself outside a run."""
    context = _ACTIVE.get()
    left = context.remaining() if context is not None else None
    if left is None:
        return limit
    left = max(left, MIN_SOLVE_SECONDS)
    return left if limit is None else min(limit, left)
