"""The typed intermediate representation shared by the core and every plugin."""

from stream_core.ir.accelerator import (
    CORE_KINDS,
    Accelerator,
    Core,
    CoreDescription,
    CoreSummary,
    Link,
    link_directions,
)
from stream_core.ir.cost import CostRequest, CostResult
from stream_core.ir.mapping import FusedGroup, Kernel, Mapping, NodeMapping

# Last: the allocation problem refers to the tiling module, which imports the modules above.
from stream_core.ir.problem import AllocationProblem, CostTable
from stream_core.ir.result import GroupBound, GroupRecord, LowerBound, Result, TileRecord, Totals, TransferRecord
from stream_core.ir.workload import (
    CORE_ELEMENT_BITS,
    DTYPE_BITS,
    AffineExpr,
    LoopDim,
    Node,
    NodeKind,
    Operand,
    OperandRole,
    TensorSpec,
    Workload,
)

__all__ = [
    "CORE_ELEMENT_BITS",
    "CORE_KINDS",
    "DTYPE_BITS",
    "Accelerator",
    "AffineExpr",
    "AllocationProblem",
    "Core",
    "CoreDescription",
    "CoreSummary",
    "CostRequest",
    "CostResult",
    "CostTable",
    "FusedGroup",
    "GroupBound",
    "GroupRecord",
    "Kernel",
    "Link",
    "LoopDim",
    "LowerBound",
    "Mapping",
    "Node",
    "NodeKind",
    "NodeMapping",
    "Operand",
    "OperandRole",
    "Result",
    "TensorSpec",
    "TileRecord",
    "Totals",
    "TransferRecord",
    "Workload",
    "link_directions",
]
