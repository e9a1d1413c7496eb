"""Small helpers for writing C++ text: an indenting line writer, identifiers, literals, expressions."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from stream_core.ir import AffineExpr

_NOT_IDENT = re.compile(r"[^0-9A-Za-z_]+")
_CPP_KEYWORDS = frozenset(
    [
        "alignas",
        "alignof",
        "and",
        "asm",
        "auto",
        "bool",
        "break",
        "case",
        "catch",
        "char",
        "class",
        "const",
        "constexpr",
        "continue",
        "default",
        "delete",
        "do",
        "double",
        "else",
        "enum",
        "explicit",
        "export",
        "extern",
        "false",
        "float",
        "for",
        "friend",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "mutable",
        "namespace",
        "new",
        "noexcept",
        "not",
        "nullptr",
        "operator",
        "or",
        "private",
        "protected",
        "public",
        "register",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "struct",
        "switch",
        "template",
        "this",
        "throw",
        "true",
        "try",
        "typedef",
        "typename",
        "union",
        "unsigned",
        "using",
        "virtual",
        "void",
        "volatile",
        "while",
    ]
)


class Writer:
    """Collects lines with two-space indentation per level."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._level = 0

    def line(self, text: str = "") -> None:
        self.lines.append(("  " * self._level + text) if text else "")

    def extend(self, lines: Sequence[str]) -> None:
        """Append lines written by another :class:`Writer`, indented at the current level."""
        for text in lines:
            self.lines.append(("  " * self._level + text) if text else "")

    def pragma(self, text: str) -> None:
        """An ``#pragma HLS`` line, indented like code (Vitis accepts indented pragmas)."""
        self.line(f"#pragma HLS {text}")

    @contextmanager
    def block(self, head: str, tail: str = "}") -> Iterator[None]:
        self.line(head + " {")
        self._level += 1
        try:
            yield
        finally:
            self._level -= 1
            self.line(tail)

    @contextmanager
    def scope(self, comment: str) -> Iterator[None]:
        """A bare ``{ ... }`` block with a trailing comment on its opening line."""
        self.line(f"{{  // {comment}")
        self._level += 1
        try:
            yield
        finally:
            self._level -= 1
            self.line("}")

    @contextmanager
    def loops(self, loops: Sequence[tuple[str, str, str]], pragmas: Sequence[str] = ()) -> Iterator[None]:
        """Nested ``for (int v = lo; v < hi; ++v)`` loops; ``pragmas`` go into the innermost loop."""
        opened = 0
        for i, (var, lo, hi) in enumerate(loops):
            self.line(f"for (int {var} = {lo}; {var} < {hi}; ++{var}) {{")
            self._level += 1
            opened += 1
            if i == len(loops) - 1:
                for p in pragmas:
                    self.pragma(p)
        try:
            yield
        finally:
            for _ in range(opened):
                self._level -= 1
                self.line("}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def identifier(text: str) -> str:
    """A C identifier made from ``text`` (non-identifier runs become ``_``)."""
    ident = _NOT_IDENT.sub("_", text).strip("_") or "t"
    if ident[0].isdigit() or ident in _CPP_KEYWORDS:
        ident = "t_" + ident
    return ident


class Namer:
    """Unique C identifiers: the same key always gets the same name, clashes get ``_2``, ``_3``..."""

    def __init__(self, reserved: Sequence[str] = ()) -> None:
        self._used = set(reserved)
        self._names: dict[object, str] = {}

    def name(self, key: object, text: str) -> str:
        if key in self._names:
            return self._names[key]
        base = identifier(text)
        candidate, n = base, 1
        while candidate in self._used:
            n += 1
            candidate = f"{base}_{n}"
        self._used.add(candidate)
        self._names[key] = candidate
        return candidate


def flit(value: float) -> str:
    """A float literal: ``0.5f``, ``1e-05f``; rejects non-finite values."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot write the non-finite constant {value!r} as a float literal")
    text = repr(value)
    if "e" not in text and "." not in text:
        text += ".0"
    return text + "f"


def affine(expr: AffineExpr, loop_var: dict[str, str]) -> str:
    """C text of ``sum(c * loop) + offset`` with each loop replaced by its variable."""
    parts: list[str] = []
    for loop, coeff in expr.terms:
        if coeff == 0:
            continue
        var = loop_var[loop]
        term = var if abs(coeff) == 1 else f"{abs(coeff)} * {var}"
        parts.append(("- " if coeff < 0 else "+ ") + term)
    if expr.offset or not parts:
        parts.append(("- " if expr.offset < 0 else "+ ") + str(abs(expr.offset)))
    text = " ".join(parts)
    return text[2:] if text.startswith("+ ") else "-" + text[2:]


def flat_index(indices: Sequence[str], shape: Sequence[int]) -> str:
    """Row-major flat index of ``indices`` in an array of ``shape``."""
    parts = []
    for d, idx in enumerate(indices):
        stride = math.prod(shape[d + 1 :])
        if idx == "0":
            continue
        parts.append(idx if stride == 1 else f"({idx}) * {stride}" if " " in idx else f"{idx} * {stride}")
    return " + ".join(parts) if parts else "0"


def dims(shape: Sequence[int]) -> str:
    """``[a][b]`` array extents (``[1]`` for a scalar)."""
    return "".join(f"[{n}]" for n in shape) if shape else "[1]"


def subscript(indices: Sequence[str]) -> str:
    return "".join(f"[{i}]" for i in indices) if indices else "[0]"
