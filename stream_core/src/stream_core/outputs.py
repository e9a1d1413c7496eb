"""Writing outputs without losing anything a user wrote.

A directory is ours when it holds the marker file :data:`OUTPUT_MARKER` (we write it on first use;
for generated projects it also lists the files written, so a regeneration removes the stale ones); a
JSON file is ours when its top-level ``generated_by`` names a stream tool. Anything else that already
exists is only overwritten with ``force``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import attrs

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
    if not (path / OUTPUT_MARKER).exists():
        _write_manifest(path, [])
    return path


@attrs.frozen
class Generated:
    """What a code generator produced: file contents by relative path, and a summary to print."""

    files: Mapping[str, bytes] = attrs.field(converter=lambda f: dict(sorted(dict(f).items())))
    summary: str = ""


def write_files(path: Path, files: Mapping[str, bytes], *, force: bool = False) -> list[Path]:
    """Write generated ``files`` under ``path`` (guarded as :func:`prepare_output_dir`); files a previous
    generation wrote there and this one does not are removed. Returns the paths written."""
    path = prepare_output_dir(path, force=force)
    for stale in sorted(set(_manifest(path)) - set(files)):
        (path / stale).unlink(missing_ok=True)
    written = []
    for name, content in files.items():
        target = path / name
        if path.resolve() not in target.resolve().parents:
            raise ValueError(f"generated file {name!r} would be written outside {path}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(target)
    _write_manifest(path, sorted(files))
    return written


def _manifest(path: Path) -> list[str]:
    try:
        data = json.loads((path / OUTPUT_MARKER).read_text())
        return [str(f) for f in data.get("files", [])]
    except (OSError, ValueError, AttributeError):  # an older plain-text marker, or none
        return []


def _write_manifest(path: Path, files: list[str]) -> None:
    manifest = {GENERATED_BY: "stream-core", "note": "files here may be overwritten by the next run", "files": files}
    (path / OUTPUT_MARKER).write_text(json.dumps(manifest, indent=2) + "\n")


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
