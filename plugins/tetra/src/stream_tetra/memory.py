"""The buffer memory a fused group needs per top memory, computed with the allocator's own buffer model.

Used by the ``fused`` mapper to check a tiling before handing it to the allocator: every node keeps
a ring of its output boxes, every consumer a ring of the producer boxes it reads (halo windows
included), every input from off-chip a ring of blocks at its cheapest stop level (see
:mod:`stream_tetra.steady`). Nodes with candidate cores are placed greedily (largest first, on the
candidate with the most free memory), as an allocation the MILP can at least match. Cores sharing a
memory (``core_memory_sharing``) count against it together, as in the MILP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from stream_core.ir.accelerator import Accelerator
from stream_core.ir.workload import Workload
from stream_core.tiling import NodeTiling
from stream_tetra.geometry import box_bits
from stream_tetra.iteration_space import last_use, reuse_levels, ring_depth
from stream_tetra.iterations import group_states
from stream_tetra.pieces import EdgePieces, InputPieces


@attrs.frozen
class Need:
    """``bits`` on the core of part ``part`` of ``node``; ``owner``'s tiling decides the size."""

    node: str
    part: int
    owner: str
    bits: int
    label: str


def buffer_needs(
    workload: Workload, tilings: Mapping[str, NodeTiling], order: Sequence[str], double_buffer: bool = True
) -> list[Need]:
    nodes, edges = group_states(workload, tilings, order)
    by_key = {(e.producer, e.consumer, e.read): e for e in edges}
    needs: list[Need] = []
    for name in order:
        state = nodes[name]
        node = workload.node(name)
        depth = state.output_ring(double_buffer).depth
        tensor = workload.tensor(node.output.tensor)
        boxes = np.arange(state.output.n_boxes, dtype=np.int64)
        for part in range(state.grid.n_parts):
            lo, hi = state.output.box_ranges(part, boxes)
            bits = int(box_bits(state.grid.operand_boxes(node.output, tensor, lo, hi), node.output.precision).max())
            needs.append(Need(name, part, name, depth * bits, f"output of {name}"))
        for read, operand in enumerate(node.reads):
            tensor = workload.tensor(operand.tensor)
            producer = workload.producer(operand.tensor)
            edge = by_key.get((producer.name, name, read)) if producer is not None else None
            if edge is not None:
                pstate = nodes[edge.producer]
                uses = last_use(pstate.output.n_boxes, edge.mmin, edge.mmax, state.iterations)
                needed = np.flatnonzero(uses >= 0)
                pieces = EdgePieces(pstate, state, operand, tensor, needed)
                depth = ring_depth(pieces.firings(), uses[needed], double_buffer).depth
                # a deep ring means the consumer's tile spans several producer boxes: tile the consumer
                owner = edge.producer if depth <= 1 + double_buffer else name
                for part in range(state.grid.n_parts):
                    bits = int(pieces.received(None, part).max()) if len(needed) else 0
                    needs.append(Need(name, part, owner, depth * bits, f"{operand.tensor} into {name}"))
                continue
            rel = frozenset(operand.dims) if operand.access is not None else frozenset(node.loop_names)
            levels = reuse_levels(state.loops, rel)
            inputs = InputPieces(state, operand, tensor, levels)
            for part in range(state.grid.n_parts):
                cheapest = inputs.least_buffer(part, double_buffer)
                needs.append(Need(name, part, name, cheapest, f"{operand.tensor} into {name}"))
    return needs


def memory_demand(
    needs: Sequence[Need], tilings: Mapping[str, NodeTiling], accelerator: Accelerator
) -> dict[int, list[Need]]:
    """The needs per memory, keyed by the core owning it (cores sharing one add up; off-chip cores
    left out); candidate nodes placed greedily on the candidate whose memory has the most room."""
    memory_of = accelerator.memory_of
    placed: dict[int, list[Need]] = {}
    used: dict[int, int] = {}
    bundles: dict[str, list[Need]] = {}
    for need in needs:
        tiling = tilings[need.node]
        if tiling.parts > 1 or len(tiling.mapping.cores) == 1:
            memory = memory_of(tiling.mapping.cores[need.part])
            placed.setdefault(memory, []).append(need)
            used[memory] = used.get(memory, 0) + need.bits
        else:
            bundles.setdefault(need.node, []).append(need)
    capacity = {c.id: c.summary.memory_bits for c in accelerator.cores.values()}
    for node, items in sorted(bundles.items(), key=lambda kv: (-sum(n.bits for n in kv[1]), kv[0])):
        memories = [memory_of(c) for c in tilings[node].mapping.cores]
        memory = max(memories, key=lambda m: (capacity[m] - used.get(m, 0), -m))
        placed.setdefault(memory, []).extend(items)
        used[memory] = used.get(memory, 0) + sum(n.bits for n in items)
    return {m: items for m, items in sorted(placed.items()) if accelerator.cores[m].kind != "offchip"}
