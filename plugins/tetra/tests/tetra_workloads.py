"""Small workloads built directly in the IR (int8 unless stated)."""

from __future__ import annotations

from stream_core.ir import AffineExpr, LoopDim, Node, Operand, TensorSpec, Workload

A = AffineExpr.of


def elementwise(name: str, op: str, src: str, dst: str, n: int, bits: int = 8) -> Node:
    return Node(
        name,
        op,
        [LoopDim("D0", n)],
        [Operand("input", src, bits, (A("D0"),)), Operand("output", dst, bits, (A("D0"),))],
    )


def relu_chain(n: int = 8, length: int = 2, dtype: str = "int8") -> Workload:
    """x -> relu_0 -> ... -> relu_{length-1}; tensors t0 (input) .. t<length> (output), ``n`` elements."""
    tensors = {f"t{i}": TensorSpec(f"t{i}", (n,), dtype) for i in range(length + 1)}
    bits = tensors["t0"].bits_per_element
    nodes = [elementwise(f"relu_{i}", "Relu", f"t{i}", f"t{i + 1}", n, bits) for i in range(length)]
    return Workload("relu_chain", nodes, tensors, inputs=["t0"], outputs=[f"t{length}"])


def matmul(m: int, k: int, n: int, name: str = "mm") -> Workload:
    """Y[m,n] = X[m,k] @ W[k,n], loops D (rows), C (reduction), K (columns), int8."""
    tensors = {
        "x": TensorSpec("x", (m, k), "int8"),
        "w": TensorSpec("w", (k, n), "int8"),
        "y": TensorSpec("y", (m, n), "int8"),
    }
    node = Node(
        name,
        "Gemm",
        [LoopDim("D", m), LoopDim("C", k), LoopDim("K", n)],
        [
            Operand("input", "x", 8, (A("D"), A("C"))),
            Operand("weight", "w", 8, (A("C"), A("K"))),
            Operand("output", "y", 8, (A("D"), A("K"))),
        ],
        mac_op=True,
    )
    return Workload("matmul", [node], tensors, inputs=["x", "w"], outputs=["y"])


def conv(name: str, src: str, weights: str, dst: str, c: int, k: int, size: int) -> Node:
    """3x3 convolution, stride 1, padding 1, batch 1, int8; loops in Stream's order."""
    return Node(
        name,
        "Conv",
        [
            LoopDim("B", 1),
            LoopDim("OX", size),
            LoopDim("OY", size),
            LoopDim("FX", 3),
            LoopDim("FY", 3),
            LoopDim("C", c),
            LoopDim("K", k),
        ],
        [
            Operand(
                "input",
                src,
                8,
                (A("B"), A("C"), AffineExpr((("OY", 1), ("FY", 1)), -1), AffineExpr((("OX", 1), ("FX", 1)), -1)),
            ),
            Operand("weight", weights, 8, (A("K"), A("C"), A("FY"), A("FX"))),
            Operand("output", dst, 8, (A("B"), A("K"), A("OY"), A("OX"))),
        ],
        mac_op=True,
    )


def two_conv(c: int = 2, k1: int = 2, k2: int = 2, size: int = 4) -> Workload:
    tensors = {
        "x": TensorSpec("x", (1, c, size, size), "int8"),
        "w1": TensorSpec("w1", (k1, c, 3, 3), "int8"),
        "h": TensorSpec("h", (1, k1, size, size), "int8"),
        "w2": TensorSpec("w2", (k2, k1, 3, 3), "int8"),
        "y": TensorSpec("y", (1, k2, size, size), "int8"),
    }
    nodes = [conv("conv1", "x", "w1", "h", c, k1, size), conv("conv2", "h", "w2", "y", k1, k2, size)]
    return Workload("two_conv_small", nodes, tensors, inputs=["x"], outputs=["y"], constants=["w1", "w2"])
