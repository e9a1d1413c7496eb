"""Error types shared by the core and plugins.

Every error a user can cause derives from :class:`StreamError` and carries the exit code the CLI
uses: 2 for bad input or an unknown plugin name, 3 when a plugin failed at its work
(:class:`PluginFailedError`), 1 for anything else (a bug of the core).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar

import attrs

#: The words messages use for run options: ``"api"`` (keyword arguments, the default) or ``"cli"``
#: (flags; the ``stream`` command sets it), so an error tells each user what they would type.
OPTION_STYLE: ContextVar[str] = ContextVar("stream_core_option_style", default="api")


def option(name: str, value: object = None) -> str:
    """Option ``name`` (a keyword of the Python API, e.g. ``strict_costs``) in the words of the
    interface in use: ``--strict-costs`` / ``--solver gscip`` from the CLI, ``strict_costs`` /
    ``solver='gscip'`` from Python. ``value=True`` names a switch being turned on."""
    if OPTION_STYLE.get() == "cli":
        flag = "--" + name.replace("_", "-")
        return flag if value is None or value is True else f"{flag} {value}"
    return name if value is None else f"{name}={value!r}"


def setting(key: str, value: str | None = None) -> str:
    """Plugin setting ``key`` as the interface in use takes it: ``--set key`` / ``--set key=VALUE``
    from the CLI, ``settings['key']`` / ``settings={'key': VALUE}`` from Python."""
    if OPTION_STYLE.get() == "cli":
        return f"--set {key}" if value is None else f"--set {key}={value}"
    return f"settings[{key!r}]" if value is None else f"settings={{{key!r}: {value}}}"


@attrs.frozen
class Problem:
    """One thing wrong with an input: which file, which field (a dotted key path) and what."""

    message: str
    file: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.field) if part)
        return f"{where}: {self.message}" if where else self.message


class StreamError(Exception):
    """Base of all errors the framework reports without a traceback."""

    exit_code = 1


class InputError(StreamError):
    """A file or argument the user gave is invalid. Holds every problem found, not just the first."""

    exit_code = 2

    def __init__(self, problems: Problem | str | Iterable[Problem]):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InfeasibleError(StreamError):
    """The inputs are valid but admit no solution (e.g. a tile that fits no memory); says why."""

    exit_code = 2

    def __init__(self, message: str, report: Iterable[str] = ()):
        self.report = tuple(report)
        text = message if not self.report else message + "\n" + "\n".join(f"  - {r}" for r in self.report)
        super().__init__(text)


class PluginError(StreamError):
    """A plugin could not be selected or loaded."""

    exit_code = 2


class UnknownPluginError(PluginError):
    """A name was asked for that no loaded plugin provides."""


class PluginConflictError(PluginError):
    """Two distributions provide the same name for the same kind."""


class PluginLoadError(PluginError):
    """A plugin failed to import (raised only in strict mode; otherwise it is skipped with a warning)."""


class PluginFailedError(PluginError):
    """A plugin raised while doing its work on valid inputs: its bug, named in the message (plugin,
    distribution, reason). Exit code 3, so that 1 stays for the core's own bugs."""

    exit_code = 3


class ProblemCollector:
    """Collects :class:`Problem` records for one file so a validator can report all of them at once."""

    def __init__(self, file: str | None = None):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, field: str | None, message: str) -> None:
        self.problems.append(Problem(message=message, file=self.file, field=field))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)
