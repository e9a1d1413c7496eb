"""Which compute cores may run a node (public API): Stream's auto-mapping rule, shared by the
built-in ``whole-layer`` mapper and any plugin mapper that follows Stream.

The compute cores whose ``operator_types`` list the node's op; otherwise those without
``operator_types``. When every compute core lists its operator types and none lists the op, a compute
node cannot be placed (an input error, as Stream refuses it), while a node that only moves data (a
layout op such as ``Reshape``) may go to any compute core.
"""

from __future__ import annotations

from stream_core.errors import InputError, Problem
from stream_core.ir.accelerator import Accelerator
from stream_core.ir.workload import Node, NodeKind


def candidate_cores(node: Node, accelerator: Accelerator) -> tuple[int, ...]:
    """The ids of the compute cores that may run ``node`` (see the module docstring)."""
    compute = accelerator.compute_cores
    listed = tuple(
        c.id for c in compute if c.summary.operator_types is not None and node.op_type in c.summary.operator_types
    )
    if listed:
        return listed
    unrestricted = tuple(c.id for c in compute if c.summary.operator_types is None)
    if unrestricted or node.kind is not NodeKind.COMPUTE:
        return unrestricted or tuple(c.id for c in compute)
    runs = "; ".join(f"core {c.id} ({c.name}): {', '.join(c.summary.operator_types or ())}" for c in compute)
    raise InputError(
        Problem(
            f"no compute core may run node {node.name!r}, a {node.op_type}: every core lists the operator "
            f"types it runs and none lists {node.op_type} ({runs}); add it to a core's operator_types",
            file=accelerator.source,
            field="operator_types",
        )
    )
