"""What each supported ONNX operator computes, as C expressions on ``float``, its float-operator mix, and
why an op the frontends accept has no kernel (:func:`unsupported`, checked before any code generation).

Kernel families (:func:`family`): ``mac`` (Conv, ConvTranspose, Gemm, MatMul), ``eltwise`` (n-ary
elementwise and activations), ``move`` (reshape/transpose/slice-like copies, Concat), ``pool``
(windowed and global pools), ``reduce`` (ReduceMean/Sum/Max/Min), ``softmax`` (Softmax, LogSoftmax),
``norm`` (LayerNormalization, RMSNormalization, onnxruntime's SimplifiedLayerNormalization) and ``batchnorm``.
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
    "Gelu": lambda x, n: (_GELU_TANH if n.attribute("approximate", "none") == "tanh" else _GELU_ERF).format(x=x),
    "Swish": lambda x, n: f"{x} / (1.0f + std::exp(-{flit(n.attribute('alpha', 1.0))} * {x}))",
    "HardSwish": lambda x, n: f"{x} * std::fmax(0.0f, std::fmin(1.0f, {x} / 6.0f + 0.5f))",
    "Erf": lambda x, n: f"std::erf({x})",
    "Exp": lambda x, n: f"std::exp({x})",
    "Log": lambda x, n: f"std::log({x})",
    "Sqrt": lambda x, n: f"std::sqrt({x})",
    "Reciprocal": lambda x, n: f"1.0f / {x}",
    "Neg": lambda x, n: f"-{x}",
    "Abs": lambda x, n: f"std::fabs({x})",
    "Silu": lambda x, n: f"{x} / (1.0f + std::exp(-{x}))",
    "QuickGelu": lambda x, n: f"{x} / (1.0f + std::exp(-{flit(n.attribute('alpha', 1.702))} * {x}))",
    "Elu": lambda x, n: f"({x} >= 0.0f ? {x} : {flit(n.attribute('alpha', 1.0))} * (std::exp({x}) - 1.0f))",
    "Sin": lambda x, n: f"std::sin({x})",
    "Cos": lambda x, n: f"std::cos({x})",
    "Floor": lambda x, n: f"std::floor({x})",
    "Ceil": lambda x, n: f"std::ceil({x})",
    "Identity": lambda x, n: x,
    "Cast": lambda x, n: x,
    "CastLike": lambda x, n: x,
}

_GELU_TANH = "0.5f * {x} * (1.0f + std::tanh(0.7978845608f * ({x} + 0.044715f * {x} * {x} * {x})))"
_GELU_ERF = "0.5f * {x} * (1.0f + std::erf({x} * 0.7071067812f))"

#: Ops of several operands that are not a left fold of one binary operator.
_NARY: dict[str, Callable[[list[str], Node], str]] = {
    # ONNX Runtime's FastGelu (tanh approximation) and BiasGelu (erf) with an optional added bias
    "FastGelu": lambda v, n: _GELU_TANH.format(x=f"({' + '.join(v)})"),
    "BiasGelu": lambda v, n: _GELU_ERF.format(x=f"({' + '.join(v)})"),
    "PRelu": lambda v, n: f"({v[0]} >= 0.0f ? {v[0]} : {v[1]} * {v[0]})",
    "Sum": lambda v, n: " + ".join(v),
    "Mean": lambda v, n: f"({' + '.join(v)}) / {flit(float(len(v)))}",
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
    "Silu": ("exp", "add", "div"),
    "QuickGelu": ("exp", "mul", "add", "div"),
    "Elu": ("compare", "exp", "add", "mul"),
    "Sin": ("exp",),
    "Cos": ("exp",),
    "Floor": (),
    "Ceil": (),
    "FastGelu": ("exp", "mul", "mul", "mul", "add", "add"),
    "BiasGelu": ("exp", "mul", "mul", "add", "add"),
    "PRelu": ("compare", "mul"),
    "Sum": ("add",),
    "Mean": ("add", "mul"),
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
#: Normalisations by the root mean square (no mean subtracted, no bias).
RMS_NORMS = ("RMSNormalization", "SimplifiedLayerNormalization")
NORMS = ("LayerNormalization", *RMS_NORMS)
MAC_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul", "Einsum")
FLOAT_DTYPES = ("float32", "float16", "bfloat16", "float64")

#: Why ops the frontends accept have no kernel.
_NO_KERNEL = {
    "LRN": "no kernel for a local response normalisation across channels",
    "Trilu": "no kernel masks a triangle (export the mask as a constant and Add or Mul it)",
    "Range": "sequences are not generated on the device (a Range of at most 4096 elements is folded)",
    "ConstantOfShape": "fills are not generated on the device (a fill of at most 4096 elements is folded)",
}


def family(node: Node) -> str | None:
    """The kernel family of ``node``, or ``None`` when the backend has no kernel for it."""
    op = node.op_type
    if node.mac_op and op in MAC_OPS:
        return "mac"
    if op in _UNARY or op in _BINARY or op in _NARY or op == "Clip":
        return "eltwise"
    if op in POOLS:
        return "pool"
    if op in REDUCES or (op == "Einsum" and node.kind is NodeKind.COMPUTE):
        return "reduce"
    if op in ("Softmax", "LogSoftmax"):
        return "softmax"
    if op in NORMS:
        return "norm"
    if op == "BatchNormalization":
        return "batchnorm"
    if node.kind is NodeKind.DATA_MOVEMENT and op not in _NO_KERNEL:
        return "move"
    return None


def unsupported(node: Node) -> str | None:
    """Why the U55C kernels cannot compute ``node``, or ``None`` when they can."""
    other = [op for op in node.operands if op.dtype not in FLOAT_DTYPES]
    if other:
        names = ", ".join(f"{op.tensor!r} ({op.dtype})" for op in other)
        return f"the kernels compute on floating-point tensors only (float32 on chip); it uses {names}"
    fam = family(node)
    if fam is None:
        return _NO_KERNEL.get(node.op_type, f"no kernel for this op; supported: {', '.join(SUPPORTED)}")
    if node.output.access is None:
        return "its output is not an affine function of its loops"
    opaque = [op.tensor for op in node.reads if op.access is None]
    if fam == "move" and opaque and len(node.reads) > 1:
        return f"data-dependent indexing of {', '.join(opaque)}"
    return None


SUPPORTED = tuple(sorted({*MAC_OPS, *_UNARY, *_BINARY, *_NARY, "Clip", *POOLS, *REDUCES, "Softmax", "LogSoftmax",
                          *NORMS, "BatchNormalization", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose",
                          "Concat", "Split", "Slice", "Gather", "Expand", "Dropout"}))  # fmt: skip


def eltwise_expr(node: Node, values: list[str]) -> str:
    """C expression of an elementwise node on its operand values (in operand order)."""
    op = node.op_type
    if op in _UNARY:
        return _UNARY[op](values[0], node)
    if op in _NARY:
        return _NARY[op](values, node)
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
