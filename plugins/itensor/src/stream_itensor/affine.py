"""Affine maps from iteration dims to data offsets, e.g. ``(d0,d1)->(d1,d0)`` or ``(d0,d1)->(d0 + d1,0)``.

Each result is ``sum(coeff * d_i) + constant`` over the map's positional dims. The textual form follows
MLIR: a parenthesised list of dim names, ``->``, and a parenthesised list of results.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs


def _normalise_terms(terms: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: dict[int, int] = {}
    for dim, coeff in terms:
        merged[int(dim)] = merged.get(int(dim), 0) + int(coeff)
    return tuple(sorted((d, c) for d, c in merged.items() if c != 0))


@attrs.frozen
class AffineResult:
    """``sum(coeff * d_dim) + constant``; ``terms`` are ``(dim, coeff)`` pairs, merged and sorted."""

    terms: tuple[tuple[int, int], ...] = attrs.field(default=(), converter=_normalise_terms)
    constant: int = attrs.field(default=0, converter=int)

    @classmethod
    def dim(cls, index: int, coeff: int = 1) -> AffineResult:
        return cls(((index, coeff),))

    @classmethod
    def const(cls, value: int = 0) -> AffineResult:
        return cls((), value)

    @property
    def dims(self) -> tuple[int, ...]:
        return tuple(d for d, _ in self.terms)

    @property
    def single_dim(self) -> int | None:
        """The dim when the result is exactly ``d_i`` (coefficient 1, no constant), else ``None``."""
        if len(self.terms) == 1 and self.terms[0][1] == 1 and self.constant == 0:
            return self.terms[0][0]
        return None

    @property
    def is_zero(self) -> bool:
        return not self.terms and self.constant == 0

    def evaluate(self, point: Sequence[int]) -> int:
        return self.constant + sum(c * point[d] for d, c in self.terms)

    def bounds(self, highs: Sequence[int]) -> tuple[int, int]:
        """Smallest and largest value when each dim ``i`` ranges over ``[0, highs[i]]`` (inclusive)."""
        lo = hi = self.constant
        for d, c in self.terms:
            if c > 0:
                hi += c * highs[d]
            else:
                lo += c * highs[d]
        return lo, hi

    def substitute(self, dim: int, value: int) -> AffineResult:
        """The result with ``d_dim`` fixed to ``value``."""
        coeff = dict(self.terms).get(dim, 0)
        return AffineResult(tuple(t for t in self.terms if t[0] != dim), self.constant + coeff * value)

    def renumber(self, new_index: dict[int, int]) -> AffineResult:
        return AffineResult(tuple((new_index[d], c) for d, c in self.terms), self.constant)

    def format(self, names: Sequence[str]) -> str:
        parts: list[str] = []
        for d, c in self.terms:
            body = names[d] if abs(c) == 1 else f"{abs(c)}*{names[d]}"
            parts.append(("- " if c < 0 else "+ ") + body)
        if self.constant or not parts:
            parts.append(("- " if self.constant < 0 else "+ ") + str(abs(self.constant)))
        text = " ".join(parts)
        return text[2:] if text.startswith("+ ") else "-" + text[2:]


def _dim_names(n: int) -> list[str]:
    return [f"d{i}" for i in range(n)]


@attrs.frozen
class AffineMap:
    """``num_dims`` positional iteration dims mapped to one :class:`AffineResult` per data dim."""

    num_dims: int
    results: tuple[AffineResult, ...] = attrs.field(converter=tuple[AffineResult, ...])

    def __attrs_post_init__(self) -> None:
        for r in self.results:
            bad = [d for d in r.dims if not 0 <= d < self.num_dims]
            if bad:
                raise ValueError(f"affine result uses dims {bad} outside 0..{self.num_dims - 1}")

    @classmethod
    def permutation(cls, dims: Sequence[int | None], num_dims: int | None = None) -> AffineMap:
        """Results ``d_i`` per entry (``None`` for the constant 0)."""
        n = num_dims if num_dims is not None else max((d for d in dims if d is not None), default=-1) + 1
        return cls(n, tuple(AffineResult.const() if d is None else AffineResult.dim(d) for d in dims))

    def __call__(self, point: Sequence[int]) -> tuple[int, ...]:
        return tuple(r.evaluate(point) for r in self.results)

    @property
    def used_dims(self) -> frozenset[int]:
        return frozenset(d for r in self.results for d in r.dims)

    @property
    def is_projected_permutation(self) -> bool:
        """Every result is a distinct dim (coefficient 1, no constant) or the constant 0."""
        seen: set[int] = set()
        for r in self.results:
            if r.is_zero:
                continue
            d = r.single_dim
            if d is None or d in seen:
                return False
            seen.add(d)
        return True

    def __str__(self) -> str:
        names = _dim_names(self.num_dims)
        return f"({','.join(names)})->({','.join(r.format(names) for r in self.results)})"

    @classmethod
    def parse(cls, text: str) -> AffineMap:
        """Parse ``(d0,d1)->(d1, 2*d0 + 1, 0)``; any identifiers may name the dims. Raises ``ValueError``."""
        match = _MAP_RE.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"expected '(dims)->(results)', got {text!r}")
        names = [n.strip() for n in match.group(1).split(",")] if match.group(1).strip() else []
        for name in names:
            if not _IDENT_RE.fullmatch(name):
                raise ValueError(f"bad dim name {name!r} in {text!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"repeated dim names in {text!r}")
        index = {name: i for i, name in enumerate(names)}
        body = match.group(2).strip()
        results = tuple(_parse_result(part, index) for part in body.split(",")) if body else ()
        return cls(len(names), results)


_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_MAP_RE = re.compile(r"\(([^()]*)\)\s*->\s*\(([^()]*)\)")
_TERM_RE = re.compile(
    r"\s*([+-])?\s*(?:(\d+)\s*\*\s*([A-Za-z_]\w*)|([A-Za-z_]\w*)\s*\*\s*(\d+)|([A-Za-z_]\w*)|(\d+))\s*"
)


def _parse_result(text: str, index: dict[str, int]) -> AffineResult:
    text = text.strip()
    if not text:
        raise ValueError("empty affine result")
    terms: list[tuple[int, int]] = []
    constant = 0
    pos = 0
    first = True
    while pos < len(text):
        m = _TERM_RE.match(text, pos)
        if m is None or m.end() == pos or (not first and m.group(1) is None):
            raise ValueError(f"cannot parse affine result {text!r} at {text[pos:]!r}")
        sign = -1 if m.group(1) == "-" else 1
        coeff_a, name_a, name_b, coeff_b, name_c, number = m.group(2, 3, 4, 5, 6, 7)
        name = name_a or name_b or name_c
        if name is not None:
            if name not in index:
                raise ValueError(f"unknown dim {name!r} in {text!r}")
            terms.append((index[name], sign * int(coeff_a or coeff_b or 1)))
        else:
            constant += sign * int(number)
        pos = m.end()
        first = False
    return AffineResult(tuple(terms), constant)
