"""Safe reading of the files users give, YAML parsing with errors that name the file and line, and
finding the files a YAML file names.

A user file is never trusted: it is checked with ``stat`` before it is opened (a directory, FIFO,
device or socket is refused without reading, so nothing blocks), read as bytes up to a size limit,
and decoded as UTF-8 (binary data, UTF-16/32 and invalid UTF-8 are refused with what was found).
YAML is parsed with a safe loader that constructs plain data only (no objects), bounds nesting
depth, the size of the document once aliases are expanded (an alias bomb fails in milliseconds,
as does an alias that contains itself) and the length of integers, and refuses duplicate keys.
Every refusal is an :class:`InputError` naming the file and what was expected.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import Any, NamedTuple, TypeGuard

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stream_core.errors import InputError, Problem

MAX_TEXT_BYTES = 16 * 1024 * 1024  #: a YAML or TOML input larger than this is refused
MAX_DEPTH = 64  #: nesting levels of a YAML document, aliases expanded
MAX_NODES = 1_000_000  #: values in a YAML document, aliases expanded
MAX_INT_DIGITS = 30  #: digits of a YAML integer (10**30 bits is already absurd)

_SPECIAL_FILES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def read_input(path: Path | str, *, expected: str = "a YAML file", limit: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, else an :class:`InputError` saying what
    ``path`` is instead of ``expected``. Special files are refused before they are opened."""
    path = Path(path)
    file = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(Problem("file not found", file=file)) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read file: {exc.strerror}", file=file)) from None
    _check_regular(info, file, expected, limit)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputError(Problem(f"cannot read file: {exc.strerror}", file=file)) from None
    with os.fdopen(fd, "rb") as handle:
        _check_regular(os.fstat(handle.fileno()), file, expected, limit)  # replaced since the stat above?
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError(Problem(f"cannot read file: {exc.strerror}", file=file)) from None
    if len(data) > limit:
        raise InputError(Problem(f"larger than {limit:,} bytes; expected {expected}", file=file))
    return data


def _check_regular(info: os.stat_result, file: str, expected: str, limit: int) -> None:
    for test, what in _SPECIAL_FILES:
        if test(info.st_mode):
            raise InputError(Problem(f"this is {what}, not a file; expected {expected}", file=file))
    if not stat.S_ISREG(info.st_mode):
        raise InputError(Problem(f"not a regular file; expected {expected}", file=file))
    if info.st_size > limit:
        raise InputError(Problem(f"{info.st_size:,} bytes, larger than {limit:,}; expected {expected}", file=file))


def decode_text(data: bytes, file: str, *, expected: str = "a YAML file") -> str:
    """``data`` as UTF-8 text (a UTF-8 byte-order mark is dropped), else an :class:`InputError` saying
    what it is: UTF-16/32 text, binary data (an ONNX model?) or invalid UTF-8 (where)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise InputError(Problem(f"{encoding} text; expected {expected} in UTF-8 (save it as UTF-8)", file=file))
    head = data[:4096]
    if b"\x00" in head:
        if head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4:
            what = "UTF-16 text without a byte-order mark (save it as UTF-8)"
        elif file.lower().endswith((".onnx", ".pb")):
            what = "an ONNX model (binary), not text"
        else:
            what = "binary data, not text"
        raise InputError(Problem(f"{what}; expected {expected}", file=file))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            Problem(
                f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line} cannot be decoded); expected {expected}",
                file=file,
            )
        ) from None
    return text.removeprefix("\ufeff")


def read_text(path: Path | str, *, expected: str = "a YAML file", limit: int = MAX_TEXT_BYTES) -> str:
    """A user's text file, safely (:func:`read_input`, then :func:`decode_text`)."""
    return decode_text(read_input(path, expected=expected, limit=limit), str(path), expected=expected)


def load_yaml(path: Path | str, *, expected: str = "a YAML file") -> Any:
    """Parse a YAML file safely (see the module docstring); any problem is an :class:`InputError` naming
    the file and, for a file that is not YAML text, ``expected``."""
    return parse_yaml(read_text(path, expected=expected), str(path))


def parse_yaml(text: str, file: str | None = None) -> Any:
    """Parse YAML ``text`` with :class:`BoundedLoader`; an error names ``file`` and the line."""
    try:
        loader = BoundedLoader(text)  # its reader refuses control characters at once
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        if isinstance(exc, yaml.reader.ReaderError):
            code = ord(exc.character) if isinstance(exc.character, str) else exc.character
            where = f"character #x{code:04x} at offset {exc.position}: "
        problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
        raise InputError(Problem(f"invalid YAML: {where}{problem}", file=file)) from None


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader (plain data only) with bounded depth, expanded size and integer length,
    and no duplicate keys."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None:
            _check_expanded(node)
        return node

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = self.construct_object(key_node)
                if isinstance(key, float) and math.isnan(key):
                    continue  # never equal to itself; the schema reports it
                if key in seen:
                    raise ConstructorError(
                        "while constructing a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_bounded_int(self, node: ScalarNode) -> int:
        digits = sum(c.isalnum() for c in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise ConstructorError(
                None, None, f"an integer of {digits} digits; at most {MAX_INT_DIGITS} are accepted", node.start_mark
            )
        return int(super().construct_yaml_int(node))


BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_bounded_int)


def _check_expanded(root: Node) -> None:
    """Refuse a document whose aliases expand past :data:`MAX_NODES` values or :data:`MAX_DEPTH` levels,
    or refer to a node containing them. Linear in the distinct nodes (sizes are memoised)."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_nodes.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            if size[key] > MAX_NODES or depth[key] > MAX_DEPTH:
                limit = f"{MAX_NODES:,} values" if size[key] > MAX_NODES else f"{MAX_DEPTH} levels"
                raise yaml.composer.ComposerError(
                    None, None, f"aliases expand this node past {limit} (an alias bomb?)", node.start_mark
                )
            continue
        if key in size:
            continue
        if key in open_nodes:
            raise yaml.composer.ComposerError(
                None, None, "an alias refers to a node that contains it (a recursive structure)", node.start_mark
            )
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in size)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


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


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> TypeGuard[int | float]:
    """A finite YAML number: ``.nan`` and ``.inf`` are not numbers any physical field accepts."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


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
