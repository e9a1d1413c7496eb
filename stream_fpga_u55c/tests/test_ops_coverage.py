"""Every op family the ONNX frontend accepts either compiles for the U55C and its C simulation equals
onnxruntime, or is refused before code generation with an error naming the op and why.

Ops are grouped into a few small models with one graph output per case, so one compile and one g++ build
serve many tests (the builds run in parallel); each case is its own test comparing its output element-wise
with onnxruntime (rtol 1e-4, atol 1e-5, float32).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from stream_fpga_u55c.compile import CompileOptions, compile_workload
from stream_fpga_u55c.testing import build_csim, run_csim

from stream_core.context import RunContext
from stream_core.errors import InputError
from stream_core.outputs import write_files

RTOL, ATOL = 1e-4, 1e-5
CSIM_FLAGS = ["-std=c++17", "-Wall", "-Werror", "-Wno-unknown-pragmas", "-O1", "-pthread", "-DSTREAM_CSIM"]


class Model:
    """A small ONNX graph: seeded weights as initializers, one graph output per named case."""

    def __init__(self, name: str, inputs: dict[str, list[int]], seed: int = 0, opset: int = 20) -> None:
        self.name, self.inputs, self.opset = name, inputs, opset
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.outputs: list[str] = []
        self.domains: set[str] = set()
        #: Output shapes onnx's shape inference cannot know (ops onnx does not define), as exporters give them.
        self.shapes: dict[str, list[int]] = {}

    def weight(self, name: str, shape: list[int], low: float = -1.0, high: float = 1.0) -> str:
        value = self.rng.uniform(low, high, size=shape).astype(np.float32)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def const(self, name: str, value: Any) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op: str, inputs: list[str], out: str, domain: str = "", **attributes: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{out}_node", domain=domain, **attributes))
        if domain:
            self.domains.add(domain)
        return out

    def case(self, op: str, inputs: list[str], out: str, **attributes: Any) -> str:
        """A node whose output is a graph output (one test case)."""
        self.outputs.append(self.op(op, inputs, out, **attributes))
        return out

    def save(self, directory: Path) -> Path:
        graph = helper.make_graph(
            self.nodes,
            self.name,
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in self.inputs.items()],
            [
                helper.make_tensor_value_info(n, TensorProto.FLOAT, self.shapes[n])
                if n in self.shapes
                else helper.make_empty_tensor_value_info(n)
                for n in self.outputs
            ],
            self.initializers,
        )
        opsets = [helper.make_opsetid("", self.opset)] + [helper.make_opsetid(d, 1) for d in sorted(self.domains)]
        model = helper.make_model(graph, opset_imports=opsets)
        model.ir_version = 10
        model = onnx.shape_inference.infer_shapes(model)
        path = directory / f"{self.name}.onnx"
        onnx.save(model, path)
        return path


# -- the models ------------------------------------------------------------------------------------------
def unary() -> Model:
    m = Model("unary", {"x": [2, 3, 8]})
    for op in ("Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Erf", "Sin", "Cos", "Floor", "Ceil", "HardSwish"):
        m.case(op, ["x"], op.lower())
    m.case("LeakyRelu", ["x"], "leakyrelu", alpha=0.2)
    m.case("HardSigmoid", ["x"], "hardsigmoid", alpha=0.3, beta=0.4)
    m.case("Elu", ["x"], "elu", alpha=0.7)
    m.case("Gelu", ["x"], "gelu")
    m.case("Gelu", ["x"], "gelu_tanh", approximate="tanh")
    m.case("Clip", ["x", m.const("lo", np.float32(-0.3)), m.const("hi", np.float32(0.5))], "clip")
    m.case("Log", [m.op("Sigmoid", ["x"], "sig")], "log")
    m.case("Sqrt", ["sig"], "sqrt")
    m.case("Reciprocal", [m.op("Add", ["sig", m.const("one", np.float32(1.0))], "sig1")], "reciprocal")
    m.case("Mul", ["x", "sig"], "silu_decomposed")
    m.case("Cast", ["x"], "cast", to=TensorProto.FLOAT)
    return m


def binary() -> Model:
    m = Model("binary", {"x": [2, 3, 8], "y": [3, 1]})
    m.case("Add", ["x", m.weight("row", [8])], "add_row")
    m.case("Sub", ["x", "y"], "sub_col")
    m.case("Mul", ["x", m.weight("mid", [1, 3, 1])], "mul_mid")
    m.case("Div", ["x", m.weight("den", [2, 1, 8], 0.5, 1.5)], "div")
    m.case("Pow", [m.op("Abs", ["x"], "ax"), m.const("two", np.float32(2.0))], "pow")
    m.case("Max", ["x", "y", m.weight("mx", [8])], "max")
    m.case("Min", ["x", "y"], "min")
    m.case("Sum", ["x", "y", m.weight("sm", [8])], "sum")
    m.case("Mean", ["x", "y"], "mean")
    m.case("PRelu", ["x", m.weight("slope", [3, 1])], "prelu")
    return m


def contrib() -> Model:
    """ONNX Runtime's com.microsoft activations, which the frontend parses by op type."""
    m = Model("contrib", {"x": [2, 16]})
    m.outputs.append(m.op("QuickGelu", ["x"], "quickgelu", domain="com.microsoft", alpha=1.5))
    m.outputs.append(m.op("FastGelu", ["x", m.weight("fb", [16])], "fastgelu", domain="com.microsoft"))
    m.outputs.append(m.op("BiasGelu", ["x", m.weight("bb", [16])], "biasgelu", domain="com.microsoft"))
    return m


def conv() -> Model:
    m = Model("conv", {"x": [1, 4, 9, 8]})
    m.case("Conv", ["x", m.weight("w1", [6, 4, 3, 3]), m.weight("b1", [6])], "conv_bias_pad", pads=[1, 1, 1, 1])
    m.case("Conv", ["x", m.weight("w2", [5, 4, 3, 2])], "conv_stride", strides=[2, 2], pads=[1, 0, 0, 1])
    m.case("Conv", ["x", m.weight("w3", [6, 2, 3, 3]), m.weight("b3", [6])], "conv_groups", group=2, pads=[1, 1, 1, 1])
    dw = [m.weight("w4", [4, 1, 3, 3]), m.weight("b4", [4])]
    m.case("Conv", ["x", *dw], "conv_depthwise", group=4, strides=[2, 2], pads=[1, 1, 1, 1])
    m.case("Conv", ["x", m.weight("w5", [8, 4, 1, 1])], "conv_pointwise")
    m.case("Conv", ["x", m.weight("w6", [3, 4, 2, 2])], "conv_dilated", dilations=[2, 2])
    stats = [m.weight("g", [4]), m.weight("be", [4]), m.weight("mu", [4]), m.weight("var", [4], 0.5, 1.5)]
    m.case("BatchNormalization", ["x", *stats], "batchnorm", epsilon=1e-3)
    c = m.op("Conv", ["x", m.weight("w7", [3, 4, 3, 3])], "c7", pads=[1, 1, 1, 1])
    folded = [m.weight("g7", [3]), m.weight("be7", [3]), m.weight("mu7", [3]), m.weight("var7", [3], 0.5, 1.5)]
    m.case("BatchNormalization", [c, *folded], "batchnorm_folded")
    return m


def pool() -> Model:
    m = Model("pool", {"x": [1, 3, 9, 8]})
    m.case("MaxPool", ["x"], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    m.case("AveragePool", ["x"], "avgpool", kernel_shape=[2, 2], strides=[2, 2])
    m.case("AveragePool", ["x"], "avgpool_pad", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    m.case("AveragePool", ["x"], "avgpool_pad_count", kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)
    m.case("GlobalAveragePool", ["x"], "gap")
    m.case("GlobalMaxPool", ["x"], "gmp")
    return m


def linear() -> Model:
    m = Model("linear", {"x": [4, 16], "a": [2, 4, 8], "b": [2, 8, 6]})
    m.case("Gemm", ["x", m.weight("gw", [10, 16]), m.weight("gb", [10])], "gemm_bias", transB=1)
    m.case("Gemm", ["x", m.weight("gw2", [16, 5]), m.weight("gb2", [1, 5])], "gemm_scaled", alpha=0.5, beta=2.0)
    m.case("Add", [m.op("MatMul", ["x", m.weight("mw", [16, 12])], "mm"), m.weight("mb", [12])], "matmul_bias")
    m.case("MatMul", ["a", "b"], "matmul_batched")
    m.case("Einsum", ["a", "b"], "einsum", equation="bij,bjk->bik")
    m.case("Einsum", ["a"], "einsum_sum", equation="bij->bi")
    return m


def norm() -> Model:
    m = Model("norm", {"x": [2, 4, 16]}, opset=23)
    m.case("LayerNormalization", ["x", m.weight("ls", [16]), m.weight("lb", [16])], "layernorm", axis=-1)
    m.case("RMSNormalization", ["x", m.weight("rs", [16])], "rmsnorm", axis=-1, epsilon=1e-6)
    # RMSNorm as onnxruntime exports it (registered in the default domain)
    m.case("SimplifiedLayerNormalization", ["x", "rs"], "simplified_layernorm", axis=-1, epsilon=1e-6)
    m.shapes["simplified_layernorm"] = [2, 4, 16]
    # RMSNorm as exporters write it: x / sqrt(mean(x^2) + eps) * scale
    sq = m.op("Pow", ["x", m.const("p2", np.float32(2.0))], "sq")
    ms = m.op("ReduceMean", [sq, m.const("last", np.array([-1], dtype=np.int64))], "ms", keepdims=1)
    root = m.op("Sqrt", [m.op("Add", [ms, m.const("eps", np.float32(1e-6))], "mse")], "root")
    m.case("Mul", [m.op("Div", ["x", root], "normed"), m.weight("ds", [16])], "rmsnorm_decomposed")
    m.case("Softmax", ["x"], "softmax", axis=-1)
    m.case("LogSoftmax", ["x"], "logsoftmax", axis=-1)
    m.case("Softmax", ["x"], "softmax_axis1", axis=1)
    for op in ("ReduceSum", "ReduceMax", "ReduceMin"):
        m.case(op, ["x", "last"], op.lower(), keepdims=0)
    m.case("ReduceMean", ["x", m.const("mid", np.array([1], dtype=np.int64))], "reducemean", keepdims=1)
    return m


def movement() -> Model:
    m = Model("movement", {"x": [2, 3, 8], "kv": [1, 2, 3, 4]})
    m.case("Expand", ["kv", m.const("to", np.array([2, 2, 3, 4], dtype=np.int64))], "expand")
    kv5 = m.op("Unsqueeze", ["kv", m.const("ax2", np.array([2], np.int64))], "kv5")
    grouped = m.op("Expand", [kv5, m.const("to5", np.array([1, 2, 2, 3, 4], np.int64))], "kvx")
    m.case("Reshape", [grouped, m.const("heads", np.array([1, 4, 3, 4], np.int64))], "repeat_kv")
    m.case("Reshape", ["x", m.const("shape", np.array([6, 8], np.int64))], "reshape")
    m.case("Reshape", ["x", m.const("shape2", np.array([4, 12], np.int64))], "reshape_refold")
    m.case("Transpose", ["x"], "transpose", perm=[2, 0, 1])
    sizes = m.const("sizes", np.array([3, 5], np.int64))
    m.nodes.append(helper.make_node("Split", ["x", sizes], ["split0", "split1"], name="split_node", axis=2))
    m.outputs += ["split0", "split1"]
    m.case("Concat", ["x", m.op("Neg", ["x"], "nx")], "concat", axis=1)
    bounds = [m.const(f"s{i}", np.array([v], np.int64)) for i, v in enumerate((1, 7, 2, 2))]
    m.case("Slice", ["x", *bounds], "slice")
    m.case("Gather", ["x", m.const("idx", np.array(1, np.int64))], "gather", axis=1)
    m.case("Flatten", ["x"], "flatten", axis=1)
    m.case("Squeeze", ["kv", m.const("ax0", np.array([0], np.int64))], "squeeze")
    return m


MODELS: dict[str, Callable[[], Model]] = {
    f.__name__: f for f in (unary, binary, contrib, conv, pool, linear, norm, movement)
}
CASES = [(name, out) for name, build in MODELS.items() for out in build().outputs]


class Built:
    def __init__(self, model: Path, project: Path, binary: Path, process: subprocess.Popen) -> None:
        self.model, self.project, self.binary, self.process = model, project, binary, process
        self._outputs: dict[str, tuple[np.ndarray, np.ndarray]] | None = None

    def outputs(self, tmp: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per graph output: (C simulation, onnxruntime), on seeded inputs; run once."""
        if self._outputs is None:
            _, err = self.process.communicate()
            assert self.process.returncode == 0, f"g++ failed:\n{err}"
            self._outputs = run_and_compare(self.model, self.project, self.binary, tmp)
        return self._outputs


def run_and_compare(model: Path, project: Path, binary: Path, tmp: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    run = run_csim(project, binary, tmp, seed=7, timeout=120)
    assert run.result.returncode == 0, run.result.stderr
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    expected = dict(zip([o.name for o in session.get_outputs()], session.run(None, run.feeds), strict=True))
    return {name: (value, expected[name]) for name, value in run.outputs.items()}


def compile_and_build(model: Path, project: Path, context: RunContext) -> Built:
    compiled = compile_workload(model, context, CompileOptions())
    write_files(project, compiled.files)
    binary = project / "csim.bin"
    return Built(model, project, binary, build_csim(project, binary, CSIM_FLAGS))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, context: RunContext) -> dict[str, Built]:
    """Every model compiled; the g++ builds run in the background while tests wait only for theirs."""
    root = tmp_path_factory.mktemp("ops")
    return {name: compile_and_build(build().save(root), root / name, context) for name, build in MODELS.items()}


@pytest.mark.parametrize(("model", "output"), CASES, ids=[out for _, out in CASES])
def test_op_matches_onnxruntime(built: dict[str, Built], tmp_path: Path, model: str, output: str) -> None:
    got, expected = built[model].outputs(tmp_path)[output]
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    assert np.abs(expected).max() > 0.05  # a real signal, not zeros


def test_batchnorm_after_conv_is_folded(built: dict[str, Built]) -> None:
    import json

    estimates = json.loads((built["conv"].project / "estimates.json").read_text())
    assert estimates["weights"]["batchnorm_folded"] == [["batchnorm_folded_node", "c7_node"]]
    kernels = [g["kernels"] for g in json.loads((built["conv"].project / "project.json").read_text())["groups"]]
    flat = [k for ks in kernels for k in ks]
    assert "batchnorm_node" in flat and "batchnorm_folded_node" not in flat


# -- refused before code generation --------------------------------------------------------------------------
REFUSED = {
    "LRN": (lambda m: m.case("LRN", ["x"], "lrn", size=3), "local response normalisation"),
    "Trilu": (lambda m: m.case("Trilu", ["x"], "trilu"), "triangle"),
    "Equal": (lambda m: m.case("Equal", ["x", "x"], "eq"), "floating-point tensors only"),
    "Where": (
        lambda m: m.case("Where", [m.op("Greater", ["x", m.const("z", np.float32(0))], "pos"), "x", "x"], "w"),
        "floating-point tensors only",
    ),
}


@pytest.mark.parametrize("op", sorted(REFUSED))
def test_unsupported_op_is_refused_before_code_generation(
    tmp_path: Path, context: RunContext, monkeypatch: pytest.MonkeyPatch, op: str
) -> None:
    build, why = REFUSED[op]
    m = Model(f"refused_{op.lower()}", {"x": [1, 4, 4, 4]})
    build(m)
    path = m.save(tmp_path)
    import stream_fpga_u55c.compile as flow

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("planning started for a workload that cannot compile")

    monkeypatch.setattr(flow, "plan_streams", never)
    with pytest.raises(InputError) as caught:
        compile_workload(path, context, CompileOptions())
    message = str(caught.value)
    assert f"op {op!r} cannot be compiled for the U55C" in message and why in message
