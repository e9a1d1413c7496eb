"""Derive the itensor type of every operand of a tiled kernel.

The kernel's *iteration loops* are its tile loops with more than one iteration, in kernel order. For an
operand with an affine access, data dim ``d`` is *driven* by iteration loop ``l`` when ``l`` is the only
iteration loop in the index expression, its coefficient ``c`` is positive and ``c * size(l)`` equals the
tensor extent (the blocks of ``c * tile(l)`` rows tile the dim exactly). Then the token holds
``c * tile(l)`` rows of ``d`` and loop ``l`` steps by ``c * tile(l)`` in the itensor. A dim driven by no
loop is whole in every token (offset 0). A loop driving several dims drives none.

* **Output** ports stream over the iteration loops that drive an output dim. Every other iteration
  loop (reductions, and loops that index the output without driving it) accumulates: a token is emitted
  when all of them are at their last iteration.
* **Input** ports stream over all iteration loops: the kernel pulls one token per iteration, so a loop
  that drives no dim of the operand repeats the data (StreamTensor's "repeated" streams).
* Window accesses (``oy + fy - 1`` of a convolution) are driven by the output loop; the filter loop and
  the offset only widen the rows a step needs. The token holds the fresh rows of each step; the kernel
  keeps the halo in its local buffer and may need later tokens early: :attr:`Port.lookahead` records,
  per driven dim, the highest token index each step needs. Padding rows are produced by the kernel.
* An operand without an affine access (``access=None``) is one token holding the whole tensor.

A kernel's local buffer is one tile of every operand (the most distinct elements any of its tiles
touches: halo included, padding excluded), except that the output tile is widened to the full size of
every loop nested inside the outermost accumulating iteration loop (the accumulator that loop needs).
"""

from __future__ import annotations

import functools
import itertools
import math

import attrs

from stream_core.ir import AffineExpr, Node, Operand, OperandRole, TensorSpec
from stream_itensor.affine import AffineMap, AffineResult
from stream_itensor.itype import ITensorType
from stream_itensor.tiling import IterLoop


@attrs.frozen
class Port:
    """One operand of a kernel as a stream."""

    operand: int
    tensor: str
    role: OperandRole
    itype: ITensorType
    #: Positions (among the kernel's iteration loops) of the itensor's loops, outermost first.
    dims: tuple[int, ...]
    #: ``(itensor dim, need)``: step ``j`` of that dim needs tokens up to index ``need[j]`` of it.
    lookahead: tuple[tuple[int, tuple[int, ...]], ...] = ()

    @property
    def is_output(self) -> bool:
        return self.role is OperandRole.OUTPUT


def iteration_loops(loops: tuple[IterLoop, ...]) -> tuple[IterLoop, ...]:
    return tuple(loop for loop in loops if loop.tripcount > 1)


def _drives(
    operand: Operand, tensor: TensorSpec, sizes: dict[str, int], candidates: set[str]
) -> dict[int, tuple[str, int]]:
    """Data dim -> (driving loop, coefficient) as defined in the module docstring."""
    assert operand.access is not None
    drives: dict[int, tuple[str, int]] = {}
    for d, expr in enumerate(operand.access):
        streaming = [(loop, c) for loop, c in expr.terms if c != 0 and loop in candidates]
        if len(streaming) == 1:
            loop, c = streaming[0]
            if c > 0 and c * sizes[loop] == tensor.shape[d]:
                drives[d] = (loop, c)
    count: dict[str, int] = {}
    for loop, _ in drives.values():
        count[loop] = count.get(loop, 0) + 1
    return {d: v for d, v in drives.items() if count[v[0]] == 1}


def derive_port(node: Node, index: int, tensor: TensorSpec, loops: tuple[IterLoop, ...]) -> Port:
    """The stream of operand ``index`` of ``node`` tiled as ``loops``."""
    operand = node.operands[index]
    iters = iteration_loops(loops)
    if operand.access is None:
        whole = ITensorType(
            tensor.shape, tensor.dtype, (), (), AffineMap(0, (AffineResult.const(),) * len(tensor.shape))
        )
        return Port(index, operand.tensor, operand.role, whole, ())
    is_output = operand.role is OperandRole.OUTPUT
    sizes = node.sizes
    tile = {loop.name: loop.tile for loop in loops}
    names = [loop.name for loop in iters]
    drives = _drives(operand, tensor, sizes, set(names))
    driving = {loop for loop, _ in drives.values()}
    dims = tuple(i for i, n in enumerate(names) if n in driving) if is_output else tuple(range(len(names)))
    position = {names[i]: k for k, i in enumerate(dims)}
    steps = [1] * len(dims)
    element: list[int] = []
    results: list[AffineResult] = []
    lookahead: list[tuple[int, tuple[int, ...]]] = []
    for d, extent in enumerate(tensor.shape):
        if d not in drives:
            element.append(extent)
            results.append(AffineResult.const())
            continue
        loop, c = drives[d]
        block = c * tile[loop]
        k = position[loop]
        steps[k] = block
        element.append(block)
        results.append(AffineResult.dim(k))
        if not is_output:
            need = _lookahead(operand, d, loop, c, tile[loop], sizes, extent)
            if need is not None:
                lookahead.append((k, need))
    itype = ITensorType(
        tuple(element),
        tensor.dtype,
        tuple(iters[i].tripcount for i in dims),
        tuple(steps),
        AffineMap(len(dims), tuple(results)),
    )
    return Port(index, operand.tensor, operand.role, itype, dims, tuple(lookahead))


def _lookahead(
    operand: Operand, d: int, loop: str, c: int, tile: int, sizes: dict[str, int], extent: int
) -> tuple[int, ...] | None:
    """Highest token index step ``j`` of ``loop`` needs along data dim ``d``; ``None`` if always ``j``."""
    assert operand.access is not None
    expr = operand.access[d]
    reach = expr.offset + sum(max(k * (sizes[n] - 1), 0) for n, k in expr.terms if n != loop)
    block = c * tile
    trips = sizes[loop] // tile
    need = tuple(
        min(trips - 1, max(j, min(block * j + c * (tile - 1) + reach, extent - 1) // block)) for j in range(trips)
    )
    return need if any(n > j for j, n in enumerate(need)) else None


def local_buffer_bits(
    node: Node, loops: tuple[IterLoop, ...], output_dims: tuple[int, ...], tensors: dict[str, TensorSpec]
) -> int:
    """On-chip bits of the kernel's own buffers (see the module docstring)."""
    tile = {loop.name: loop.tile for loop in loops}
    bits = sum(_largest_tile(op, tensors[op.tensor], loops, tile) * op.precision for op in node.reads)
    iters = iteration_loops(loops)
    accumulating = [loop.name for i, loop in enumerate(iters) if i not in output_dims]
    sizes = dict(tile)
    if accumulating:
        outer = [loop.name for loop in loops].index(accumulating[0])
        for loop in loops[outer + 1 :]:
            sizes[loop.name] = loop.size
    out = node.output
    return bits + _largest_tile(out, tensors[out.tensor], loops, sizes) * out.precision


def _largest_tile(operand: Operand, tensor: TensorSpec, loops: tuple[IterLoop, ...], sizes: dict[str, int]) -> int:
    """Most distinct elements of ``operand`` one tile touches (clipped to the tensor), over all tile
    positions; per data dim independently (exact for accesses whose dims use different loops)."""
    if operand.access is None:
        return math.prod(tensor.shape)
    total = 1
    for axis, expr in enumerate(operand.access):
        used = tuple(sorted((loop.name, loop.size, sizes[loop.name]) for loop in loops if loop.name in expr.dims))
        total *= _largest_extent(expr, tensor.shape[axis], used)
    return total


@functools.lru_cache(maxsize=4096)
def _largest_extent(expr: AffineExpr, extent: int, loops: tuple[tuple[str, int, int], ...]) -> int:
    """Most distinct indices of ``expr`` over the tile positions of ``loops`` ``(name, size, tile)``."""
    tile = {name: t for name, _, t in loops}
    moving = [(name, size, t) for name, size, t in loops if t < size]
    best = 0
    for position in itertools.product(*(range(size // t) for _, size, t in moving)):
        ranges = {n: (0, tile.get(n, 1)) for n in expr.dims}
        for (name, _, t), p in zip(moving, position, strict=True):
            ranges[name] = (p * t, (p + 1) * t)
        best = max(best, expr.distinct_count(ranges, (0, extent)))
    return best


def writes_whole_tensor(node: Node, tensor: TensorSpec) -> bool:
    """Whether the node's output access reaches every element of its output tensor."""
    return node.footprint_elements(node.output, tensor) == math.prod(tensor.shape)
