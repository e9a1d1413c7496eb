"""YAML reading with errors that name the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from stream_core.errors import InputError, Problem


def load_yaml(path: Path | str) -> Any:
    """Parse a YAML file; a missing file or a syntax error is an :class:`InputError` naming the file."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputError(Problem("file not found", file=str(path))) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read file: {exc.strerror}", file=str(path))) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(Problem(f"invalid YAML: {where}{problem}", file=str(path))) from None


def type_name(value: Any) -> str:
    """A user-facing name of a YAML value's type."""
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
        type(None): "nothing (null)",
    }.get(type(value), type(value).__name__)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
