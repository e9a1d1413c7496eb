"""Steady-state iteration spaces: loop nests, reuse tables, firing iterations and buffer rings.

Iteration ``i`` of a fused group runs at most one temporal step of every node. Node ``n`` runs its
step ``k`` (all inter-core parts at once) in iteration ``it_n[k]``, computed by a forward pass in
topological order: ``it_n[k]`` is the first iteration after ``it_n[k-1]`` in which every producer
tile whose output box overlaps the step's input box has completed (the same iteration is allowed:
the producer's slot precedes the consumer's). Aligned tilings give ``it_n[k] = k``; a 3x3
convolution reading another's rows lags it by one iteration (halo), and a node with fewer steps
than its producer fires only in the iterations where its data is complete. A backward pass then
delays producers to the iteration their consumers first need each box (just in time), so a
producer with few steps does not run ahead and fill its consumers' buffers.

The SSIS of a node is its temporal loop nest, innermost first (Stream's order), with the loops
that have more than one step; a tensor's reuse tables over that nest follow the reference
(``reuse``: irrelevant trips below the stop level; ``tiles``: relevant trips; ``bds``: irrelevant
trips since the last relevant loop).
"""

from __future__ import annotations

import attrs
import numpy as np

from stream_tetra.geometry import OutputIndex, StepGrid

NEVER = np.iinfo(np.int64).max // 4  # "no consumer step needs this box"


@attrs.frozen
class Loop:
    """One temporal loop of a node's steady-state iteration space."""

    dim: str
    size: int


@attrs.frozen
class ReuseLevel:
    """Stop level ``s`` of a tensor buffer: the buffer covers the temporal loops ``0..s``."""

    level: int
    block: int  # consumer steps served by one transfer (product of loop sizes 0..s)
    reuse: int
    tiles: int
    bds: int


def temporal_loops(grid: StepGrid) -> tuple[Loop, ...]:
    """Loops with more than one step, innermost first."""
    return tuple(Loop(grid.names[i], int(grid.steps[i])) for i in reversed(grid.nest.tolist()) if grid.steps[i] > 1)


def reuse_levels(loops: tuple[Loop, ...], relevant: frozenset[str]) -> tuple[ReuseLevel, ...]:
    """Reuse tables for stop levels ``-1 .. len(loops)-1`` (``-1``: one tile per step)."""
    out = [ReuseLevel(-1, 1, 1, 1, 1)]
    block = reuse = tiles = bds = 1
    for s, loop in enumerate(loops):
        block *= loop.size
        if loop.dim in relevant:
            tiles *= loop.size
            bds = 1
        else:
            reuse *= loop.size
            bds *= loop.size
        out.append(ReuseLevel(s, block, reuse, tiles, bds))
    return tuple(out)


def forward_iterations(n_steps: int, needs: list[np.ndarray]) -> np.ndarray:
    """``it[k] = max(it[k-1] + 1, needs[k])`` with ``it[0] >= 0``; ``needs`` arrays use -1 for none."""
    ar = np.arange(n_steps, dtype=np.int64)
    need = np.full(n_steps, -1, dtype=np.int64)
    for array in needs:
        need = np.maximum(need, array)
    shifted = need - ar
    shifted[0] = max(shifted[0], 0)
    return np.maximum.accumulate(shifted) + ar


def backward_iterations(forward: np.ndarray, latest: np.ndarray) -> np.ndarray:
    """Delay steps towards ``latest`` (just in time for their consumers), keeping the iterations
    strictly increasing and never earlier than ``forward``."""
    ar = np.arange(len(forward), dtype=np.int64)
    bound = np.where(latest >= NEVER, forward, np.maximum(latest, forward))
    out = np.minimum.accumulate((bound - ar)[::-1])[::-1] + ar
    return np.maximum(out, forward)


def range_max(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``max(values[lo[k] : hi[k] + 1])`` for every ``k`` (``-1`` where ``lo[k] < 0``)."""
    out = np.full(len(lo), -1, dtype=np.int64)
    has = lo >= 0
    if not has.any():
        return out
    if _monotone(values):
        out[has] = values[hi[has]]
        return out
    pairs, inverse = np.unique(np.stack([lo[has], hi[has]]), axis=1, return_inverse=True)
    maxima = np.array([values[a : b + 1].max() for a, b in pairs.T], dtype=np.int64)
    out[has] = maxima[inverse.reshape(-1)]
    return out


def _runs(mmin: np.ndarray, mmax: np.ndarray, keep_last: bool) -> np.ndarray:
    """Steps that start (or end) each run of consecutive steps needing the same boxes."""
    idx = np.flatnonzero(mmin >= 0)
    if len(idx) == 0:
        return idx
    a, b = mmin[idx], mmax[idx]
    change = np.ones(len(idx), dtype=bool)
    change[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1]) | (idx[1:] != idx[:-1] + 1)
    if keep_last:
        change = np.append(change[1:], True)
    return idx[change]


def _monotone(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] >= values[:-1]))


def first_use(n_boxes: int, mmin: np.ndarray, mmax: np.ndarray, iterations: np.ndarray) -> np.ndarray:
    """Earliest consumer iteration that reads each producer box (``NEVER``: never read)."""
    out = np.full(n_boxes, NEVER, dtype=np.int64)
    steps = _runs(mmin, mmax, keep_last=False)
    if len(steps) == 0:
        return out
    a, b = mmin[steps], mmax[steps]
    if _monotone(a) and _monotone(b):  # the first run reaching box m is the first to read it
        boxes = np.arange(n_boxes)
        j = np.searchsorted(b, boxes, side="left")
        ok = j < len(steps)
        j = np.minimum(j, len(steps) - 1)
        ok &= a[j] <= boxes
        return np.where(ok, iterations[steps[j]], NEVER)
    for k in steps[::-1]:  # iterations increase with k, so earlier writes win
        out[mmin[k] : mmax[k] + 1] = iterations[k]
    return out


@attrs.frozen(eq=False)
class Ring:
    """A ring of ``depth`` buffer slots. Item ``k + depth`` takes item ``k``'s slot: it is written in
    iteration ``writes[k]``, after item ``k``'s last read in iteration ``reads[k]``. ``distance`` is the
    least ``writes - reads`` (``None``: no slot is ever overwritten)."""

    depth: int
    distance: int | None
    writes: np.ndarray
    reads: np.ndarray


def ring_depth(delivered: np.ndarray, last_use: np.ndarray, double_buffer: bool) -> Ring:
    """The ring holding item ``f`` from its arrival in iteration ``delivered[f]`` to its last read in
    ``last_use[f]``: the fewest slots such that every item arrives in a later iteration than the last
    read of the item whose slot it takes. With ``double_buffer``, one more slot than the minimum is
    kept (when it is reused at all)."""
    n = len(delivered)
    if n <= 1:
        return Ring(max(n, 1), None, _NONE, _NONE)

    def gap(depth: int) -> int:
        return int(np.min(delivered[depth:] - last_use[: n - depth]))

    lo, hi = 1, n
    while lo < hi:
        mid = (lo + hi) // 2
        if gap(mid) >= 1:
            hi = mid
        else:
            lo = mid + 1
    depth = lo
    if double_buffer and depth < n:
        depth += 1
    if depth >= n:
        return Ring(depth, None, _NONE, _NONE)
    return Ring(depth, gap(depth), delivered[depth:], last_use[: n - depth])


_NONE = np.zeros(0, dtype=np.int64)


@attrs.define
class NodeState:
    """A node of the group: its grid, output index, steady-state loops and firing iterations."""

    name: str
    grid: StepGrid
    output: OutputIndex
    loops: tuple[Loop, ...]
    iterations: np.ndarray = attrs.field(factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_steps(self) -> int:
        return self.grid.n_steps

    def completion_iterations(self) -> np.ndarray:
        """Iteration in which each output box is complete, in box order."""
        boxes = np.arange(self.output.n_boxes, dtype=np.int64)
        return self.iterations[self.output.completion_step(boxes)]

    def output_ring(self, double_buffer: bool) -> Ring:
        """Output boxes held on the producer (accumulating or waiting to be sent) and the ring distance."""
        boxes = np.arange(self.output.n_boxes, dtype=np.int64)
        first = self.iterations[self.output.first_step(boxes)]
        done = self.iterations[self.output.completion_step(boxes)]
        return ring_depth(first, done, double_buffer)

    def ssis(self, relevant: frozenset[str]) -> str:
        """The loop nest as Stream prints it, e.g. ``T(OY,4,V) T(K,2,I)`` (V: indexes the tensor)."""
        return " ".join(f"T({loop.dim},{loop.size},{'V' if loop.dim in relevant else 'I'})" for loop in self.loops)


def last_use(n_boxes: int, mmin: np.ndarray, mmax: np.ndarray, iterations: np.ndarray) -> np.ndarray:
    """Latest consumer iteration that reads each producer box (``-1``: never read)."""
    out = np.full(n_boxes, -1, dtype=np.int64)
    steps = _runs(mmin, mmax, keep_last=True)
    if len(steps) == 0:
        return out
    a, b = mmin[steps], mmax[steps]
    if _monotone(a) and _monotone(b):  # the last run starting at or before box m is the last to read it
        boxes = np.arange(n_boxes)
        j = np.searchsorted(a, boxes, side="right") - 1
        ok = j >= 0
        j = np.maximum(j, 0)
        ok &= b[j] >= boxes
        return np.where(ok, iterations[steps[j]], -1)
    for k in steps:  # iterations increase with k, so later writes win
        out[mmin[k] : mmax[k] + 1] = iterations[k]
    return out
