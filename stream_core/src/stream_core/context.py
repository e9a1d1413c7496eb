"""Run options and the context object every plugin call receives."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from stream_core.plugins import Plugins

if TYPE_CHECKING:
    from stream_core.ir.accelerator import Accelerator
    from stream_core.protocols import Solver

log = logging.getLogger("stream_core")


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
    time_limit: float = 60.0
    strict_costs: bool = False
    settings: dict[str, Any] = attrs.field(factory=dict)

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


@attrs.define
class RunContext:
    """Handed to every plugin call: the plugin set, the options, progress and collected warnings."""

    plugins: Plugins
    options: RunOptions = attrs.field(factory=RunOptions)
    progress: Progress = attrs.field(factory=Progress)
    warnings: list[str] = attrs.field(factory=list)
    #: The run's accelerator once parsed (for plugins that need accelerator-level annotations).
    accelerator: Accelerator | None = None

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
