"""Lowering a ``torch.export`` program's ATen graph onto ONNX operators, node by node.

Each FX ``call_function`` node goes through :data:`ATEN_OPS` (keyed ``aten.<op>``) to the ONNX
operators an ONNX export of the same module gives (``aten.linear`` -> ``MatMul`` + ``Add``, or ``Gemm``
on 2-D input), built in a :class:`~stream_blocks.api.OnnxGraph`; the ONNX parser then makes the
workload, so both routes share one set of op semantics. Shapes come from the program's metadata.

* Parameters are value-less: moving one (``t``, ``permute``, ``view``) gives another parameter, as
  an exporter folds it. Buffers and constants of at most :data:`SMALL` elements keep their values,
  and a node computing only on known values (a causal mask from ``ones`` and ``tril``) is evaluated
  with torch itself and becomes a constant.
* Consecutive transposes become one, and nodes no output needs are dropped, as exporters do.
* Every op without a lowering is reported at once (:func:`check_supported`).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import torch
from stream_blocks.api import OnnxGraph
from torch.export import ExportedProgram
from torch.export.graph_signature import InputKind, OutputKind

from stream_core.errors import InputError, Problem

#: Elements up to which a buffer keeps its value and a node on known values is evaluated.
SMALL = 4096

_DTYPES = {
    torch.float32: "float32",
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.float64: "float64",
    torch.int8: "int8",
    torch.uint8: "uint8",
    torch.int16: "int16",
    torch.int32: "int32",
    torch.int64: "int64",
    torch.bool: "bool",
}


@attrs.frozen
class Ref:
    """An ONNX tensor standing for an FX value: its name, static shape and element type.
    ``parameter``: a value-less weight (or a movement of one)."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    parameter: bool = False

    @property
    def rank(self) -> int:
        return len(self.shape)


def dtype_name(dtype: torch.dtype, where: str) -> str:
    try:
        return _DTYPES[dtype]
    except KeyError:
        raise InputError(
            Problem(f"element type {dtype} is not supported; supported: {', '.join(map(str, _DTYPES))}", field=where)
        ) from None


def op_key(target: Any) -> str:
    """``aten.linear`` for ``torch.ops.aten.linear.default``; ``getitem`` for ``operator.getitem``."""
    if target is operator.getitem:
        return "getitem"
    packet = getattr(target, "overloadpacket", None)
    if packet is not None:
        return f"{target.namespace}.{packet.__name__}"
    return getattr(target, "__name__", str(target))


class Lowering:
    """One program's lowering: FX values by node name, the graph being built, the meta of each node."""

    def __init__(self, program: ExportedProgram, name: str, source: str):
        self.program = program
        self.source = source
        self.g = OnnxGraph(name)
        self.values: dict[str, Any] = {}
        self.transposes: dict[str, tuple[Ref, tuple[int, ...]]] = {}  # output -> (source, perm)
        self._moved: dict[tuple[str, tuple[int, ...]], Ref] = {}
        self.node: Any = None

    # -- values --------------------------------------------------------------------------------
    def meta(self, node: Any = None) -> Any:
        node = node or self.node
        value = node.meta.get("val")
        if value is None:
            raise self.error("has no shape metadata; export the module with torch.export.export", node)
        return value

    def out_shape(self, index: int | None = None) -> tuple[int, ...]:
        value = self.meta()
        value = value[index] if index is not None else value
        return self.static(value.shape)

    def out_dtype(self) -> str:
        value = self.meta()
        value = value[0] if isinstance(value, list | tuple) else value
        return dtype_name(value.dtype, self.field())

    def static(self, shape: Iterable[Any]) -> tuple[int, ...]:
        dims = tuple(shape)
        if not all(isinstance(d, int) for d in dims):
            raise self.error(f"has a dynamic shape {list(dims)}; export with static shapes (no dynamic_shapes)")
        return tuple(int(d) for d in dims)

    def ref(self, name: str) -> Ref:
        """A :class:`Ref` for an ONNX tensor this node produced, with the node's output shape."""
        return Ref(name, self.out_shape(), self.out_dtype())

    def tensor(self, value: Any, like: Ref | None = None) -> Ref:
        """``value`` as an ONNX tensor: a Ref as is, a Python scalar or known tensor as a constant (a scalar
        takes ``like``'s element type, as PyTorch's type promotion does for Python numbers)."""
        if isinstance(value, Ref):
            return value
        if isinstance(value, torch.Tensor):
            array = value.detach().numpy()
            dtype = dtype_name(value.dtype, self.field())
            return Ref(self.g.const(array, "const", dtype=dtype), tuple(value.shape), dtype)
        dtype = like.dtype if like is not None else ("int64" if isinstance(value, int) else "float32")
        if isinstance(value, bool):
            dtype = "bool"
        return Ref(self.g.const(value, "const", dtype=dtype), (), dtype)

    def op(self, op_type: str, inputs: Sequence[Ref | str], **attributes: Any) -> str:
        names = [i.name if isinstance(i, Ref) else i for i in inputs]
        return self.g.op(op_type, names, name=self.node.name, **attributes)

    def emit(self, op_type: str, inputs: Sequence[Ref | str], **attributes: Any) -> Ref:
        """One ONNX node producing this FX node's output."""
        return self.ref(self.op(op_type, inputs, **attributes))

    def ints(self, values: Sequence[int]) -> str:
        return self.g.const(list(values), "shape")

    # -- movement ------------------------------------------------------------------------------
    def transpose(self, x: Ref, perm: Sequence[int]) -> Ref:
        """``x`` with its axes permuted: a parameter stays a parameter; a transpose of a transpose is one."""
        perm = tuple(int(p) % max(x.rank, 1) for p in perm)
        if perm == tuple(range(x.rank)):
            return x
        shape = tuple(x.shape[p] for p in perm)
        if x.parameter:
            return self.moved(x, shape, perm)
        if x.name in self.transposes:
            inner, first = self.transposes[x.name]
            return self.transpose(inner, [first[p] for p in perm])
        out = Ref(self.op("Transpose", [x], perm=list(perm)), shape, x.dtype)
        self.transposes[out.name] = (x, perm)
        return out

    def moved(self, x: Ref, shape: tuple[int, ...], how: tuple[int, ...] = ()) -> Ref:
        """The parameter ``x`` transposed (``how``) or reshaped: a parameter of the new shape."""
        key = (x.name, how or shape)
        if key not in self._moved:
            self._moved[key] = Ref(self.g.param(f"{x.name}_moved", shape, x.dtype), shape, x.dtype, parameter=True)
        return self._moved[key]

    def reshape(self, x: Ref, shape: Sequence[int], op_type: str = "Reshape") -> Ref:
        shape = tuple(shape)
        if x.parameter:
            return self.moved(x, shape)
        if shape == x.shape:
            return x
        if op_type == "Reshape":
            return Ref(self.op("Reshape", [x, self.ints(shape)]), shape, x.dtype)
        axes = _size_one_axes(x.shape, shape) if op_type == "Unsqueeze" else _size_one_axes(shape, x.shape)
        return Ref(self.op(op_type, [x, self.ints(axes)]), shape, x.dtype)

    # -- errors --------------------------------------------------------------------------------
    def field(self, node: Any = None) -> str:
        node = node or self.node
        return f"graph.{node.name}" if node is not None else "graph"

    def error(self, message: str, node: Any = None) -> InputError:
        node = node or self.node
        return InputError(
            Problem(f"node {node.name!r} ({node.target}) {message}", file=self.source, field=self.field(node))
        )


def _size_one_axes(small: Sequence[int], large: Sequence[int]) -> list[int]:
    """The axes of ``large`` that are inserted size-1 axes relative to ``small`` (for Unsqueeze/Squeeze)."""
    axes, i = [], 0
    for axis, size in enumerate(large):
        if i < len(small) and small[i] == size:
            i += 1
        else:
            axes.append(axis)
    return axes


Lower = Callable[[Lowering, Sequence[Any], dict[str, Any]], Any]
ATEN_OPS: dict[str, Lower] = {}


def lowers(*keys: str) -> Callable[[Lower], Lower]:
    def register(function: Lower) -> Lower:
        for key in keys:
            ATEN_OPS[key] = function
        return function

    return register


def _arg(args: Sequence[Any], kwargs: dict[str, Any], index: int, name: str, default: Any = None) -> Any:
    if index < len(args):
        return args[index]
    return kwargs.get(name, default)


# -- elementwise -------------------------------------------------------------------------------------
_BINARY = {
    "aten.add": "Add",
    "aten.sub": "Sub",
    "aten.mul": "Mul",
    "aten.div": "Div",
    "aten.pow": "Pow",
    "aten.maximum": "Max",
    "aten.minimum": "Min",
    "aten.eq": "Equal",
    "aten.lt": "Less",
    "aten.le": "LessOrEqual",
    "aten.gt": "Greater",
    "aten.ge": "GreaterOrEqual",
    "aten.logical_and": "And",
    "aten.logical_or": "Or",
    "aten.bitwise_and": "And",
    "aten.bitwise_or": "Or",
}
_UNARY = {
    "aten.relu": "Relu",
    "aten.sigmoid": "Sigmoid",
    "aten.tanh": "Tanh",
    "aten.exp": "Exp",
    "aten.log": "Log",
    "aten.sqrt": "Sqrt",
    "aten.neg": "Neg",
    "aten.abs": "Abs",
    "aten.erf": "Erf",
    "aten.sin": "Sin",
    "aten.cos": "Cos",
    "aten.reciprocal": "Reciprocal",
    "aten.hardswish": "HardSwish",
    "aten.logical_not": "Not",
    "aten.bitwise_not": "Not",
    "aten.floor": "Floor",
    "aten.ceil": "Ceil",
}


@lowers(*_BINARY)
def binary(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    a, b = args[0], args[1]
    key = op_key(lo.node.target)
    if kwargs.get("rounding_mode") is not None:
        raise lo.error(f"rounding_mode={kwargs['rounding_mode']!r} has no ONNX equivalent")
    alpha = kwargs.get("alpha", 1)
    like = a if isinstance(a, Ref) else b
    left, right = lo.tensor(a, like), lo.tensor(b, like)
    if alpha != 1:
        right = Ref(lo.op("Mul", [right, lo.tensor(alpha, right)]), right.shape, right.dtype)
    return lo.emit(_BINARY[key], [left, right])


@lowers(*_UNARY)
def unary(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    return lo.emit(_UNARY[op_key(lo.node.target)], [args[0]])


@lowers("aten.rsqrt")
def rsqrt(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    return lo.emit("Reciprocal", [lo.emit("Sqrt", [args[0]])])


@lowers("aten.gelu")
def gelu(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    return lo.emit("Gelu", [args[0]], approximate=_arg(args, kwargs, 1, "approximate", "none"))


@lowers("aten.silu")
def silu(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    return lo.emit("Mul", [args[0], lo.emit("Sigmoid", [args[0]])])


@lowers("aten.leaky_relu")
def leaky_relu(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    return lo.emit("LeakyRelu", [args[0]], alpha=float(_arg(args, kwargs, 1, "negative_slope", 0.01)))


@lowers("aten.hardsigmoid")
def hardsigmoid(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    return lo.emit("HardSigmoid", [args[0]], alpha=1 / 6, beta=0.5)


@lowers("aten.clamp", "aten.clip", "aten.hardtanh", "aten.relu6")
def clamp(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    x = args[0]
    key = op_key(lo.node.target)
    low, high = (0.0, 6.0) if key == "aten.relu6" else (_arg(args, kwargs, 1, "min"), _arg(args, kwargs, 2, "max"))
    if key == "aten.hardtanh":
        low, high = _arg(args, kwargs, 1, "min_val", -1.0), _arg(args, kwargs, 2, "max_val", 1.0)
    bounds = [lo.tensor(v, x).name if v is not None else "" for v in (low, high)]
    return lo.emit("Clip", [x, *bounds])


@lowers("aten.where")
def where(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    like = args[1] if isinstance(args[1], Ref) else args[2]
    return lo.emit("Where", [lo.tensor(args[0]), lo.tensor(args[1], like), lo.tensor(args[2], like)])


@lowers("aten.masked_fill")
def masked_fill(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    x, mask, value = args
    return lo.emit("Where", [lo.tensor(mask), lo.tensor(value, x), x])


@lowers("aten._to_copy", "aten.to", "aten.type_as")
def cast(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    x, dtype = args[0], lo.out_dtype()
    return x if x.dtype == dtype else lo.emit("Cast", [x], to=_onnx_type(dtype))


def _onnx_type(dtype: str) -> int:
    from stream_blocks.onnx_graph import element_type

    return element_type(dtype)


@lowers(
    "aten.clone",
    "aten.contiguous",
    "aten.detach",
    "aten.alias",
    "aten.dropout",
    "aten.lift_fresh_copy",
    "aten.feature_dropout",
)
def identity(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    return args[0]


@lowers("aten._assert_tensor_metadata", "aten._assert_scalar", "aten.sym_constrain_range_for_size")
def no_value(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
    return None


# -- linear algebra and convolution ------------------------------------------------------------------
@lowers("aten.matmul", "aten.mm", "aten.bmm")
def matmul(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    return lo.emit("MatMul", [args[0], args[1]])


@lowers("aten.linear")
def linear(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    x, weight, bias = args[0], args[1], _arg(args, kwargs, 2, "bias")
    if x.rank == 2:
        return lo.emit("Gemm", [x, weight, *([bias] if bias is not None else [])], transB=1)
    y = lo.emit("MatMul", [x, lo.transpose(weight, [1, 0])])
    return y if bias is None else lo.emit("Add", [y, bias])


@lowers("aten.addmm")
def addmm(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    bias, x, weight = args[:3]
    beta, alpha = kwargs.get("beta", 1), kwargs.get("alpha", 1)
    return lo.emit("Gemm", [x, weight, bias], alpha=float(alpha), beta=float(beta))


@lowers("aten.conv1d", "aten.conv2d", "aten.convolution", "aten._convolution")
def convolution(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    x, weight, bias = args[0], args[1], _arg(args, kwargs, 2, "bias")
    spatial = weight.rank - 2
    if op_key(lo.node.target) in ("aten.conv1d", "aten.conv2d"):
        stride, padding, dilation = (
            _arg(args, kwargs, i, n, d) for i, n, d in ((3, "stride", 1), (4, "padding", 0), (5, "dilation", 1))
        )
        transposed, groups = False, _arg(args, kwargs, 6, "groups", 1)
    else:
        stride, padding, dilation, transposed = args[3:7]
        groups = args[8]
    if isinstance(padding, str):
        raise lo.error(f"padding={padding!r}: only explicit padding is supported")
    stride, padding, dilation = (_per_axis(v, spatial) for v in (stride, padding, dilation))
    inputs = [x, weight, *([bias] if bias is not None else [])]
    kernel = list(weight.shape[2:])
    attributes = dict(kernel_shape=kernel, strides=stride, pads=padding * 2, dilations=dilation, group=int(groups))
    return lo.emit("ConvTranspose" if transposed else "Conv", inputs, **attributes)


def _per_axis(value: Any, count: int) -> list[int]:
    values = [int(v) for v in value] if isinstance(value, list | tuple) else [int(value)]
    return values * count if len(values) == 1 else values


# -- pooling, normalisation, reductions --------------------------------------------------------------
@lowers("aten.max_pool2d", "aten.max_pool2d_with_indices", "aten.avg_pool2d", "aten.max_pool1d", "aten.avg_pool1d")
def pool(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    x = args[0]
    key = op_key(lo.node.target)
    spatial = x.rank - 2
    kernel = _per_axis(_arg(args, kwargs, 1, "kernel_size"), spatial)
    stride = _per_axis(_arg(args, kwargs, 2, "stride") or kernel, spatial)
    padding = _per_axis(_arg(args, kwargs, 3, "padding", 0), spatial)
    attributes: dict[str, Any] = dict(kernel_shape=kernel, strides=stride, pads=padding * 2)
    if "max" in key:
        attributes["dilations"] = _per_axis(_arg(args, kwargs, 4, "dilation", 1), spatial)
        attributes["ceil_mode"] = int(bool(_arg(args, kwargs, 5, "ceil_mode", False)))
        op_type = "MaxPool"
    else:
        attributes["ceil_mode"] = int(bool(_arg(args, kwargs, 4, "ceil_mode", False)))
        attributes["count_include_pad"] = int(bool(_arg(args, kwargs, 5, "count_include_pad", True)))
        op_type = "AveragePool"
    if key.endswith("with_indices"):
        shape = lo.out_shape(0)
        return (Ref(lo.op(op_type, [x], **attributes), shape, x.dtype), None)
    return lo.emit(op_type, [x], **attributes)


@lowers("aten.adaptive_avg_pool2d", "aten._adaptive_avg_pool2d")
def adaptive_avg_pool(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    if any(s != 1 for s in lo.out_shape()[2:]):
        raise lo.error("adaptive pooling is supported to a 1x1 output only (GlobalAveragePool)")
    return lo.emit("GlobalAveragePool", [args[0]])


@lowers("aten.layer_norm", "aten.native_layer_norm")
def layer_norm(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    x, normalized = args[0], args[1]
    weight, bias, eps = _arg(args, kwargs, 2, "weight"), _arg(args, kwargs, 3, "bias"), _arg(args, kwargs, 4, "eps")
    inputs = [x, weight if weight is not None else lo.tensor(torch.ones(normalized))]
    inputs += [bias] if bias is not None else []
    axis = x.rank - len(normalized)
    out = lo.op("LayerNormalization", inputs, axis=axis, epsilon=float(eps or 1e-5))
    if op_key(lo.node.target) == "aten.native_layer_norm":
        return (Ref(out, x.shape, x.dtype), None, None)
    return Ref(out, x.shape, x.dtype)


@lowers("aten.rms_norm")
def rms_norm(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    x, normalized, weight = args[0], args[1], _arg(args, kwargs, 2, "weight")
    eps = _arg(args, kwargs, 3, "eps")
    scale = weight if weight is not None else lo.tensor(torch.ones(normalized))
    attributes = {"axis": x.rank - len(normalized)} | ({"epsilon": float(eps)} if eps is not None else {})
    return lo.emit("RMSNormalization", [x, scale], **attributes)


@lowers("aten.batch_norm", "aten._native_batch_norm_legit_no_training")
def batch_norm(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    x, weight, bias, mean, var = args[:5]
    key = op_key(lo.node.target)
    eps = args[7] if key == "aten.batch_norm" else args[6]
    if key == "aten.batch_norm" and args[5]:
        raise lo.error("is in training mode; export the module after .eval()")
    out = Ref(lo.op("BatchNormalization", [x, weight, bias, mean, var], epsilon=float(eps)), x.shape, x.dtype)
    return out if key == "aten.batch_norm" else (out, None, None)


@lowers("aten.softmax", "aten._softmax", "aten.log_softmax", "aten._log_softmax")
def softmax(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    op_type = "LogSoftmax" if "log" in op_key(lo.node.target) else "Softmax"
    return lo.emit(op_type, [args[0]], axis=int(args[1]))


_REDUCE = {"aten.mean": "ReduceMean", "aten.sum": "ReduceSum", "aten.amax": "ReduceMax", "aten.amin": "ReduceMin"}


@lowers(*_REDUCE)
def reduce(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    x = args[0]
    dims = _arg(args, kwargs, 1, "dim")
    dims = list(range(x.rank)) if dims is None or dims == [] else dims
    dims = [int(d) % x.rank for d in (dims if isinstance(dims, list | tuple) else [dims])]
    keep = int(bool(_arg(args, kwargs, 2, "keepdim", False)))
    return lo.emit(_REDUCE[op_key(lo.node.target)], [x, lo.ints(dims)], keepdims=keep)


# -- data movement -----------------------------------------------------------------------------------
@lowers("aten.view", "aten.reshape", "aten._unsafe_view", "aten.flatten")
def view(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    return lo.reshape(args[0], lo.out_shape())


@lowers("aten.unsqueeze")
def unsqueeze(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    return lo.reshape(args[0], lo.out_shape(), "Unsqueeze")


@lowers("aten.squeeze")
def squeeze(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    return lo.reshape(args[0], lo.out_shape(), "Squeeze")


@lowers("aten.permute")
def permute(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    return lo.transpose(args[0], args[1])


@lowers("aten.transpose", "aten.t")
def transpose(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    x = args[0]
    first, second = (args[1], args[2]) if len(args) > 2 else (0, 1)
    perm = list(range(x.rank))
    first, second = first % x.rank, second % x.rank
    perm[first], perm[second] = perm[second], perm[first]
    return lo.transpose(x, perm)


@lowers("aten.expand", "aten.expand_as")
def expand(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    shape = lo.out_shape()
    return args[0] if args[0].shape == shape else lo.emit("Expand", [args[0], lo.ints(shape)])


@lowers("aten.cat", "aten.concat")
def cat(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    rank = len(lo.out_shape())
    parts = [lo.tensor(t) for t in args[0] if math.prod(lo.tensor(t).shape)]
    return lo.emit("Concat", parts, axis=int(_arg(args, kwargs, 1, "dim", 0)) % rank)


@lowers("aten.split", "aten.split_with_sizes", "aten.chunk", "aten.unbind")
def split(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> list[Ref]:
    x = args[0]
    key = op_key(lo.node.target)
    dim = int(_arg(args, kwargs, 1 if key == "aten.unbind" else 2, "dim", 0)) % x.rank
    shapes = [lo.static(v.shape) for v in lo.meta()]
    sizes = [1] * len(shapes) if key == "aten.unbind" else [s[dim] for s in shapes]
    names = lo.g.op_n("Split", [x.name, lo.ints(sizes)], len(sizes), name=lo.node.name, axis=dim)
    parts = [Ref(n, (*x.shape[:dim], size, *x.shape[dim + 1 :]), x.dtype) for n, size in zip(names, sizes, strict=True)]
    if key == "aten.unbind":
        parts = [Ref(lo.op("Squeeze", [p, lo.ints([dim])]), s, x.dtype) for p, s in zip(parts, shapes, strict=True)]
    return parts


@lowers("aten.slice", "aten.narrow")
def slice_(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    x = args[0]
    dim = int(_arg(args, kwargs, 1, "dim", 0)) % x.rank
    if op_key(lo.node.target) == "aten.narrow":
        start, length = int(args[2]), int(args[3])
        start, end, step = start, start + length, 1
    else:
        start, end, step = (
            _arg(args, kwargs, i, n, d) for i, n, d in ((2, "start", 0), (3, "end", None), (4, "step", 1))
        )
        start, end = start or 0, x.shape[dim] if end is None else min(int(end), x.shape[dim])
    if (start, end, step) == (0, x.shape[dim], 1):
        return x
    return lo.emit("Slice", [x, lo.ints([start]), lo.ints([end]), lo.ints([dim]), lo.ints([step])])


@lowers("aten.select")
def select(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    x, dim, index = args[0], int(args[1]) % args[0].rank, int(args[2])
    return lo.emit("Gather", [x, lo.g.const(index % x.shape[dim], "index")], axis=dim)


@lowers("aten.index_select")
def index_select(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    return lo.emit("Gather", [args[0], lo.tensor(args[2])], axis=int(args[1]) % args[0].rank)


@lowers("aten.embedding")
def embedding(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    return lo.emit("Gather", [args[0], lo.tensor(args[1])], axis=0)


@lowers("aten.scaled_dot_product_attention")
def attention(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    """``softmax(q @ k^T * scale + mask) @ v``, the math the op defines (dropout is off in inference).

    With ``enable_gqa`` (fewer key/value heads than query heads) each KV head serves a group of query
    heads: the queries are grouped on a new axis and K and V broadcast over it, no copy."""
    q, k, v = args[:3]
    mask, causal = _arg(args, kwargs, 3, "attn_mask"), bool(_arg(args, kwargs, 5, "is_causal", False))
    scale = _arg(args, kwargs, 6, "scale") or 1 / math.sqrt(q.shape[-1])
    mask = lo.tensor(mask) if mask is not None else None  # a small known mask is a constant
    heads, kv_heads = (q.shape[-3], k.shape[-3]) if q.rank >= 3 else (1, 1)
    group = heads // kv_heads if heads != kv_heads and _arg(args, kwargs, 7, "enable_gqa", False) else 1
    if group > 1:
        q = lo.reshape(q, (*q.shape[:-3], kv_heads, group, *q.shape[-2:]))
        k, v = (lo.reshape(y, (*y.shape[:-2], 1, *y.shape[-2:]), "Unsqueeze") for y in (k, v))
        if mask is not None and mask.rank >= 3:
            split = (kv_heads, group) if mask.shape[-3] == heads else (1, 1)
            mask = lo.reshape(mask, (*mask.shape[:-3], *split, *mask.shape[-2:]))
    t, s = q.shape[-2], k.shape[-2]
    scores_shape = (*q.shape[:-1], s)
    k_t = lo.transpose(k, [*range(k.rank - 2), k.rank - 1, k.rank - 2])
    scores = Ref(lo.op("MatMul", [q, k_t]), scores_shape, q.dtype)
    scores = Ref(lo.op("Mul", [scores, lo.tensor(float(scale), q)]), scores_shape, q.dtype)
    if causal and t > 1:
        mask = Ref(lo.g.param("causal_mask", [t, s], q.dtype), (t, s), q.dtype, parameter=True)
    if mask is not None:
        op_type = "Where" if mask.dtype == "bool" else "Add"
        inputs = [mask, scores, lo.tensor(float("-inf"), q)] if op_type == "Where" else [scores, mask]
        scores = Ref(lo.op(op_type, inputs), scores_shape, q.dtype)
    probs = Ref(lo.op("Softmax", [scores], axis=-1), scores_shape, q.dtype)
    if group == 1:
        return lo.emit("MatMul", [probs, v])
    heads_out = Ref(lo.op("MatMul", [probs, v]), (*q.shape[:-1], v.shape[-1]), q.dtype)
    return lo.reshape(heads_out, lo.out_shape())


@lowers("aten.full", "aten.ones", "aten.zeros", "aten.full_like", "aten.ones_like", "aten.zeros_like")
def fill(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    """A large fill (small ones are evaluated): ``ConstantOfShape``."""
    key = op_key(lo.node.target)
    value = {"ones": 1, "zeros": 0}.get(key.removeprefix("aten.").removesuffix("_like"))
    value = _arg(args, kwargs, 1, "fill_value") if value is None else value
    dtype = lo.out_dtype()
    fill_value = torch.tensor([value], dtype=lo.meta().dtype).numpy()
    from onnx import numpy_helper

    return lo.emit("ConstantOfShape", [lo.ints(lo.out_shape())], value=numpy_helper.from_array(fill_value, f"{dtype}"))


@lowers("aten.tril", "aten.triu")
def trilu(lo: Lowering, args: Sequence[Any], kwargs: dict[str, Any]) -> Ref:
    upper = int(op_key(lo.node.target) == "aten.triu")
    return lo.emit("Trilu", [args[0], lo.ints([int(_arg(args, kwargs, 1, "diagonal", 0))])], upper=upper)


# -- the program ---------------------------------------------------------------------------------------
def lower(program: ExportedProgram, name: str, source: str) -> OnnxGraph:
    """The ONNX graph of ``program``'s user inputs and outputs; its graph inputs are the user inputs."""
    lo = Lowering(program, name, source)
    graph = program.graph_module.graph
    check_supported(graph.nodes, source)
    kinds = {spec.arg.name: spec for spec in program.graph_signature.input_specs}
    for node in graph.nodes:
        lo.node = node
        if node.op == "placeholder":
            lo.values[node.name] = placeholder(lo, node, kinds.get(node.name))
        elif node.op == "call_function":
            lo.values[node.name] = call(lo, node)
    outputs = [s.arg.name for s in program.graph_signature.output_specs if s.kind == OutputKind.USER_OUTPUT]
    for output in outputs:
        value = lo.values[output]
        if not isinstance(value, Ref):
            raise InputError(Problem(f"output {output!r} does not depend on any input", file=source))
        lo.g.output(value.name)
    return lo.g


def placeholder(lo: Lowering, node: Any, spec: Any) -> Any:
    value = lo.meta(node)
    if not isinstance(value, torch.Tensor):
        return value  # a Python scalar input
    shape, dtype = lo.static(value.shape), dtype_name(value.dtype, lo.field(node))
    kind = spec.kind if spec is not None else InputKind.USER_INPUT
    if kind == InputKind.USER_INPUT:
        return Ref(lo.g.input(node.name, shape, dtype), shape, dtype)
    known = _known_value(lo.program, spec) if kind != InputKind.PARAMETER else None
    if known is not None and known.numel() <= SMALL:
        return known
    return Ref(lo.g.param(spec.target or node.name, shape, dtype), shape, dtype, parameter=True)


def _known_value(program: ExportedProgram, spec: Any) -> torch.Tensor | None:
    found = program.state_dict.get(spec.target)
    if found is None:
        found = program.constants.get(spec.target)
    return found.detach() if isinstance(found, torch.Tensor) else None


def call(lo: Lowering, node: Any) -> Any:
    args = _substitute(lo, node.args)
    kwargs = _substitute(lo, node.kwargs)
    if node.target is operator.getitem:
        return args[0][args[1]]
    if _evaluable(node, args, kwargs):
        return node.target(*args, **kwargs)
    return ATEN_OPS[op_key(node.target)](lo, args, kwargs)


def _substitute(lo: Lowering, value: Any) -> Any:
    import torch.fx

    if isinstance(value, torch.fx.Node):
        return lo.values[value.name]
    if isinstance(value, list | tuple):
        return type(value)(_substitute(lo, v) for v in value)
    if isinstance(value, dict):
        return {k: _substitute(lo, v) for k, v in value.items()}
    return value


def _evaluable(node: Any, args: Any, kwargs: Any) -> bool:
    """No input is an ONNX tensor and the result is small: torch computes it."""
    flat = [*_flatten(args), *_flatten(kwargs.values())]
    if any(isinstance(v, Ref) for v in flat):
        return False
    value = node.meta.get("val")
    values = value if isinstance(value, list | tuple) else [value]
    return all(isinstance(v, torch.Tensor) and v.numel() <= SMALL for v in values)


def _flatten(values: Iterable[Any]) -> Iterable[Any]:
    for value in values:
        if isinstance(value, list | tuple):
            yield from _flatten(value)
        else:
            yield value


def check_supported(nodes: Iterable[Any], source: str) -> None:
    """One :class:`InputError` naming every ATen op without a lowering, its node count and nodes."""
    missing: dict[str, list[str]] = {}
    for node in nodes:
        if node.op == "call_function" and node.target is not operator.getitem and op_key(node.target) not in ATEN_OPS:
            missing.setdefault(op_key(node.target), []).append(node.name)
    if not missing:
        return
    problems = [
        Problem(
            f"no lowering for ATen op {key!r}, used by {len(names)} node{'s' if len(names) > 1 else ''}: "
            + ", ".join(repr(n) for n in names[:5])
            + (f" and {len(names) - 5} more" if len(names) > 5 else ""),
            file=source,
            field=f"graph.{names[0]}",
        )
        for key, names in missing.items()
    ]
    problems.append(Problem(f"ops with a lowering: {', '.join(sorted(ATEN_OPS))}", file=source))
    raise InputError(problems)
