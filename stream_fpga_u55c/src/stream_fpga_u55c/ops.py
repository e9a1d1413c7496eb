"""What each supported ONNX operator computes, as C expressions on ``float``, and its float-operator mix.

Kernel families (:func:`family`): ``mac`` (Conv, ConvTranspose, Gemm, MatMul), ``eltwise`` (n-ary
elementwise and activations), ``move`` (reshape/transpose/slice-like copies, Concat), ``pool``
(windowed and global pools), ``reduce`` (ReduceMean/Sum/Max/Min), ``softmax`` (Softmax, LogSoftmax),
``norm`` (LayerNormalization, RMSNormalization) and ``batchnorm``.
"""

from __future__ import annotations

from collections.abc import Callable

from stream_core.ir import Node, NodeKind
from stream_fpga_u55c.cpp import flit

FLT_MAX = "3.402823466e+38f"

_UNARY: dict[str, Callable[[str, Node], str]] = {
    "Relu": lambda x, n: f"std::fmax({x}, 0.0f)",
    "LeakyRelu": lambda x, n: f"({x} >= 0.0f ? {x} : {flit(n.attribute('alpha', 0.01))} * {x})",
    "Sigmoid": lambda x, n: f"1.0f / (1.0f + std::exp(-{x}))",
    "HardSigmoid": lambda x, n: (
        f"std::fmax(0.0f, std::fmin(1.0f, {flit(n.attribute('alpha', 0.2))} * {x} + {flit(n.attribute('beta', 0.5))}))"
    ),
    "Tanh": lambda x, n: f"std::tanh({x})",
    "Gelu": lambda x, n: (
        f"0.5f * {x} * (1.0f + std::tanh(0.7978845608f * ({x} + 0.044715f * {x} * {x} * {x})))"
        if n.attribute("approximate", "none") == "tanh"
        else f"0.5f * {x} * (1.0f + std::erf({x} * 0.7071067812f))"
    ),
    "Swish": lambda x, n: f"{x} / (1.0f + std::exp(-{flit(n.attribute('alpha', 1.0))} * {x}))",
    "HardSwish": lambda x, n: f"{x} * std::fmax(0.0f, std::fmin(1.0f, {x} / 6.0f + 0.5f))",
    "Erf": lambda x, n: f"std::erf({x})",
    "Exp": lambda x, n: f"std::exp({x})",
    "Log": lambda x, n: f"std::log({x})",
    "Sqrt": lambda x, n: f"std::sqrt({x})",
    "Reciprocal": lambda x, n: f"1.0f / {x}",
    "Neg": lambda x, n: f"-{x}",
    "Abs": lambda x, n: f"std::fabs({x})",
}

_BINARY: dict[str, Callable[[str, str], str]] = {
    "Add": lambda a, b: f"{a} + {b}",
    "Sub": lambda a, b: f"{a} - {b}",
    "Mul": lambda a, b: f"{a} * {b}",
    "Div": lambda a, b: f"{a} / {b}",
    "Pow": lambda a, b: f"std::pow({a}, {b})",
    "Max": lambda a, b: f"std::fmax({a}, {b})",
    "Min": lambda a, b: f"std::fmin({a}, {b})",
}

#: Float operators per output element (per lane), for the DSP estimate.
_MIX: dict[str, tuple[str, ...]] = {
    "mac": ("mul", "add"),
    "Add": ("add",),
    "Sub": ("add",),
    "Mul": ("mul",),
    "Div": ("div",),
    "Pow": ("exp", "mul"),
    "Max": ("compare",),
    "Min": ("compare",),
    "Relu": ("compare",),
    "LeakyRelu": ("compare", "mul"),
    "Sigmoid": ("exp", "add", "div"),
    "HardSigmoid": ("mul", "add", "compare"),
    "Tanh": ("exp", "add", "div"),
    "Gelu": ("exp", "mul", "mul", "mul", "add"),
    "Swish": ("exp", "mul", "add", "div"),
    "HardSwish": ("mul", "add", "compare", "mul"),
    "Erf": ("exp", "mul"),
    "Exp": ("exp",),
    "Log": ("exp",),
    "Sqrt": ("sqrt",),
    "Reciprocal": ("div",),
    "Neg": (),
    "Abs": (),
    "Clip": ("compare",),
    "move": (),
    "MaxPool": ("compare",),
    "GlobalMaxPool": ("compare",),
    "AveragePool": ("add",),
    "GlobalAveragePool": ("add",),
    "ReduceSum": ("add",),
    "ReduceMean": ("add",),
    "ReduceMax": ("compare",),
    "ReduceMin": ("compare",),
    "softmax": ("compare", "add", "exp", "add", "div"),
    "norm": ("add", "add", "mul", "add", "mul", "mul", "sqrt", "div"),
    "batchnorm": ("add", "mul", "add", "div", "sqrt"),
}

POOLS = ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool")
REDUCES = ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin")
NORMS = ("LayerNormalization", "RMSNormalization")
MAC_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")


def family(node: Node) -> str | None:
    """The kernel family of ``node``, or ``None`` when the backend has no kernel for it."""
    op = node.op_type
    if node.mac_op and op in MAC_OPS:
        return "mac"
    if op in _UNARY or op in _BINARY or op == "Clip":
        return "eltwise"
    if op in POOLS:
        return "pool"
    if op in REDUCES:
        return "reduce"
    if op in ("Softmax", "LogSoftmax"):
        return "softmax"
    if op in NORMS:
        return "norm"
    if op == "BatchNormalization":
        return "batchnorm"
    if node.kind is NodeKind.DATA_MOVEMENT:
        return "move"
    return None


SUPPORTED = tuple(sorted({*MAC_OPS, *_UNARY, *_BINARY, "Clip", *POOLS, *REDUCES, "Softmax", "LogSoftmax", *NORMS,
                          "BatchNormalization", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat",
                          "Split", "Slice", "Gather", "Identity"}))  # fmt: skip


def eltwise_expr(node: Node, values: list[str]) -> str:
    """C expression of an elementwise node on its operand values (in operand order)."""
    op = node.op_type
    if op in _UNARY:
        return _UNARY[op](values[0], node)
    if op == "Clip":
        lo = values[1] if len(values) > 1 else flit(node.attribute("min", -3.402823466e38))
        hi = values[2] if len(values) > 2 else flit(node.attribute("max", 3.402823466e38))
        return f"std::fmin(std::fmax({values[0]}, {lo}), {hi})"
    combine = _BINARY[op]
    expr = values[0]
    for v in values[1:]:
        expr = combine(expr, v)  # left-associative, as ONNX folds variadic Max/Min/Sum
    return expr


def op_mix(node: Node) -> tuple[str, ...]:
    """Float operators one lane performs per iteration point (for the DSP estimate)."""
    fam = family(node)
    if fam in ("mac", "move", "softmax", "norm", "batchnorm"):
        return _MIX[fam]
    return _MIX.get(node.op_type, ())
