"""stream-onnx's hook implementations: its own op-parser hook (:mod:`stream_onnx.hookspecs`), the ``onnx``
workload parser and one op parser per ONNX op.

Only records are built here; the parsers are imported when a model is parsed. Every record is for
the default domain; ops of other domains without a record of their own are parsed by op type
(``com.example:Silu`` by ``Silu``), so a few records are for op types that are not ai.onnx ops but
whose meaning is the same wherever they appear (``Silu``, ORT's ``FastGelu``...).
"""

from __future__ import annotations

from collections.abc import Iterator

import pluggy

from stream_core import hookimpl
from stream_core.plugins import lazy
from stream_core.records import SettingRecord, WorkloadParserRecord
from stream_onnx.hookspecs import OpParserRecord, op_parser_name

_OPS = "stream_onnx.ops"

#: op type -> (module under stream_onnx.ops, parser function, one-line description)
BUILTIN_OP_PARSERS: dict[str, tuple[str, str, str]] = {
    "Conv": ("conv", "parse_conv", "1-D/2-D convolution, grouped and depthwise (MAC)"),
    "ConvTranspose": ("conv", "parse_conv_transpose", "1-D/2-D transposed convolution, explicit pads (MAC)"),
    "Gemm": ("linear", "parse_gemm", "general matrix multiply with optional bias (MAC)"),
    "MatMul": ("linear", "parse_matmul", "batched, broadcasting matrix multiply (MAC)"),
    "MaxPool": ("pool", "parse_pool", "windowed max pooling"),
    "AveragePool": ("pool", "parse_pool", "windowed average pooling"),
    "GlobalAveragePool": ("pool", "parse_global_pool", "average over all spatial axes"),
    "GlobalMaxPool": ("pool", "parse_global_pool", "max over all spatial axes"),
    "BatchNormalization": ("norm", "parse_batch_norm", "inference batch normalisation"),
    "Softmax": ("norm", "parse_normalization", "softmax along an axis"),
    "LogSoftmax": ("norm", "parse_normalization", "log-softmax along an axis"),
    "LayerNormalization": ("norm", "parse_normalization", "layer normalisation"),
    "LRN": ("norm", "parse_lrn", "local response normalisation across channels"),
    "RMSNormalization": ("norm", "parse_normalization", "RMS normalisation"),
    "SimplifiedLayerNormalization": (
        "norm",
        "parse_normalization",
        "RMS normalisation as onnxruntime exports it (default or com.microsoft domain)",
    ),
    "ReduceMean": ("norm", "parse_reduce", "mean over axes"),
    "ReduceSum": ("norm", "parse_reduce", "sum over axes"),
    "ReduceMax": ("norm", "parse_reduce", "max over axes"),
    "ReduceMin": ("norm", "parse_reduce", "min over axes"),
    "Reshape": ("movement", "parse_reshape", "reshape (affine when the shapes share a refinement)"),
    "Flatten": ("movement", "parse_reshape", "flatten to 2-D"),
    "Squeeze": ("movement", "parse_reshape", "remove size-1 axes"),
    "Unsqueeze": ("movement", "parse_reshape", "insert size-1 axes"),
    "Transpose": ("movement", "parse_transpose", "axis permutation"),
    "Concat": ("movement", "parse_concat", "concatenation with offsets"),
    "Split": ("movement", "parse_split", "split into one node per output"),
    "Slice": ("movement", "parse_slice", "strided slice"),
    "Gather": ("movement", "parse_gather", "gather (affine for constant progressions)"),
    "Expand": ("movement", "parse_expand", "broadcast to a shape (e.g. K/V heads in grouped-query attention)"),
    "Identity": ("movement", "parse_identity", "folded away"),
    "Dropout": ("movement", "parse_identity", "inference dropout, folded away"),
    "Cast": ("elementwise", "parse_cast", "element type conversion"),
    "CastLike": ("elementwise", "parse_cast", "element type conversion to another tensor's type"),
    "ConstantOfShape": ("generate", "parse_constant_of_shape", "fill (folded into a constant when small)"),
    "Range": ("generate", "parse_range", "arithmetic progression (folded into a constant when small)"),
    "Einsum": ("einsum", "parse_einsum", "one- or two-operand Einsum (MAC for two operands)"),
}

#: Elementwise ops, all parsed by ``stream_onnx.ops.elementwise.parse_elementwise``.
ELEMENTWISE_OPS: tuple[str, ...] = (
    "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min",
    "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "Tanh", "Gelu", "Swish", "HardSwish",
    "Erf", "Exp", "Log", "Sqrt", "Reciprocal", "Neg", "Abs", "Clip",
    "Where", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or",
    "Sin", "Cos", "Floor", "Ceil", "Sum", "Mean", "PRelu", "Elu", "Trilu",
    "Silu", "QuickGelu", "FastGelu", "BiasGelu",
)  # fmt: skip


@hookimpl
def stream_add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    from stream_onnx import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def stream_register_workload_parsers() -> Iterator[WorkloadParserRecord]:
    yield WorkloadParserRecord(
        name="onnx",
        description="ONNX models: shape inference, one op parser per (domain, op type), all graph outputs",
        factory=lazy("stream_onnx.parser", "ONNXWorkloadParser"),
        suffixes=(".onnx",),
    )


@hookimpl
def stream_register_op_parsers() -> Iterator[OpParserRecord]:
    for op_type, (module, function, description) in BUILTIN_OP_PARSERS.items():
        yield OpParserRecord(
            name=op_parser_name("", op_type),
            description=description,
            factory=lazy(f"{_OPS}.{module}", function),
            domain="",
            op_type=op_type,
        )
    for op_type in ELEMENTWISE_OPS:
        yield OpParserRecord(
            name=op_parser_name("", op_type),
            description="elementwise with NumPy broadcasting",
            factory=lazy(f"{_OPS}.elementwise", "parse_elementwise"),
            domain="",
            op_type=op_type,
        )


@hookimpl
def stream_register_settings() -> Iterator[SettingRecord]:
    yield SettingRecord(name="onnx.dims", description="sizes of symbolic input dimensions, e.g. {batch: 1}")
    yield SettingRecord(
        name="onnx.data_inputs", description="graph inputs carrying data, not parameters (default: the first one)"
    )
    yield SettingRecord(
        name="onnx.fold_transpose",
        description="fold a Transpose into its readers' access, as Stream 2.1.1 does",
        choices=("true", "false"),
        default="true",
    )
    yield SettingRecord(
        name="onnx.fold_reshape",
        description="fold an affine Reshape/Flatten/Squeeze/Unsqueeze into its readers, as Stream 2.1.1 does",
        choices=("true", "false"),
        default="true",
    )
