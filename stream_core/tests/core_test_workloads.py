"""Small workloads built directly in the IR for the core's tests."""

from __future__ import annotations

from stream_core.ir import AffineExpr, LoopDim, Node, NodeKind, Operand, TensorSpec, Workload

A = AffineExpr.of


def relu_chain(n: int = 8, dtype: str = "int8", length: int = 1) -> Workload:
    """x -> relu_0 -> relu_1 -> ... (element-wise, ``n`` elements)."""
    tensors = {"t0": TensorSpec("t0", (n,), dtype)}
    nodes = []
    for i in range(length):
        tensors[f"t{i + 1}"] = TensorSpec(f"t{i + 1}", (n,), dtype)
        bits = tensors["t0"].bits_per_element
        nodes.append(
            Node(
                f"relu_{i}",
                "Relu",
                [LoopDim("D0", n)],
                [Operand("input", f"t{i}", bits, (A("D0"),)), Operand("output", f"t{i + 1}", bits, (A("D0"),))],
            )
        )
    return Workload("relu_chain", nodes, tensors, inputs=["t0"], outputs=[f"t{length}"])


def matmul(m: int, k: int, n: int, dtype: str = "int8") -> Workload:
    """Y[m,n] = A[m,k] @ W[k,n] with loops D (rows), C (reduction), K (columns), Gemm order."""
    tensors = {
        "a": TensorSpec("a", (m, k), dtype),
        "w": TensorSpec("w", (k, n), dtype),
        "y": TensorSpec("y", (m, n), dtype),
    }
    bits = tensors["a"].bits_per_element
    node = Node(
        "mm",
        "Gemm",
        [LoopDim("D", m), LoopDim("C", k), LoopDim("K", n)],
        [
            Operand("input", "a", bits, (A("D"), A("C"))),
            Operand("weight", "w", bits, (A("C"), A("K"))),
            Operand("output", "y", bits, (A("D"), A("K"))),
        ],
        mac_op=True,
    )
    return Workload("matmul", [node], tensors, inputs=["a", "w"], outputs=["y"])


def conv(b=1, c=8, k=16, iy=8, ix=8, fy=3, fx=3, stride=1, pad=1, name="conv", dtype="int8") -> Node:
    oy = (iy + 2 * pad - fy) // stride + 1
    ox = (ix + 2 * pad - fx) // stride + 1
    bits = 8 if dtype == "int8" else 16
    return Node(
        name,
        "Conv",
        [
            LoopDim("B", b),
            LoopDim("OX", ox),
            LoopDim("OY", oy),
            LoopDim("FX", fx),
            LoopDim("FY", fy),
            LoopDim("C", c),
            LoopDim("K", k),
        ],
        [
            Operand(
                "input",
                "x",
                bits,
                (
                    A("B"),
                    A("C"),
                    AffineExpr((("OY", stride), ("FY", 1)), -pad),
                    AffineExpr((("OX", stride), ("FX", 1)), -pad),
                ),
            ),
            Operand("weight", "w", bits, (A("K"), A("C"), A("FY"), A("FX"))),
            Operand("output", "y", bits, (A("B"), A("K"), A("OY"), A("OX"))),
        ],
        mac_op=True,
    )


def transpose_node(n: int, m: int) -> Node:
    return Node(
        "tr",
        "Transpose",
        [LoopDim("D0", m), LoopDim("D1", n)],
        [Operand("input", "y", 8, (A("D1"), A("D0"))), Operand("output", "z", 8, (A("D0"), A("D1")))],
        kind=NodeKind.DATA_MOVEMENT,
    )
