"""The built-in ``whole-layer`` mapper: the baseline mapping when the user gives no mapping file.

Every node is one tile (no inter-core split, no intra-core tiling) and all nodes form one group, so
the scheduler may run independent nodes in parallel. Candidate cores follow Stream's auto-mapping
rule: the compute cores whose ``operator_types`` list the op; otherwise those without
``operator_types``; otherwise every compute core. Data-movement nodes run on the off-chip core.
"""

from __future__ import annotations

from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir.accelerator import Accelerator
from stream_core.ir.mapping import FusedGroup, Mapping, NodeMapping
from stream_core.ir.workload import Node, NodeKind, Workload


def candidate_cores(node: Node, accelerator: Accelerator) -> tuple[int, ...]:
    """Stream's core-choice rule (see the module docstring)."""
    compute = accelerator.compute_cores
    listed = tuple(
        c.id for c in compute if c.summary.operator_types is not None and node.op_type in c.summary.operator_types
    )
    if listed:
        return listed
    unrestricted = tuple(c.id for c in compute if c.summary.operator_types is None)
    return unrestricted or tuple(c.id for c in compute)


class WholeLayerMapper:
    def map(self, workload: Workload, accelerator: Accelerator, context: RunContext) -> Mapping:
        nodes: dict[str, NodeMapping] = {}
        for node in workload.nodes:
            if node.kind is NodeKind.DATA_MOVEMENT and accelerator.offchip_core_id is not None:
                cores: tuple[int, ...] = (accelerator.offchip_core_id,)
            else:
                cores = candidate_cores(node, accelerator)
            if not cores:
                raise InputError(
                    Problem(f"accelerator {accelerator.name!r} has no compute core", file=accelerator.source)
                )
            nodes[node.name] = NodeMapping(node.name, cores)
        group = FusedGroup("group_0", tuple(n.name for n in workload.nodes))
        return Mapping(nodes, (group,), source="whole-layer mapper")
