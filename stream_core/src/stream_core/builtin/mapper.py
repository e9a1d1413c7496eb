"""The built-in ``whole-layer`` mapper: the baseline mapping when the user gives no mapping file.

All nodes form one group, so the scheduler may run independent nodes in parallel, and every node
is one tile unless it does not fit: when a layer's operands exceed half the memory of its smallest
candidate core (half, so the next tile's inputs can arrive while one runs), the loop whose halving
shrinks the tile's footprint most is halved, repeatedly, until the tile fits (protected loops are
never tiled). Candidate cores follow Stream's auto-mapping rule
(:func:`stream_core.placement.candidate_cores`). Data-movement nodes run on the off-chip core.

:func:`stream_cut_points` and :data:`FUSION_EDGE_OPS` are Stream's rule for where fusion groups end
(``determine_fusion_cut_points`` and the fusion-edge ops of Stream 1.13.14 and 2.1.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping as MappingABC

from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir.accelerator import Accelerator
from stream_core.ir.mapping import FusedGroup, Mapping, NodeMapping
from stream_core.ir.workload import Node, NodeKind, Workload
from stream_core.placement import candidate_cores

#: Layout-only ops that Stream parses as fusion edges: each is a fusion-group boundary of its own.
FUSION_EDGE_OPS = frozenset({"Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze"})


def stream_cut_points(workload: Workload) -> set[str]:
    """Nodes after which Stream ends a fusion group: every ``MaxPool`` (the end of the front end) and
    the ``Relu`` that is the only compute successor of an ``Add`` (the end of a residual block)."""
    cuts = set()
    for node in workload.nodes:
        if node.op_type == "MaxPool":
            cuts.add(node.name)
        elif node.op_type == "Add":
            after = [s for s in workload.successors(node.name) if s.op_type not in FUSION_EDGE_OPS]
            if len(after) == 1 and after[0].op_type == "Relu":
                cuts.add(after[0].name)
    return cuts


def tile_footprint_bits(node: Node, sizes: dict[str, int]) -> int:
    """Bits of all operands of one tile with the given loop sizes."""
    tile = node.with_sizes(sizes)
    return sum(tile.footprint_bits(op) for op in tile.operands)


def fit_tiles(
    node: Node,
    budget_bits: int,
    start: MappingABC[str, int] | None = None,
    loops: Iterable[str] | None = None,
) -> dict[str, int]:
    """Tile sizes (only for the loops that are tiled) that bring the tile's footprint within
    ``budget_bits``, halving from ``start`` (default: the whole node) only ``loops`` (default: all but
    the protected ones); as close as halving can get when nothing fits."""
    sizes = dict(start or node.sizes)
    reduction = set(node.reduction_dims)
    allowed = set(node.loop_names if loops is None else loops) - set(node.protected_loops)
    tileable = [d for d in node.loop_names if d in allowed]
    footprint = tile_footprint_bits(node, sizes)
    while footprint > budget_bits:
        options = []
        for position, loop in enumerate(tileable):
            if sizes[loop] > 1:
                trial = {**sizes, loop: -(-sizes[loop] // 2)}
                options.append((tile_footprint_bits(node, trial), loop in reduction, position, loop))
        if not options:
            break
        footprint, _, _, loop = min(options)
        sizes[loop] = -(-sizes[loop] // 2)
    return {d: s for d, s in sizes.items() if s < node.sizes[d]}


class WholeLayerMapper:
    def map(self, workload: Workload, accelerator: Accelerator, context: RunContext) -> Mapping:
        nodes: dict[str, NodeMapping] = {}
        tiles: list[tuple[str, str, int]] = []
        for node in workload.nodes:
            if node.kind is NodeKind.DATA_MOVEMENT and accelerator.offchip_core_id is not None:
                nodes[node.name] = NodeMapping(node.name, (accelerator.offchip_core_id,))
                continue
            cores = candidate_cores(node, accelerator)
            if not cores:
                raise InputError(
                    Problem(f"accelerator {accelerator.name!r} has no compute core", file=accelerator.source)
                )
            nodes[node.name] = NodeMapping(node.name, cores)
            budget = min(accelerator.cores[c].summary.memory_bits for c in cores) // 2
            tiles += [(node.name, loop, size) for loop, size in fit_tiles(node, budget).items()]
        group = FusedGroup("group_0", tuple(n.name for n in workload.nodes), tiles)
        return Mapping(nodes, (group,), source="whole-layer mapper")
