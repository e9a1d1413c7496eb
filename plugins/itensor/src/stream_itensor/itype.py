"""The iterative tensor type (StreamTensor's ``itensor``): a stream of equally shaped tiles.

``itensor<4x2xf32, iter_space: [4,2]*[2,4], iter_map: (d0,d1)->(d1,d0)>`` reads: tokens are ``4x2``
tiles of ``f32``; the stream is produced by two nested loops (outermost first) with trip counts
``[4,2]`` and steps ``[2,4]`` (loop ``i`` takes the values ``0, s_i, ..., (t_i-1)*s_i``); the map gives
the data-space offset of each token from the loop values. The full data shape follows:
``shape[d] = max(map_d) + element[d]``, i.e. ``map_d((t-1)*s) + element[d]`` for non-negative maps.

Element types are stored with the core's names (``float32``, ``int8``, see
:data:`stream_core.ir.DTYPE_BITS`) and printed with MLIR's (``f32``, ``i8``).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Sequence

import attrs

from stream_core.errors import InputError, Problem
from stream_core.ir import DTYPE_BITS
from stream_itensor.affine import AffineMap, AffineResult

#: Core dtype name -> MLIR element type name.
MLIR_NAMES: dict[str, str] = {
    "bool": "i1",
    "int4": "i4",
    "uint4": "ui4",
    "int8": "i8",
    "uint8": "ui8",
    "int16": "i16",
    "uint16": "ui16",
    "int32": "i32",
    "uint32": "ui32",
    "int64": "i64",
    "uint64": "ui64",
    "float16": "f16",
    "bfloat16": "bf16",
    "float32": "f32",
    "float64": "f64",
    "float8e4m3fn": "f8E4M3FN",
    "float8e5m2": "f8E5M2",
}
_FROM_MLIR = {v: k for k, v in MLIR_NAMES.items()}
_TYPE_NAMES = ", ".join(sorted(MLIR_NAMES.values()))


def dtype_from_name(name: str) -> str:
    """The core dtype for an MLIR (``f32``) or core (``float32``) element type name; ``KeyError`` if unknown."""
    if name in DTYPE_BITS:
        return name
    return _FROM_MLIR[name]


def _ints(value: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


@attrs.frozen
class ITensorType:
    """Element (tile) shape and dtype, iteration space ``tripcounts x steps`` (outermost first) and map.

    Construction validates the type and raises :class:`~stream_core.errors.InputError` listing every
    problem: ``len(tripcounts) == len(steps) == iter_map.num_dims``, element rank equals the number of map
    results, positive sizes, and non-negative data offsets.
    """

    element: tuple[int, ...] = attrs.field(converter=_ints)
    dtype: str
    tripcounts: tuple[int, ...] = attrs.field(converter=_ints)
    steps: tuple[int, ...] = attrs.field(converter=_ints)
    iter_map: AffineMap

    def __attrs_post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise InputError(problems)

    def _problems(self) -> list[Problem]:
        out: list[Problem] = []

        def bad(field: str, message: str) -> None:
            out.append(Problem(f"{message} (in {self._text_unchecked()})", field=f"itensor.{field}"))

        if self.dtype not in DTYPE_BITS:
            bad(
                "dtype",
                f"unknown element type {self.dtype!r}; expected one of {', '.join(sorted(MLIR_NAMES.values()))}",
            )
        if any(e < 1 for e in self.element):
            bad("element", f"element sizes must be >= 1, got {list(self.element)}")
        if len(self.tripcounts) != len(self.steps):
            bad("iter_space", f"{len(self.tripcounts)} trip counts but {len(self.steps)} steps")
        if any(t < 1 for t in self.tripcounts) or any(s < 1 for s in self.steps):
            bad("iter_space", "trip counts and steps must be >= 1")
        if len(self.tripcounts) != self.iter_map.num_dims:
            bad(
                "iter_map",
                f"the map has {self.iter_map.num_dims} dims but the iteration space has {len(self.tripcounts)} loops",
            )
        if len(self.element) != len(self.iter_map.results):
            bad(
                "iter_map",
                f"the map has {len(self.iter_map.results)} results but the element has rank {len(self.element)}",
            )
        if not out:
            for d, r in enumerate(self.iter_map.results):
                lo, _ = r.bounds(self._highs())
                if lo < 0:
                    bad(
                        "iter_map",
                        f"result {d} ({r.format([f'd{i}' for i in range(self.num_dims)])}) reaches offset {lo} < 0",
                    )
        return out

    # -- basic facts ------------------------------------------------------------------------------
    @property
    def num_dims(self) -> int:
        """Number of iteration loops."""
        return len(self.tripcounts)

    @property
    def rank(self) -> int:
        return len(self.element)

    @property
    def num_tokens(self) -> int:
        return math.prod(self.tripcounts)

    @property
    def element_bits(self) -> int:
        return DTYPE_BITS[self.dtype]

    @property
    def element_count(self) -> int:
        return math.prod(self.element)

    @property
    def token_bits(self) -> int:
        """Bits of one token (one tile): the FIFO width."""
        return self.element_count * self.element_bits

    def _highs(self) -> tuple[int, ...]:
        return tuple((t - 1) * s for t, s in zip(self.tripcounts, self.steps, strict=True))

    @property
    def data_shape(self) -> tuple[int, ...]:
        """Full tensor shape: per data dim, the largest offset the map reaches plus the element size."""
        highs = self._highs()
        return tuple(r.bounds(highs)[1] + e for r, e in zip(self.iter_map.results, self.element, strict=True))

    # -- enumeration ------------------------------------------------------------------------------
    def iteration_points(self) -> Iterator[tuple[int, ...]]:
        """Loop values in stream order (outermost loop first, last loop fastest)."""
        return itertools.product(*(range(0, t * s, s) for t, s in zip(self.tripcounts, self.steps, strict=True)))

    def offsets(self) -> Iterator[tuple[int, ...]]:
        """Data-space offset of every token, in stream order."""
        results = self.iter_map.results
        for point in self.iteration_points():
            yield tuple(r.evaluate(point) for r in results)

    # -- predicates -------------------------------------------------------------------------------
    @property
    def repeat_dims(self) -> tuple[int, ...]:
        """Loops (trip count > 1) the map ignores: the stream repeats the data they enclose."""
        used = self.iter_map.used_dims
        return tuple(i for i, t in enumerate(self.tripcounts) if t > 1 and i not in used)

    @property
    def is_projected_permutation(self) -> bool:
        return self.iter_map.is_projected_permutation

    def driving_dim(self, data_dim: int) -> int | None:
        """The loop whose value is the offset of ``data_dim`` (projected-permutation results only)."""
        return self.iter_map.results[data_dim].single_dim

    @property
    def is_regular(self) -> bool:
        """Projected permutation whose tiles neither overlap nor leave gaps: every data dim driven by a
        loop (trip count > 1) has that loop's step equal to its element size."""
        if not self.is_projected_permutation:
            return False
        for d, e in enumerate(self.element):
            i = self.driving_dim(d)
            if i is not None and self.tripcounts[i] > 1 and self.steps[i] != e:
                return False
        return True

    @property
    def covers(self) -> bool:
        """Every data element is in some token (no gaps). Only decided for projected permutations;
        ``False`` otherwise (not known to cover)."""
        if not self.is_projected_permutation:
            return False
        for d, e in enumerate(self.element):
            i = self.driving_dim(d)
            if i is not None and self.tripcounts[i] > 1 and self.steps[i] > e:
                return False
        return True

    def castable_to(self, other: ITensorType) -> bool:
        """Same element type and same full data shape: a layout converter can connect the two."""
        return self.dtype == other.dtype and self.data_shape == other.data_shape

    # -- transforms -------------------------------------------------------------------------------
    def canonical(self) -> ITensorType:
        """The same stream without trip-count-1 loops and with step 1 on loops the map ignores."""
        keep = [i for i, t in enumerate(self.tripcounts) if t > 1]
        renumber = {old: new for new, old in enumerate(keep)}
        results = []
        for r in self.iter_map.results:
            for i, t in enumerate(self.tripcounts):
                if t == 1:
                    r = r.substitute(i, 0)
            results.append(r.renumber(renumber))
        used = {renumber[d] for d in self.iter_map.used_dims if d in renumber}
        steps = tuple(self.steps[i] if renumber[i] in used else 1 for i in keep)
        return ITensorType(
            self.element, self.dtype, tuple(self.tripcounts[i] for i in keep), steps, AffineMap(len(keep), results)
        )

    def same_stream(self, other: ITensorType) -> bool:
        """Identical token sequence (same tiles in the same order): a plain FIFO connects the two."""
        return self.canonical() == other.canonical()

    def scalarize(self) -> ITensorType:
        """Tile dims become extra innermost loops (trip count = tile size, step 1): a stream of scalars."""
        n = self.num_dims
        results = tuple(AffineResult((*r.terms, (n + d, 1)), r.constant) for d, r in enumerate(self.iter_map.results))
        return ITensorType(
            (1,) * self.rank,
            self.dtype,
            (*self.tripcounts, *self.element),
            (*self.steps, *(1,) * self.rank),
            AffineMap(n + self.rank, results),
        )

    # -- text -------------------------------------------------------------------------------------
    def _text_unchecked(self) -> str:
        name = MLIR_NAMES.get(self.dtype, self.dtype)
        element = "x".join([*(str(e) for e in self.element), name])
        trips = ",".join(str(t) for t in self.tripcounts)
        steps = ",".join(str(s) for s in self.steps)
        return f"itensor<{element}, iter_space: [{trips}]*[{steps}], iter_map: {self.iter_map}>"

    def __str__(self) -> str:
        return self._text_unchecked()

    @classmethod
    def parse(cls, text: str, *, file: str | None = None) -> ITensorType:
        """Parse the textual form; raises :class:`InputError` naming every problem."""
        match = _TYPE_RE.fullmatch(text.strip())
        if match is None:
            raise InputError(
                Problem(
                    "expected 'itensor<AxBxTYPE, iter_space: [t0,...]*[s0,...], iter_map: (d0,...)->(...)>', "
                    f"got {text!r}",
                    file=file,
                    field="itensor",
                )
            )
        problems: list[Problem] = []
        parts = match.group("elem").strip().split("x")
        element: list[int] = []
        for part in parts[:-1]:
            if part.strip().isdigit():
                element.append(int(part))
            else:
                problems.append(
                    Problem(f"element size {part!r} is not a positive integer", file=file, field="itensor.element")
                )
        dtype = ""
        try:
            dtype = dtype_from_name(parts[-1].strip())
        except KeyError:
            problems.append(
                Problem(
                    f"unknown element type {parts[-1].strip()!r}; expected one of {_TYPE_NAMES}",
                    file=file,
                    field="itensor.element",
                )
            )
        trips = _int_list(match.group("trips"), "itensor.iter_space", file, problems)
        steps = _int_list(match.group("steps"), "itensor.iter_space", file, problems)
        mapping = None
        try:
            mapping = AffineMap.parse(match.group("map"))
        except ValueError as exc:
            problems.append(Problem(str(exc), file=file, field="itensor.iter_map"))
        if problems or mapping is None:
            raise InputError(problems)
        try:
            return cls(tuple(element), dtype, trips, steps, mapping)
        except InputError as exc:
            raise InputError(attrs.evolve(p, file=file) for p in exc.problems) from None


_TYPE_RE = re.compile(
    r"itensor\s*<\s*(?P<elem>[^,<>]+?)\s*,\s*iter_space\s*:\s*\[(?P<trips>[^\]]*)\]\s*\*\s*\[(?P<steps>[^\]]*)\]"
    r"\s*,\s*iter_map\s*:\s*(?P<map>\([^()]*\)\s*->\s*\([^()]*\))\s*>",
    re.DOTALL,
)


def _int_list(text: str, field: str, file: str | None, problems: list[Problem]) -> tuple[int, ...]:
    items = [t.strip() for t in text.split(",")] if text.strip() else []
    values = []
    for item in items:
        if item.isdigit():
            values.append(int(item))
        else:
            problems.append(Problem(f"{item!r} is not a non-negative integer", file=file, field=field))
    return tuple(values)


def parse_itensor(text: str, *, file: str | None = None) -> ITensorType:
    """Shorthand for :meth:`ITensorType.parse`."""
    return ITensorType.parse(text, file=file)
