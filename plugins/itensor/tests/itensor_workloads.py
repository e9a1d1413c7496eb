"""Workloads built directly in the IR, shared by the itensor tests."""

from __future__ import annotations

from stream_core.ir import AffineExpr, LoopDim, Node, Operand, TensorSpec, Workload


def _ax(*names: str) -> tuple[AffineExpr, ...]:
    return tuple(AffineExpr.of(n) for n in names)


def matmul_relu(out_rows: int = 8) -> Workload:
    """``y[m,n] = x[m,k] w[k,n]`` (8x4 @ 4x8) then ``z = relu(y)`` and ``t[j,i] = y[i,j]`` (a transpose)."""
    tensors = {
        "x": TensorSpec("x", (8, 4)),
        "w": TensorSpec("w", (4, 8)),
        "y": TensorSpec("y", (8, 8)),
        "z": TensorSpec("z", (8, 8)),
        "t": TensorSpec("t", (8, 8)),
    }
    mm = Node(
        "mm",
        "MatMul",
        [LoopDim("m", out_rows), LoopDim("n", 8), LoopDim("k", 4)],
        [
            Operand("input", "x", 32, _ax("m", "k")),
            Operand("weight", "w", 32, _ax("k", "n")),
            Operand("output", "y", 32, _ax("m", "n")),
        ],
        mac_op=True,
    )
    relu = Node(
        "relu",
        "Relu",
        [LoopDim("i", 8), LoopDim("j", 8)],
        [Operand("input", "y", 32, _ax("i", "j")), Operand("output", "z", 32, _ax("i", "j"))],
    )
    tr = Node(
        "tr",
        "Transpose",
        [LoopDim("a", 8), LoopDim("b", 8)],
        [Operand("input", "y", 32, _ax("b", "a")), Operand("output", "t", 32, _ax("a", "b"))],
    )
    return Workload(
        "mm_relu", [mm, relu, tr], tensors, inputs=["x"], outputs=["z", "t"], constants=["w"], source="mm.onnx"
    )
