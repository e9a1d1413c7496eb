"""YAML reading with errors that name the file and line, and finding the files a YAML file names."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

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


class FoundFile(NamedTuple):
    """Where :func:`find_input_file` found a file (``path`` None: nowhere) and every place it looked.
    ``searched`` is the bundled input tree the fallback search found it in (None: found directly)."""

    path: Path | None
    tried: tuple[str, ...]
    searched: Path | None = None


def find_input_file(
    reference: str,
    base_dir: Path,
    *,
    bare_in: str | None = None,
    default_suffix: str | None = None,
    search_hardware: bool = False,
) -> FoundFile:
    """Find a file that a YAML file in ``base_dir`` names, as Stream does and then some.

    In order: an absolute path as is. A bare name in ``base_dir/<bare_in>``, then ``base_dir``. A
    path with folders: ``base_dir`` first when it is written ``./...`` or ``../...``, else the
    current directory first (Stream's readings), then the other, then each ancestor of
    ``base_dir`` (so a path written from a repository root resolves anywhere inside it). A name
    without suffix is also tried with ``default_suffix``. Last, with ``search_hardware``, Stream's
    fallback: the first folder (sorted walk) whose path contains ``hardware`` below a bundled
    ``stream/inputs`` tree (an ancestor of ``base_dir``, then the current directory's) and holds a
    file of that name.
    """
    ref = Path(reference)
    base = Path(os.path.abspath(base_dir))
    if ref.is_absolute():
        places = [ref]
    elif len(ref.parts) == 1:
        places = [base / bare_in / ref, base / ref] if bare_in else [base / ref]
    else:
        cwd = Path.cwd()
        first = [base, cwd] if reference.startswith(("./", "../")) else [cwd, base]
        places = [folder / ref for folder in dict.fromkeys([*first, *base.parents])]
    names = [ref.name]
    if default_suffix and not ref.suffix:
        names.append(ref.name + default_suffix)
    tried = [Path(os.path.normpath(p.with_name(n))) for p in places for n in names]
    for candidate in tried:
        if candidate.is_file():
            return FoundFile(candidate.resolve(), tuple(map(str, tried)))
    labels = [str(t) for t in tried]
    if search_hardware:
        roots = _bundled_input_trees(base)
        for root in roots:
            found = _search_hardware_folders(root, names)
            if found is not None:
                return FoundFile(found.resolve(), tuple(labels), root)
        labels += [f"folders named *hardware* under {root}" for root in roots] or [
            "no bundled stream/inputs tree above the file or in the current directory"
        ]
    return FoundFile(None, tuple(labels))


def _bundled_input_trees(base: Path) -> list[Path]:
    """Stream's bundled input trees: ancestors of ``base`` ending in ``stream/inputs``, then the cwd's."""
    roots = [p for p in (base, *base.parents) if p.name == "inputs" and p.parent.name == "stream"]
    here = Path.cwd() / "stream" / "inputs"
    if here.is_dir():
        roots.append(here)
    return list(dict.fromkeys(p.resolve() for p in roots))


def _search_hardware_folders(root: Path, names: list[str]) -> Path | None:
    for folder, subfolders, files in os.walk(root):
        subfolders.sort()
        if "hardware" in Path(folder).relative_to(root).as_posix():
            hit = next((n for n in names if n in files), None)
            if hit is not None:
                return Path(folder) / hit
    return None
