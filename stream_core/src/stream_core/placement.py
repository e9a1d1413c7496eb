"""Which compute cores may run a node (public API): Stream's auto-mapping rule, shared by the
built-in ``whole-layer`` mapper and any plugin mapper that follows Stream.

The compute cores whose ``operator_types`` list the node's op; otherwise those without
``operator_types``; otherwise every compute core.
"""

from __future__ import annotations

from stream_core.ir.accelerator import Accelerator
from stream_core.ir.workload import Node


def candidate_cores(node: Node, accelerator: Accelerator) -> tuple[int, ...]:
    """The ids of the compute cores that may run ``node`` (see the module docstring)."""
    compute = accelerator.compute_cores
    listed = tuple(
        c.id for c in compute if c.summary.operator_types is not None and node.op_type in c.summary.operator_types
    )
    if listed:
        return listed
    unrestricted = tuple(c.id for c in compute if c.summary.operator_types is None)
    return unrestricted or tuple(c.id for c in compute)
