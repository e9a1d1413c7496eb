"""Writing outputs without losing anything a user wrote.

A directory is ours when it holds the marker file :data:`OUTPUT_MARKER` (we write it on first use); a
JSON file is ours when its top-level ``generated_by`` names a stream tool. Anything else that already
exists is only overwritten with ``force``.
"""

from __future__ import annotations

import json
from pathlib import Path

from stream_core.errors import InputError, Problem

OUTPUT_MARKER = ".stream-output"
GENERATED_BY = "generated_by"


def prepare_output_dir(path: Path, *, force: bool = False) -> Path:
    """Create ``path`` or reuse it if a previous run wrote it; refuse a foreign non-empty directory."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(Problem("the output path exists and is not a directory", file=str(path)))
    if path.is_dir() and any(path.iterdir()) and not (path / OUTPUT_MARKER).exists() and not force:
        raise InputError(
            Problem(
                "the output directory exists, is not empty and was not written by stream; "
                "choose another --output or pass --force to write into it",
                file=str(path),
            )
        )
    path.mkdir(parents=True, exist_ok=True)
    (path / OUTPUT_MARKER).write_text("written by stream-core; files here may be overwritten by the next run\n")
    return path


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
                "the output file exists and was not written by stream; choose another name or pass --force",
                file=str(path),
            )
        )
