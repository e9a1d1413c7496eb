"""The firing iterations of every node of a fused group (forward pass, then just in time)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from stream_core.ir.workload import Operand, Workload
from stream_core.tiling import NodeTiling
from stream_tetra.geometry import OutputIndex, StepGrid
from stream_tetra.iteration_space import (
    NodeState,
    backward_iterations,
    first_use,
    forward_iterations,
    range_max,
    temporal_loops,
)


@attrs.frozen(eq=False)
class Edge:
    """Consumer ``consumer`` reads producer ``producer``'s output through its ``read``-th read
    operand; step ``k`` of the consumer needs the producer's boxes ``mmin[k]..mmax[k]`` (-1: none)."""

    producer: str
    consumer: str
    read: int
    operand: Operand
    mmin: np.ndarray
    mmax: np.ndarray


def group_states(
    workload: Workload, tilings: Mapping[str, NodeTiling], order: Sequence[str]
) -> tuple[dict[str, NodeState], list[Edge]]:
    """Node states with firing iterations, and the producer-consumer edges inside the group."""
    nodes: dict[str, NodeState] = {}
    edges: list[Edge] = []
    for name in order:
        grid = StepGrid(tilings[name])
        state = NodeState(name, grid, OutputIndex(grid), temporal_loops(grid))
        needs = []
        for read, operand in enumerate(workload.node(name).reads):
            producer = workload.producer(operand.tensor)
            if producer is None or producer.name not in nodes:
                continue
            pstate = nodes[producer.name]
            tensor = workload.tensor(operand.tensor)
            mmin = np.full(grid.n_steps, -1, dtype=np.int64)
            mmax = np.full(grid.n_steps, -1, dtype=np.int64)
            for part in range(grid.n_parts):
                lo, hi = grid.ranges(part, grid.all_steps())
                a, b = pstate.output.needed_boxes(grid.operand_boxes(operand, tensor, lo, hi))
                mmin = np.where(mmin < 0, a, np.where(a < 0, mmin, np.minimum(mmin, a)))
                mmax = np.maximum(mmax, b)
            needs.append(range_max(pstate.completion_iterations(), mmin, mmax))
            edges.append(Edge(producer.name, name, read, operand, mmin, mmax))
        state.iterations = forward_iterations(grid.n_steps, needs)
        nodes[name] = state
    for name in reversed(order):  # just in time: run producers no earlier than needed
        state = nodes[name]
        uses = [
            first_use(state.output.n_boxes, e.mmin, e.mmax, nodes[e.consumer].iterations)
            for e in edges
            if e.producer == name
        ]
        if uses:
            boxes = state.output.box_of_step(state.grid.all_steps())
            state.iterations = backward_iterations(state.iterations, np.minimum.reduce(uses)[boxes])
    return nodes, edges
