"""Vectorised tile geometry: step coordinates, tile ranges, operand boxes and producer box indices.

A node's tiles (``stream_core.tiling.NodeTiling``) are numbered step-major: tile ``k * parts + p``
is temporal step ``k`` of inter-core part ``p``; steps enumerate the node's loop nest
(``NodeTiling.nest``, outermost first), while arrays are indexed by loop position (the node's loop
order). Everything here works on numpy arrays over many steps at once, so the cost grows with the
number of loops, not with Python loops over tiles.

Boxes are half-open index ranges per tensor axis, as arrays of shape ``(axes, n)``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from stream_core.ir.workload import Node, Operand, TensorSpec
from stream_core.tiling import NodeTiling, interleaved

Boxes = tuple[np.ndarray, np.ndarray]  # (lo, hi), each of shape (axes, n)


class StepGrid:
    """The steps and parts of one tiled node, as arrays indexed by loop position."""

    def __init__(self, tiling: NodeTiling):
        node = tiling.node
        self.tiling = tiling
        self.node: Node = node
        self.names: tuple[str, ...] = node.loop_names
        self.position = {d: i for i, d in enumerate(self.names)}
        split, part_sizes, tile, steps = tiling.split, tiling.part_sizes, tiling.tile, tiling.steps
        self.sizes = np.array([node.sizes[d] for d in self.names], dtype=np.int64)
        self.split = np.array([split[d] for d in self.names], dtype=np.int64)
        self.part_size = np.array([part_sizes[d] for d in self.names], dtype=np.int64)
        self.tile = np.array([tile[d] for d in self.names], dtype=np.int64)
        self.steps = np.array([steps[d] for d in self.names], dtype=np.int64)
        self.n_steps = int(math.prod(int(s) for s in self.steps))
        self.n_parts = int(math.prod(int(s) for s in self.split))
        self.nest = np.array([self.position[d] for d in tiling.nest], dtype=np.int64)  # positions, outermost first
        self.strides = np.zeros(len(self.names), dtype=np.int64)
        self.strides[self.nest] = _strides(self.steps[self.nest])
        blocks = dict(tiling.mapping.interleave)
        self.blocks = np.array([blocks.get(d, 1) for d in self.names], dtype=np.int64)  # interleaved blocks
        self.part_coords = np.array(
            list(itertools.product(*(range(int(s)) for s in self.split))), dtype=np.int64
        ).reshape(self.n_parts, len(self.names))

    # -- steps ---------------------------------------------------------------------------------
    def visits(self, steps: np.ndarray) -> np.ndarray:
        """How many times each loop has stepped before each step, shape ``(loops, n)``."""
        if not len(self.names):
            return np.zeros((0, len(steps)), dtype=np.int64)
        nested = np.unravel_index(np.asarray(steps, dtype=np.int64), tuple(int(s) for s in self.steps[self.nest]))
        visits = np.empty((len(self.names), len(nested[0])), dtype=np.int64)
        visits[self.nest] = nested
        return visits

    def coords(self, steps: np.ndarray) -> np.ndarray:
        """The tile each step covers along each loop, shape ``(loops, n)`` (an interleaved loop visits
        its tiles out of order)."""
        return interleaved(self.visits(steps), self.steps[:, None], self.blocks[:, None])

    def step_of_visits(self, visits: np.ndarray) -> np.ndarray:
        return (visits * self.strides[:, None]).sum(axis=0)

    def step_index(self, coords: np.ndarray) -> np.ndarray:
        """The step covering the given tile coordinates (the inverse of :meth:`coords`)."""
        blocks = self.blocks[:, None]
        per_block = (self.steps // self.blocks)[:, None]
        return self.step_of_visits((coords % per_block) * blocks + coords // per_block)

    def all_steps(self) -> np.ndarray:
        return np.arange(self.n_steps, dtype=np.int64)

    # -- ranges --------------------------------------------------------------------------------
    def ranges(self, part: int, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Loop ranges ``[lo, hi)`` of part ``part`` at the given steps, each of shape ``(loops, n)``."""
        base = (self.part_coords[part] * self.part_size)[:, None]
        lo = base + self.coords(steps) * self.tile[:, None]
        hi = np.minimum(lo + self.tile[:, None], base + self.part_size[:, None])
        return lo, hi

    def part_ranges(self, part: int) -> tuple[np.ndarray, np.ndarray]:
        """Loop ranges of the whole part (all its steps), shape ``(loops, 1)``."""
        base = (self.part_coords[part] * self.part_size)[:, None]
        return base, base + self.part_size[:, None]

    def operand_boxes(self, operand: Operand, tensor: TensorSpec, lo: np.ndarray, hi: np.ndarray) -> Boxes:
        """Index boxes of ``tensor`` that ``operand`` touches for loop ranges ``[lo, hi)`` (clipped)."""
        n = lo.shape[1]
        shape = np.array(tensor.shape, dtype=np.int64)[:, None]
        if operand.access is None:
            return np.zeros((len(tensor.shape), n), dtype=np.int64), np.repeat(shape, n, axis=1)
        blo = np.empty((len(operand.access), n), dtype=np.int64)
        bhi = np.empty_like(blo)
        for axis, expr in enumerate(operand.access):
            a = np.full(n, expr.offset, dtype=np.int64)
            b = np.full(n, expr.offset, dtype=np.int64)
            for dim, coeff in expr.terms:
                i = self.position[dim]
                if coeff >= 0:
                    a += coeff * lo[i]
                    b += coeff * (hi[i] - 1)
                else:
                    a += coeff * (hi[i] - 1)
                    b += coeff * lo[i]
            blo[axis] = np.maximum(a, 0)
            bhi[axis] = np.minimum(b + 1, shape[axis])
        return blo, bhi


def _strides(steps: np.ndarray) -> np.ndarray:
    strides = np.ones(len(steps), dtype=np.int64)
    for i in range(len(steps) - 2, -1, -1):
        strides[i] = strides[i + 1] * steps[i + 1]
    return strides


def box_bits(boxes: Boxes, precision: int) -> np.ndarray:
    lo, hi = boxes
    if lo.shape[0] == 0:
        return np.full(lo.shape[1], precision, dtype=np.int64)
    return np.prod(np.clip(hi - lo, 0, None), axis=0) * precision


def intersect(a: Boxes, b: Boxes) -> Boxes:
    return np.maximum(a[0], b[0]), np.minimum(a[1], b[1])


def hull(boxes: list[Boxes]) -> Boxes:
    """Smallest box holding every box of the list (element-wise over the ``n`` columns)."""
    lo = np.minimum.reduce([b[0] for b in boxes])
    hi = np.maximum.reduce([b[1] for b in boxes])
    return lo, hi


def block_hull(boxes: Boxes, block: int) -> Boxes:
    """Hull of every ``block`` consecutive columns (the last block may be shorter)."""
    lo, hi = boxes
    n = lo.shape[1]
    starts = np.arange(0, n, block)
    return np.minimum.reduceat(lo, starts, axis=1), np.maximum.reduceat(hi, starts, axis=1)


class OutputIndex:
    """How a producer's output boxes are numbered, and which of them a consumer box needs.

    When every axis of the output access is ``coeff * loop + offset`` (``coeff > 0``), the distinct
    output boxes are indexed by the visits of those *output loops* (mixed radix, in the node's nest,
    so boxes are numbered in the order the steps reach them); the other loops are reductions (a box
    is complete after their last step).
    Otherwise the whole output is one box, complete after the producer's last step.
    """

    def __init__(self, grid: StepGrid):
        self.grid = grid
        node = grid.node
        axes: list[tuple[int, int, int] | None] = []
        exact = node.output.access is not None
        for expr in node.output.access or ():
            terms = [(d, c) for d, c in expr.terms if c != 0]
            if not terms:
                axes.append(None)
            elif len(terms) == 1 and terms[0][1] > 0:
                axes.append((grid.position[terms[0][0]], terms[0][1], expr.offset))
            else:
                exact = False
        dims = sorted({a[0] for a in axes if a is not None}) if exact else []
        if len({a[0] for a in axes if a is not None}) != sum(1 for a in axes if a is not None):
            exact, dims = False, []
        self.axes = axes if exact else []
        nested = [int(d) for d in grid.nest]
        self.out_dims = sorted((d for d in dims if grid.steps[d] > 1), key=nested.index)
        out_steps = np.array([grid.steps[d] for d in self.out_dims], dtype=np.int64)
        self.box_strides = _strides(out_steps) if len(out_steps) else np.zeros(0, dtype=np.int64)
        self.n_boxes = int(math.prod(int(s) for s in out_steps))

    def box_of_step(self, steps: np.ndarray) -> np.ndarray:
        if not self.out_dims:
            return np.zeros(len(steps), dtype=np.int64)
        visits = self.grid.visits(steps)[self.out_dims]
        return (visits * self.box_strides[:, None]).sum(axis=0)

    def _box_visits(self, boxes: np.ndarray, reduction: str) -> np.ndarray:
        grid = self.grid
        visits = np.zeros((len(grid.names), len(boxes)), dtype=np.int64)
        if reduction == "last":
            visits += (grid.steps - 1)[:, None]
        if self.out_dims:
            out_steps = tuple(int(grid.steps[d]) for d in self.out_dims)
            visits[self.out_dims] = np.array(np.unravel_index(boxes, out_steps))
        return visits

    def completion_step(self, boxes: np.ndarray) -> np.ndarray:
        """The step after which each box is complete (its reduction loops at their last step)."""
        return self.grid.step_of_visits(self._box_visits(np.asarray(boxes, dtype=np.int64), "last"))

    def first_step(self, boxes: np.ndarray) -> np.ndarray:
        """The first step that writes each box."""
        return self.grid.step_of_visits(self._box_visits(np.asarray(boxes, dtype=np.int64), "first"))

    def needed_boxes(self, boxes: Boxes) -> tuple[np.ndarray, np.ndarray]:
        """For tensor boxes (one per column), the smallest and largest box index they overlap
        (``-1`` for an empty box). Every box between the two is treated as needed."""
        lo, hi = boxes
        n = lo.shape[1]
        empty = np.any(hi <= lo, axis=0) if lo.shape[0] else np.zeros(n, dtype=bool)
        grid = self.grid
        cmin = np.zeros((len(self.out_dims), n), dtype=np.int64)
        cmax = np.zeros_like(cmin)
        by_dim = {a[0]: (axis, a[1], a[2]) for axis, a in enumerate(self.axes) if a is not None}
        for row, d in enumerate(self.out_dims):
            axis, coeff, offset = by_dim[d]
            vlo = np.clip(-((offset - lo[axis]) // coeff), 0, grid.sizes[d] - 1)
            vhi = np.clip((hi[axis] - 1 - offset) // coeff, 0, grid.sizes[d] - 1)
            empty |= vlo > vhi
            ps, tile, steps = grid.part_size[d], grid.tile[d], grid.steps[d]
            same_part = (vlo // ps) == (vhi // ps)
            first = np.where(same_part, (vlo % ps) // tile, 0)
            last = np.where(same_part, (vhi % ps) // tile, steps - 1)
            cmin[row], cmax[row] = _visit_range(first, last, int(steps), int(grid.blocks[d]))
        mmin = (cmin * self.box_strides[:, None]).sum(axis=0)
        mmax = (cmax * self.box_strides[:, None]).sum(axis=0)
        return np.where(empty, -1, mmin), np.where(empty, -1, mmax)

    def box_ranges(self, part: int, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Loop ranges covering output box ``m`` of part ``part`` (reduction loops whole)."""
        grid = self.grid
        steps = self.completion_step(boxes)
        lo, hi = grid.ranges(part, steps)
        base_lo, base_hi = grid.part_ranges(part)
        for d in range(len(grid.names)):
            if d not in self.out_dims:
                lo[d] = base_lo[d]
                hi[d] = base_hi[d]
        return lo, hi


def _visit_range(first: np.ndarray, last: np.ndarray, steps: int, blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """The first and last visit of the tiles ``first..last`` of a loop whose ``steps`` tiles are visited
    in ``blocks`` interleaved blocks (a range crossing blocks reaches a later block's first tile early
    and an earlier block's last tile late)."""
    per_block = steps // blocks
    lo = (first % per_block) * blocks + first // per_block
    hi = (last % per_block) * blocks + last // per_block
    crossing = first // per_block != last // per_block
    lo = np.where(crossing, np.minimum(lo, first // per_block + 1), lo)
    hi = np.where(crossing, np.maximum(hi, (per_block - 1) * blocks + last // per_block - 1), hi)
    return lo, hi
