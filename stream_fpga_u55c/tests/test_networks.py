"""Whole networks compile for the U55C and their C simulation equals onnxruntime: a small CNN (biased
convolutions, BatchNorm, MaxPool, residual Add, GlobalAveragePool, Gemm classifier), a MobileNetV2
inverted-residual block (depthwise-separable), a GPT-2 decoder block and a Llama decoder block (RMSNorm as
exporters write it, RoPE, grouped-query attention through Unsqueeze/Expand/Reshape, SwiGLU). A model
without weight values (Stream's weight-cleared files, a ``block:`` spec) compiles with generated weights
and says so; with those weights put into the model, onnxruntime agrees with the C simulation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from stream_blocks.api import OnnxGraph, block_workload
from stream_fpga_u55c.compile import CompileOptions, compile_workload
from stream_fpga_u55c.testing import build_csim, run_csim
from stream_itensor.api import streaming_context

from stream_core.context import RunContext
from stream_core.outputs import write_files
from stream_fpga_u55c import examples

RTOL, ATOL = 1e-4, 2e-5
CSIM_FLAGS = ["-std=c++17", "-Wall", "-Werror", "-Wno-unknown-pragmas", "-O1", "-pthread", "-DSTREAM_CSIM"]


class Graph:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def w(self, name: str, shape: list[int], low: float = -0.5, high: float = 0.5) -> str:
        value = self.rng.uniform(low, high, size=shape).astype(np.float32)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def c(self, name: str, value: Any) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def n(self, op: str, inputs: list[str], out: str, **attributes: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attributes))
        return out

    def bn(self, x: str, channels: int, name: str) -> str:
        stats = [self.w(f"{name}.{p}", [channels]) for p in ("gamma", "beta", "mean")]
        return self.n("BatchNormalization", [x, *stats, self.w(f"{name}.var", [channels], 0.5, 1.5)], name)

    def save(self, path: Path, inputs: dict[str, list[int]], outputs: list[str], opset: int = 17) -> Path:
        graph = helper.make_graph(
            self.nodes,
            path.stem,
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
            [helper.make_empty_tensor_value_info(n) for n in outputs],
            self.initializers,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 9
        onnx.save(onnx.shape_inference.infer_shapes(model), path)
        return path


def cnn(path: Path) -> Path:
    g = Graph(1)

    def conv_bn(x: str, c_in: int, name: str) -> str:
        conv = g.n("Conv", [x, g.w(f"{name}.w", [8, c_in, 3, 3]), g.w(f"{name}.b", [8])], name, pads=[1] * 4)
        return g.bn(conv, 8, f"{name}.bn")

    x = g.n("Relu", [conv_bn("x", 3, "c1")], "r1")
    p = g.n("MaxPool", [x], "pool", kernel_shape=[2, 2], strides=[2, 2])
    y = conv_bn(g.n("Relu", [conv_bn(p, 8, "c2")], "r2"), 8, "c3")
    y = g.n("Relu", [g.n("Add", [y, p], "residual")], "r3")
    y = g.n("Flatten", [g.n("GlobalAveragePool", [y], "gap")], "flat")
    g.n("Gemm", [y, g.w("fc.w", [10, 8]), g.w("fc.b", [10])], "logits", transB=1)
    return g.save(path, {"x": [1, 3, 12, 12]}, ["logits"])


def mobilenet(path: Path) -> Path:
    """MobileNetV2 inverted residual: 1x1 expand, 3x3 depthwise, 1x1 project, each with BatchNorm (Relu6 as
    Clip after the first two), and the residual Add."""
    g = Graph(2)
    relu6 = [g.c("zero", np.float32(0.0)), g.c("six", np.float32(6.0))]
    e = g.n("Clip", [g.bn(g.n("Conv", ["x", g.w("expand.w", [24, 8, 1, 1])], "expand"), 24, "bn_e"), *relu6], "e6")
    d = g.n("Conv", [e, g.w("dw.w", [24, 1, 3, 3])], "dw", group=24, pads=[1] * 4)
    d = g.n("Clip", [g.bn(d, 24, "bn_d"), *relu6], "d6")
    p = g.bn(g.n("Conv", [d, g.w("project.w", [8, 24, 1, 1])], "project"), 8, "bn_p")
    g.n("Add", ["x", p], "out")
    return g.save(path, {"x": [1, 8, 8, 8]}, ["out"])


def llama(path: Path, b: int = 1, t: int = 4, d: int = 32, h: int = 4, kvh: int = 2, ffn: int = 48) -> Path:
    """A Llama decoder block as exporters write it."""
    hd, group = d // h, h // kvh
    g = Graph(3)

    def i64(name: str, value: list[int]) -> str:
        return g.c(name, np.array(value, dtype=np.int64))

    def rmsnorm(x: str, name: str) -> str:
        sq = g.n("Pow", [x, g.c(f"{name}.two", np.float32(2.0))], f"{name}.sq")
        ms = g.n("ReduceMean", [sq, i64(f"{name}.axes", [-1])], f"{name}.ms", keepdims=1)
        root = g.n("Sqrt", [g.n("Add", [ms, g.c(f"{name}.eps", np.float32(1e-5))], f"{name}.mse")], f"{name}.rms")
        return g.n("Mul", [g.n("Div", [x, root], f"{name}.div"), g.w(f"{name}.w", [d], 0.5, 1.5)], name)

    def heads(x: str, n: int, name: str) -> str:
        shaped = g.n("Reshape", [x, i64(f"{name}.shape", [b, t, n, hd])], f"{name}.r")
        return g.n("Transpose", [shaped], f"{name}.t", perm=[0, 2, 1, 3])

    def rope(x: str, name: str) -> str:
        half = hd // 2
        last = i64(f"{name}.axis", [-1])
        first = g.n("Slice", [x, i64(f"{name}.s0", [0]), i64(f"{name}.e0", [half]), last], f"{name}.x1")
        second = g.n("Slice", [x, i64(f"{name}.s1", [half]), i64(f"{name}.e1", [hd]), last], f"{name}.x2")
        rotated = g.n("Concat", [g.n("Neg", [second], f"{name}.neg"), first], f"{name}.rot", axis=-1)
        cos, sin = g.w(f"{name}.cos", [t, hd], -1, 1), g.w(f"{name}.sin", [t, hd], -1, 1)
        return g.n("Add", [g.n("Mul", [x, cos], f"{name}.xc"), g.n("Mul", [rotated, sin], f"{name}.rs")], name)

    def repeat_kv(x: str, name: str) -> str:
        wide = g.n("Unsqueeze", [x, i64(f"{name}.ax", [2])], f"{name}.u")
        wide = g.n("Expand", [wide, i64(f"{name}.to", [b, kvh, group, t, hd])], f"{name}.e")
        return g.n("Reshape", [wide, i64(f"{name}.shape", [b, h, t, hd])], name)

    n1 = rmsnorm("x", "norm1")
    q = rope(heads(g.n("MatMul", [n1, g.w("q.w", [d, h * hd])], "q"), h, "qh"), "q.rope")
    k = rope(heads(g.n("MatMul", [n1, g.w("k.w", [d, kvh * hd])], "k"), kvh, "kh"), "k.rope")
    v = heads(g.n("MatMul", [n1, g.w("v.w", [d, kvh * hd])], "v"), kvh, "vh")
    k, v = repeat_kv(k, "k.rep"), repeat_kv(v, "v.rep")
    scores = g.n("MatMul", [q, g.n("Transpose", [k], "kT", perm=[0, 1, 3, 2])], "scores")
    scores = g.n("Mul", [scores, g.c("scale", np.float32(1 / np.sqrt(hd)))], "scaled")
    mask = np.triu(np.full((t, t), -1e4, dtype=np.float32), 1)
    probs = g.n("Softmax", [g.n("Add", [scores, g.c("mask", mask)], "masked")], "probs", axis=-1)
    ctx = g.n("Transpose", [g.n("MatMul", [probs, v], "ctx")], "ctx.t", perm=[0, 2, 1, 3])
    ctx = g.n("Reshape", [ctx, i64("ctx.shape", [b, t, d])], "ctx.r")
    x1 = g.n("Add", ["x", g.n("MatMul", [ctx, g.w("o.w", [d, d])], "o")], "residual1")
    n2 = rmsnorm(x1, "norm2")
    gate = g.n("MatMul", [n2, g.w("gate.w", [d, ffn])], "gate")
    silu = g.n("Mul", [gate, g.n("Sigmoid", [gate], "gate.sig")], "silu")
    hidden = g.n("Mul", [silu, g.n("MatMul", [n2, g.w("up.w", [d, ffn])], "up")], "hidden")
    g.n("Add", [x1, g.n("MatMul", [hidden, g.w("down.w", [ffn, d])], "down")], "out")
    return g.save(path, {"x": [b, t, d]}, ["out"], opset=18)


def gpt2(path: Path) -> Path:
    return examples.decoder_block(path, seq=8, hidden=64, heads=4)


NETWORKS = {"cnn": cnn, "mobilenet": mobilenet, "gpt2": gpt2, "llama": llama}


def simulate(project: Path, tmp: Path, seed: int = 5) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Seeded inputs through the C simulation: (inputs, outputs) by tensor name."""
    binary = project / "csim.bin"
    build = build_csim(project, binary, CSIM_FLAGS)
    _, err = build.communicate()
    assert build.returncode == 0, f"g++ failed:\n{err}"
    run = run_csim(project, binary, tmp, seed)
    assert run.result.returncode == 0, run.result.stderr
    return run.feeds, run.outputs


def onnxruntime(model: Path | onnx.ModelProto, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds), strict=True))


def compile_to(model: Path | str, project: Path, context: RunContext) -> Any:
    compiled = compile_workload(model if isinstance(model, Path) else Path(model), context, CompileOptions())
    write_files(project, compiled.files)
    return compiled


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_network_matches_onnxruntime(tmp_path: Path, context: RunContext, name: str) -> None:
    model = NETWORKS[name](tmp_path / f"{name}.onnx")
    compile_to(model, tmp_path / "project", context)
    feeds, outputs = simulate(tmp_path / "project", tmp_path / "run")
    expected = onnxruntime(model, feeds)
    for tensor, value in outputs.items():
        np.testing.assert_allclose(value, expected[tensor], rtol=RTOL, atol=ATOL)
        assert np.abs(expected[tensor]).max() > 0.05


def _cleared(model: Path, path: Path) -> Path:
    """``model`` with every float initializer's values removed, as Stream's example files are."""
    proto = onnx.load(model)
    for tensor in proto.graph.initializer:
        if tensor.data_type == TensorProto.FLOAT and len(tensor.dims) > 0:
            cleared = TensorProto(name=tensor.name, data_type=tensor.data_type, dims=list(tensor.dims))
            tensor.CopyFrom(cleared)
    onnx.save(proto, path)
    return path


def test_model_without_weight_values_compiles_with_generated_weights(tmp_path: Path, context: RunContext) -> None:
    model = _cleared(mobilenet(tmp_path / "full.onnx"), tmp_path / "cleared.onnx")
    context = RunContext(plugins=context.plugins)
    compiled = compile_to(model, tmp_path / "project", context)
    generated = compiled.prepared.weights.generated
    assert "dw.w" in generated and "bn_p.var" in generated and "zero" not in generated  # scalars keep values
    assert any("generated weights" in w and "dw.w" in w for w in context.warnings)
    estimates = json.loads((tmp_path / "project" / "estimates.json").read_text())
    assert estimates["weights"]["generated"] == list(generated)
    from stream_fpga_u55c.backend import summary

    assert "GENERATED" in summary(compiled)
    # the generated values are real weights: put them into the model and onnxruntime agrees
    manifest = json.loads((tmp_path / "project" / "project.json").read_text())
    folded = {  # the conv weights and biases the BatchNorms were folded into, as the project stores them
        t["name"]: np.fromfile(tmp_path / "project" / t["file"], dtype="<f4").reshape(t["shape"])
        for t in manifest["tensors"]
        if t["role"] == "weight"
    }
    assert all(np.array_equal(v.ravel(), compiled.prepared.weights.values[k].ravel()) for k, v in folded.items())
    values = compiled.prepared.weights.values
    proto = onnx.load(model)
    for tensor in proto.graph.initializer:
        if tensor.name in values:
            tensor.CopyFrom(numpy_helper.from_array(values[tensor.name], tensor.name))
    feeds, outputs = simulate(tmp_path / "project", tmp_path / "run")
    np.testing.assert_allclose(outputs["out"], onnxruntime(proto, feeds)["out"], rtol=RTOL, atol=ATOL)


def test_block_spec_compiles_with_generated_weights_and_simulates(tmp_path: Path, context: RunContext) -> None:
    """stream-blocks' Llama layer carries no weight values: every parameter is generated, the summary says
    so, and the design runs in C simulation without deadlock to finite outputs."""
    spec = tmp_path / "llama.block"
    spec.write_text("llama?b=1&t=4&d=32&h=4&kvh=2&ffn=48\n")
    context = RunContext(plugins=context.plugins)
    compiled = compile_to(spec, tmp_path / "project", context)
    generated = compiled.prepared.weights.generated
    assert {"attn.q.weight", "mlp.down.weight", "norm1.weight"} <= set(generated)
    assert any("generated weights" in w for w in context.warnings)
    _, outputs = simulate(tmp_path / "project", tmp_path / "run")
    (value,) = outputs.values()
    assert value.shape == (1, 4, 32) and np.isfinite(value).all() and np.abs(value).max() > 0.05


#: Blocks whose searched tiling iterates the same loops in the same orders as at d=768, t=64 (GPT-2: every
#: kernel; Llama: 34 of 46, the rest reordered otherwise), small enough for a C simulation of seconds.
SEARCHED_BLOCKS = ["gpt2?d=256&t=16&h=4", "llama?d=256&h=4&kvh=2&ffn=512&t=16"]


@pytest.mark.slow
@pytest.mark.parametrize("spec", SEARCHED_BLOCKS)
def test_searched_block_with_reordered_loops_matches_onnxruntime(
    tmp_path: Path, context: RunContext, monkeypatch: pytest.MonkeyPatch, spec: str
) -> None:
    """The tiling search's design (tiles of 64, loops reordered against the node's order, reductions
    iterated outside output loops) of a stream-blocks block equals onnxruntime on the block's own ONNX
    model, with the generated weights put into it (~20 s each)."""
    built: list[onnx.ModelProto] = []
    model = OnnxGraph.model

    def keep(self: OnnxGraph, *args: Any, **kwargs: Any) -> onnx.ModelProto:  # the block's ONNX model
        built.append(model(self, *args, **kwargs))
        return built[-1]

    monkeypatch.setattr(OnnxGraph, "model", keep)
    compiled = compile_workload(block_workload(spec, streaming_context(context)), context, CompileOptions())
    reordered = []
    for k in compiled.plan.graph.kernels:
        iterated = [loop.name for loop in k.loops if loop.tripcount > 1]
        if iterated != [n for n in k.node.loop_names if n in iterated]:
            reordered.append(k.name)
    assert len(reordered) >= 10 and any(loop.tile == 64 for k in compiled.plan.graph.kernels for loop in k.loops)
    write_files(tmp_path / "project", compiled.files)
    (proto,) = built
    values = compiled.prepared.weights.values
    for tensor in proto.graph.initializer:
        if tensor.name in values:
            dtype = helper.tensor_dtype_to_np_dtype(tensor.data_type)
            value = np.asarray(values[tensor.name], dtype=dtype).reshape(list(tensor.dims))
            tensor.CopyFrom(numpy_helper.from_array(value, tensor.name))
    feeds, outputs = simulate(tmp_path / "project", tmp_path / "run")
    expected = onnxruntime(proto, feeds)
    for tensor, value in outputs.items():
        np.testing.assert_allclose(value, expected[tensor], rtol=RTOL, atol=ATOL)
        assert np.abs(expected[tensor]).max() > 0.05
