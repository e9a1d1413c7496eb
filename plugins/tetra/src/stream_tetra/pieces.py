"""What each transfer of a fused group moves, per firing: bits per (source part, destination part).

Three kinds of transfers (one per tensor edge):

* ``input``: a tensor from off-chip memory (graph input, constant, or output of an earlier group)
  to a consumer node. It fires once per *block* of the consumer's steps: with stop level ``s`` a
  block is the steps of the loops ``0..s`` (innermost first), and the transfer moves the hull of
  the block's operand boxes, which then serves the whole block (reuse).
* ``edge``: a producer's output box, when complete, to every consumer part that reads any of it
  (only the overlap with that part's input region is sent).
* ``output``: a producer's complete output boxes back to off-chip memory.

A bus reaches all its cores at once, so several destinations on one bus can share one multicast
record carrying the hull of what they need (used when that moves fewer bits than separate ones).

With ``whole=True`` (setting ``tetra.transfers=stream``) transfers move what Stream's transfer nodes
move: a producer part's whole output box to every part that reads any of it, and an input's whole
block (the hull over all destination parts) to each destination.
"""

from __future__ import annotations

import attrs
import numpy as np

from stream_core.ir.workload import Operand, TensorSpec
from stream_tetra.geometry import Boxes, StepGrid, block_hull, box_bits, hull, intersect
from stream_tetra.iteration_space import NodeState, ReuseLevel, ring_depth


def _stop(level: ReuseLevel | None) -> ReuseLevel:
    """The stop level an input transfer fires per (``level`` is ``None`` only for edge and output transfers,
    which take it so that every kind of :data:`Pieces` is called alike)."""
    if level is None:
        raise ValueError("an input transfer needs a stop level")
    return level


@attrs.define
class InputPieces:
    """Blocks of a consumer operand read from off-chip memory, per stop level."""

    consumer: NodeState
    operand: Operand
    tensor: TensorSpec
    levels: tuple[ReuseLevel, ...]
    whole: bool = False
    _steps: dict[int, Boxes] = attrs.field(factory=dict)
    _cache: dict[tuple, Boxes] = attrs.field(factory=dict)

    @property
    def src_parts(self) -> int:
        return 1

    @property
    def dst_parts(self) -> int:
        return self.consumer.grid.n_parts

    def step_boxes(self, part: int) -> Boxes:
        """The operand box of every step of part ``part``."""
        if part not in self._steps:
            grid = self.consumer.grid
            lo, hi = grid.ranges(part, grid.all_steps())
            self._steps[part] = grid.operand_boxes(self.operand, self.tensor, lo, hi)
        return self._steps[part]

    def boxes(self, level: ReuseLevel, part: int) -> Boxes:
        key = (level.level, part)
        if key not in self._cache:
            self._cache[key] = block_hull(self.step_boxes(part), level.block)
        return self._cache[key]

    def firings(self, level: ReuseLevel | None = None) -> np.ndarray:
        return self.consumer.iterations[:: _stop(level).block]

    def last_uses(self, level: ReuseLevel) -> np.ndarray:
        it = self.consumer.iterations
        ends = np.minimum(np.arange(level.block, len(it) + level.block, level.block), len(it)) - 1
        return it[ends]

    def piece(self, level: ReuseLevel | None, src: int, dst: int) -> np.ndarray:
        if self.whole:
            return self.multicast(level, src, tuple(range(self.dst_parts)))
        return box_bits(self.boxes(_stop(level), dst), self.operand.precision)

    def multicast(self, level: ReuseLevel | None, src: int, dsts: tuple[int, ...]) -> np.ndarray:
        parts = range(self.dst_parts) if self.whole else dsts
        stop = _stop(level)
        return box_bits(hull([self.boxes(stop, d) for d in parts]), self.operand.precision)

    def received(self, level: ReuseLevel | None, dst: int) -> np.ndarray:
        return self.piece(level, 0, dst)

    def least_buffer(self, part: int, double_buffer: bool) -> int:
        """Bits of the smallest ring of blocks part ``part`` may keep (over the stop levels)."""
        return min(
            ring_depth(self.firings(level), self.last_uses(level), double_buffer).depth
            * int(self.received(level, part).max())
            for level in self.levels
        )


@attrs.define
class SharedPieces:
    """An input delivery read once at the source for its own readers' parts and, as well, for the
    parts of readers on other cores: destination parts ``0..n-1`` are the delivery's, then one per
    part of the other readers, receiving per block only the box their steps read of it (inside the
    hull of the delivery's parts, so one read of that hull serves everyone)."""

    delivery: InputPieces
    kept: dict[int, list[Boxes]]  # per stop level, per part of the other readers: the box kept of each block

    @property
    def src_parts(self) -> int:
        return 1

    @property
    def dst_parts(self) -> int:
        return self.delivery.dst_parts + len(next(iter(self.kept.values())))

    def firings(self, level: ReuseLevel | None = None) -> np.ndarray:
        return self.delivery.firings(level)

    def _box(self, level: ReuseLevel, dst: int) -> Boxes:
        own = self.delivery.dst_parts
        return self.delivery.boxes(level, dst) if dst < own else self.kept[level.level][dst - own]

    def piece(self, level: ReuseLevel | None, src: int, dst: int) -> np.ndarray:
        if dst < self.delivery.dst_parts:
            return self.delivery.piece(level, src, dst)
        return box_bits(self._box(_stop(level), dst), self.delivery.operand.precision)

    def multicast(self, level: ReuseLevel | None, src: int, dsts: tuple[int, ...]) -> np.ndarray:
        own = self.delivery.dst_parts
        if self.delivery.whole and any(d < own for d in dsts):
            dsts = tuple(sorted({*range(own), *dsts}))
        stop = _stop(level)
        return box_bits(hull([self._box(stop, d) for d in dsts]), self.delivery.operand.precision)

    def received(self, level: ReuseLevel | None, dst: int) -> np.ndarray:
        return self.piece(level, 0, dst)


@attrs.define
class EdgePieces:
    """A producer's output boxes sent to a consumer's parts (only the overlap each part reads)."""

    producer: NodeState
    consumer: NodeState
    operand: Operand  # the consumer's read operand
    tensor: TensorSpec
    boxes_needed: np.ndarray  # producer box indices some consumer part reads, in order
    whole: bool = False
    _out: dict[int, Boxes] = attrs.field(factory=dict)
    _regions: dict[int, Boxes] = attrs.field(factory=dict)

    @property
    def src_parts(self) -> int:
        return self.producer.grid.n_parts

    @property
    def dst_parts(self) -> int:
        return self.consumer.grid.n_parts

    def out_boxes(self, part: int) -> Boxes:
        if part not in self._out:
            lo, hi = self.producer.output.box_ranges(part, self.boxes_needed)
            self._out[part] = self.producer.grid.operand_boxes(self.producer.grid.node.output, self.tensor, lo, hi)
        return self._out[part]

    def region(self, part: int) -> Boxes:
        """The whole input region of consumer part ``part`` (one column)."""
        if part not in self._regions:
            grid = self.consumer.grid
            lo, hi = grid.part_ranges(part)
            self._regions[part] = grid.operand_boxes(self.operand, self.tensor, lo, hi)
        return self._regions[part]

    def firings(self, level: ReuseLevel | None = None) -> np.ndarray:
        return self.producer.iterations[self.producer.output.completion_step(self.boxes_needed)]

    def piece(self, level: ReuseLevel | None, src: int, dst: int) -> np.ndarray:
        bits = box_bits(intersect(self.out_boxes(src), self.region(dst)), self.operand.precision)
        if self.whole:
            return np.where(bits > 0, box_bits(self.out_boxes(src), self.operand.precision), 0)
        return bits

    def multicast(self, level: ReuseLevel | None, src: int, dsts: tuple[int, ...]) -> np.ndarray:
        if self.whole:
            return box_bits(self.out_boxes(src), self.operand.precision)
        region = hull([self.region(d) for d in dsts])
        return box_bits(intersect(self.out_boxes(src), region), self.operand.precision)

    def received(self, level: ReuseLevel | None, dst: int) -> np.ndarray:
        return np.sum([self.piece(level, s, dst) for s in range(self.src_parts)], axis=0)


@attrs.define
class OutputPieces:
    """A producer's complete output boxes written back to off-chip memory."""

    producer: NodeState
    tensor: TensorSpec
    _out: dict[int, np.ndarray] = attrs.field(factory=dict)

    @property
    def src_parts(self) -> int:
        return self.producer.grid.n_parts

    @property
    def dst_parts(self) -> int:
        return 1

    def boxes(self) -> np.ndarray:
        return np.arange(self.producer.output.n_boxes, dtype=np.int64)

    def firings(self, level: ReuseLevel | None = None) -> np.ndarray:
        return self.producer.completion_iterations()

    def piece(self, level: ReuseLevel | None, src: int, dst: int) -> np.ndarray:
        if src not in self._out:
            grid: StepGrid = self.producer.grid
            lo, hi = self.producer.output.box_ranges(src, self.boxes())
            output = grid.node.output
            self._out[src] = box_bits(grid.operand_boxes(output, self.tensor, lo, hi), output.precision)
        return self._out[src]

    def multicast(self, level: ReuseLevel | None, src: int, dsts: tuple[int, ...]) -> np.ndarray:
        return self.piece(level, src, dsts[0])

    def received(self, level: ReuseLevel | None, dst: int) -> np.ndarray:
        return np.sum([self.piece(level, s, dst) for s in range(self.src_parts)], axis=0)


Pieces = InputPieces | SharedPieces | EdgePieces | OutputPieces
