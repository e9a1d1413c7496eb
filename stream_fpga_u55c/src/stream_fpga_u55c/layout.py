"""Local buffers of a dataflow kernel: where each token of a port lives and how a data index finds it.

A kernel fires once per tile iteration (``i_<loop>`` variables, the kernel's iteration loops outermost
first). Per data dim of an operand, a buffer dimension is one of:

* ``whole``: the token holds the full extent (the dim is driven by no iteration loop); index ``g``;
* ``block``: the token is one block of the dim, the block of the current firing (driving loop ``l``,
  block ``b``); index ``g - b * i_l``;
* ``full``: the buffer keeps every block of the dim; index ``g``. Used by outputs for blocks nested inside
  an accumulating loop (all their accumulators stay alive), and by windowed inputs for driven dims nested
  inside the ring dim;
* ``ring``: a sliding window of ``R`` blocks (convolution and pooling halos); index
  ``((g / b) % R) * b + g % b``. ``R`` covers every block a firing needs, from the oldest still needed to the
  newest already read (the itensor's lookahead).

Windowed inputs read tokens ahead (``need``: per itensor loop, the highest token index each step needs,
from :attr:`stream_itensor.api.Port.lookahead`), exactly as the FIFO-sizing token model assumes.
"""

from __future__ import annotations

import math

import attrs
from stream_itensor.api import Port, StreamKernel

from stream_core.errors import InputError, Problem
from stream_core.ir import Node, Operand


@attrs.frozen
class DimLayout:
    mode: str  # "whole" | "block" | "full" | "ring"
    extent: int  # buffer extent
    block: int  # token extent along the dim
    loop: str | None = None  # driving iteration loop
    ring: int = 1

    def index(self, g: str) -> str:
        """Buffer index of data index ``g`` (C text)."""
        if self.mode in ("whole", "full"):
            return g
        if self.mode == "block":
            offset = f"i_{self.loop}" if self.block == 1 else f"{self.block} * i_{self.loop}"
            return "0" if g == offset else f"{g} - {offset}"
        if self.block == 1:
            return f"({g}) % {self.ring}"
        return f"(({g}) / {self.block} % {self.ring}) * {self.block} + ({g}) % {self.block}"


@attrs.frozen
class BufferLayout:
    """The local buffer of one port (input) or of the output accumulator."""

    var: str
    dims: tuple[DimLayout, ...]
    element: tuple[int, ...]
    #: Non-affine access (``access=None``): the buffer is the whole tensor, indexed flat.
    opaque: bool = False
    #: Per itensor loop of a windowed input: the highest token index step ``j`` needs (``None``: ``j``).
    need: tuple[tuple[int, ...] | None, ...] = ()

    @property
    def shape(self) -> tuple[int, ...]:
        if self.opaque:
            return (math.prod(self.element),)
        return tuple(d.extent for d in self.dims)

    @property
    def elements(self) -> int:
        return math.prod(self.shape)

    @property
    def token_elements(self) -> int:
        return math.prod(self.element)

    @property
    def direct(self) -> bool:
        """A token is copied as is (the buffer has the token's layout)."""
        return self.opaque or all(d.mode in ("whole", "block") for d in self.dims)

    @property
    def windowed(self) -> bool:
        return any(n is not None for n in self.need)

    def index(self, globals_: list[str]) -> list[str]:
        return [d.index(g) for d, g in zip(self.dims, globals_, strict=True)]


def _error(kernel: StreamKernel, message: str) -> InputError:
    return InputError(
        Problem(f"kernel {kernel.name!r} ({kernel.node.op_type}): {message}", field=f"tiling.{kernel.name}")
    )


def _driving_loop(kernel: StreamKernel, port: Port, k: int) -> str:
    """Name of the iteration loop behind itensor loop ``k`` of ``port``."""
    return kernel.iteration_loops[port.dims[k]].name


def _window_blocks(operand: Operand, d: int, loop: str, kernel: StreamKernel, extent: int, block: int) -> list[int]:
    """Per step ``j`` of ``loop``: the oldest block of dim ``d`` the tile needs (clipped to the tensor)."""
    assert operand.access is not None
    sizes = {lp.name: lp.size for lp in kernel.loops}
    tile = {lp.name: lp.tile for lp in kernel.loops}[loop]
    expr = operand.access[d]
    oldest = []
    for j in range(sizes[loop] // tile):
        ranges = {n: (0, s) for n, s in sizes.items()}
        ranges[loop] = (j * tile, (j + 1) * tile)
        lo, hi = expr.interval(ranges)
        lo, hi = max(lo, 0), min(hi, extent)
        oldest.append(lo // block if lo < hi else j)
    return oldest


def input_layout(kernel: StreamKernel, port: Port, shape: tuple[int, ...], var: str) -> BufferLayout:
    """The buffer of input ``port`` (see the module docstring)."""
    operand = kernel.node.operands[port.operand]
    itype = port.itype
    if operand.access is None:
        return BufferLayout(var, (), tuple(shape), opaque=True, need=(None,) * itype.num_dims)
    lookahead = dict(port.lookahead)
    driven: dict[int, int] = {}  # data dim -> itensor loop
    for d, result in enumerate(itype.iter_map.results):
        if result.is_zero:
            continue
        k = result.single_dim
        if k is None:
            raise _error(kernel, f"operand {port.tensor!r}: unsupported itensor map result in {itype}")
        driven[d] = k
    need: list[tuple[int, ...] | None] = [None] * itype.num_dims
    ring_dim, ring_size = None, 1
    for d, k in sorted(driven.items(), key=lambda item: item[1]):
        trips, block = itype.tripcounts[k], itype.element[d]
        table = tuple(lookahead[k]) if k in lookahead else tuple(range(trips))
        oldest = _window_blocks(operand, d, _driving_loop(kernel, port, k), kernel, shape[d], block)
        if all(o == j and n == j for j, (o, n) in enumerate(zip(oldest, table, strict=True))):
            continue
        if ring_dim is None:
            ring_dim = d
            ring_size = max(n - o + 1 for o, n in zip(oldest, table, strict=True))
        if k in lookahead:
            need[k] = table
    dims = []
    ring_k = driven.get(ring_dim, -1) if ring_dim is not None else -1
    for d, extent in enumerate(shape):
        block = itype.element[d]
        if d not in driven:
            dims.append(DimLayout("whole", extent, block))
        elif d == ring_dim:
            dims.append(DimLayout("ring", ring_size * block, block, _driving_loop(kernel, port, driven[d]), ring_size))
        elif ring_dim is not None and driven[d] > ring_k:
            dims.append(DimLayout("full", extent, block, _driving_loop(kernel, port, driven[d])))
        else:
            dims.append(DimLayout("block", block, block, _driving_loop(kernel, port, driven[d])))
    return BufferLayout(var, tuple(dims), itype.element, need=tuple(need))


def accumulating_loops(kernel: StreamKernel) -> tuple[str, ...]:
    """Iteration loops that do not drive an output dim: the output token is complete at their last step."""
    out = kernel.output
    return tuple(loop.name for i, loop in enumerate(kernel.iteration_loops) if i not in out.dims)


def output_layout(kernel: StreamKernel, node: Node, shape: tuple[int, ...], var: str) -> BufferLayout:
    """The output accumulator (see the module docstring). A driven output dim must be indexed by its loop
    alone (``l``); windowed outputs (transposed convolutions) must keep that dim whole."""
    port = kernel.output
    itype = port.itype
    access = node.output.access
    if access is None:
        raise _error(kernel, "an output without an affine access is not supported")
    iters = kernel.iteration_loops
    accumulating = [i for i in range(len(iters)) if i not in port.dims]
    first_acc = min(accumulating) if accumulating else None
    dims = []
    for d, extent in enumerate(shape):
        result = itype.iter_map.results[d]
        block = itype.element[d]
        if result.is_zero:
            dims.append(DimLayout("whole", extent, block))
            continue
        k = result.single_dim
        position = port.dims[k] if k is not None else -1
        loop = iters[position].name if k is not None else ""
        if k is None or access[d].terms != ((loop, 1),) or access[d].offset:
            raise _error(
                kernel,
                f"output dim {d} ({access[d]}) must be indexed by its tiled loop alone; keep that loop whole",
            )
        mode = "full" if first_acc is not None and position > first_acc else "block"
        dims.append(DimLayout(mode, extent if mode == "full" else block, block, loop))
    return BufferLayout(var, tuple(dims), itype.element)


def token_offsets(itype_results: tuple, steps: tuple[int, ...], index_vars: list[str]) -> list[str]:
    """C text of each data dim's offset for the token whose itensor loop indices are ``index_vars``."""
    out = []
    for result in itype_results:
        parts = []
        for k, coeff in result.terms:
            if index_vars[k] == "0":
                continue
            scale = coeff * steps[k]
            parts.append(index_vars[k] if scale == 1 else f"{scale} * {index_vars[k]}")
        if result.constant:
            parts.append(str(result.constant))
        out.append(" + ".join(parts) if parts else "0")
    return out
