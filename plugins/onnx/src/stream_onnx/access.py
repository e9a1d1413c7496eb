"""Loop names and affine access relations shared by the op parsers (part of the public API).

Every helper here is pure and works on shapes only, so op parsers stay short and exact.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from stream_core.ir import AffineExpr, LoopDim

#: Default loop names of an ``n``-D tensor's axes (elementwise and other shape-preserving ops).
RANK_NAMES: dict[int, tuple[str, ...]] = {
    0: (),
    1: ("K",),
    2: ("D", "K"),
    3: ("B", "D", "K"),
    4: ("B", "C", "OY", "OX"),
}

#: Names of the spatial axes of an NC<spatial> activation, outermost first.
SPATIAL_NAMES: dict[int, tuple[str, ...]] = {0: (), 1: ("OX",), 2: ("OY", "OX"), 3: ("OZ", "OY", "OX")}


def generic_names(count: int, prefix: str = "A") -> tuple[str, ...]:
    """``A0, A1, ...``: names for loops nothing better describes (never ``D<i>``, which means a position)."""
    return tuple(f"{prefix}{i}" for i in range(count))


def axis_names(rank: int) -> tuple[str, ...]:
    """Loop names for the axes of a rank-``rank`` tensor: :data:`RANK_NAMES`, else ``A0..``."""
    return RANK_NAMES.get(rank, generic_names(rank))


def activation_names(rank: int) -> tuple[str, ...]:
    """``B, C`` then the spatial names (``OY, OX`` for 4-D NCHW); ``A0..`` beyond 3 spatial axes."""
    spatial = rank - 2
    if spatial < 0:
        return axis_names(rank)
    if spatial not in SPATIAL_NAMES:
        return generic_names(rank)
    return ("B", "C", *SPATIAL_NAMES[spatial])


def make_loops(names: Sequence[str], sizes: Sequence[int]) -> tuple[LoopDim, ...]:
    return tuple(LoopDim(n, int(s)) for n, s in zip(names, sizes, strict=True))


def identity_access(names: Sequence[str]) -> tuple[AffineExpr, ...]:
    """Axis ``i`` indexed by loop ``names[i]``."""
    return tuple(AffineExpr.of(n) for n in names)


def broadcast_access(shape: Sequence[int], out_shape: Sequence[int], names: Sequence[str]) -> tuple[AffineExpr, ...]:
    """NumPy broadcasting of a ``shape`` operand to loops over ``out_shape`` (named ``names``).

    Axes align from the right; an operand axis of size 1 under a larger output axis is indexed at the
    constant 0; missing leading axes are simply absent.
    """
    lead = len(out_shape) - len(shape)
    if lead < 0:
        raise ValueError(f"shape {tuple(shape)} has more axes than the broadcast result {tuple(out_shape)}")
    access = []
    for axis, size in enumerate(shape):
        out_size = out_shape[lead + axis]
        if size == out_size:
            access.append(AffineExpr.of(names[lead + axis]))
        elif size == 1:
            access.append(AffineExpr.constant(0))
        else:
            raise ValueError(f"shape {tuple(shape)} does not broadcast to {tuple(out_shape)}")
    return tuple(access)


def window_expr(out_loop: str, filter_loop: str, stride: int, dilation: int, pad_begin: int) -> AffineExpr:
    """Input index of a sliding window: ``stride*out + dilation*filter - pad_begin``."""
    return AffineExpr(((out_loop, stride), (filter_loop, dilation)), -pad_begin)


def normalise_axis(axis: int, rank: int) -> int:
    """``axis`` in ``[0, rank)`` (ONNX allows negative axes counted from the end)."""
    if not -rank <= axis < max(rank, 1):
        raise ValueError(f"axis {axis} is out of range for rank {rank}")
    return axis % rank if rank else 0


def reshape_access(
    in_shape: Sequence[int], out_shape: Sequence[int]
) -> tuple[tuple[LoopDim, ...], tuple[AffineExpr, ...], tuple[AffineExpr, ...]] | None:
    """Loops and exact affine accesses of a row-major reshape, or ``None`` when it is not affine.

    Both shapes are cut at the strides of either one (counting from the innermost axis). When every
    cut divides the next, the pieces are loops and each axis index is a weighted sum of its pieces
    (e.g. ``[2, 3, 4] -> [6, 4]``: loops ``2, 3, 4``, output axis 0 = ``3*A0 + A1``). Otherwise an
    output element's input index is not affine in any loops (e.g. ``[4, 6] -> [6, 4]``).
    """
    if math.prod(in_shape) != math.prod(out_shape):
        raise ValueError(f"cannot reshape {tuple(in_shape)} into {tuple(out_shape)}")
    cuts = sorted(set(_strides(in_shape)) | set(_strides(out_shape)))
    if any(b % a for a, b in itertools.pairwise(cuts)):
        return None
    pieces = list(itertools.pairwise(cuts))[::-1]  # (stride, next stride), outermost first
    names = axis_names(len(pieces))
    loops = make_loops(names, [hi // lo for lo, hi in pieces])
    return loops, _axis_exprs(in_shape, pieces, names), _axis_exprs(out_shape, pieces, names)


def _strides(shape: Sequence[int]) -> list[int]:
    """Row-major strides of ``shape`` plus its element count, innermost first."""
    out, stride = [1], 1
    for size in reversed(shape):
        stride *= size
        out.append(stride)
    return out


def _axis_exprs(shape: Sequence[int], pieces: list[tuple[int, int]], names: Sequence[str]) -> tuple[AffineExpr, ...]:
    exprs = []
    stride = math.prod(shape)
    for size in shape:
        inner = stride // size  # stride of this axis
        terms = tuple((n, lo // inner) for n, (lo, _) in zip(names, pieces, strict=True) if inner <= lo < stride)
        exprs.append(AffineExpr(terms, 0))
        stride = inner
    return tuple(exprs)
