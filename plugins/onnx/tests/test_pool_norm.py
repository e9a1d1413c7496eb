"""Pools, BatchNormalization, Softmax, Layer/RMS normalisation and reductions."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from stream_core.errors import InputError
from stream_core.ir import OperandRole

F32 = TensorProto.FLOAT


def accesses(node):
    return {op.tensor: [str(e) for e in op.access] for op in node.operands}


def single(model, parse, node, x_shape, y_shape, opset=18, **extra):
    return parse(
        model([node], {"x": (F32, x_shape), **extra.pop("inputs", {})}, {"y": (F32, y_shape)}, opset=opset, **extra)
    )


def test_maxpool_loops_and_window(model, parse):
    # 3x3 stride 2 pad 1 on 112 -> 56 (ResNet stem)
    node = helper.make_node(
        "MaxPool", ["x"], ["y"], name="pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]
    )
    pool = single(model, parse, node, [1, 64, 112, 112], [1, 64, 56, 56]).node("pool")
    assert [(loop.name, loop.size) for loop in pool.loops] == [
        ("B", 1), ("K", 64), ("OY", 56), ("OX", 56), ("FY", 3), ("FX", 3)
    ]  # fmt: skip
    assert pool.iteration_points == 64 * 56 * 56 * 9 and pool.macs == 0
    assert accesses(pool) == {"x": ["B", "K", "2*OY + FY - 1", "2*OX + FX - 1"], "y": ["B", "K", "OY", "OX"]}
    assert pool.reduction_dims == ("FY", "FX")


def test_ceil_mode_window_is_clipped_to_the_input(model, parse):
    # in 6, k 2, s 2, ceil_mode: out = ceil((6-2)/2)+1 = 3; in 5 -> ceil(3/2)+1 = 3 (last window half outside)
    node = helper.make_node("AveragePool", ["x"], ["y"], name="pool", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    w = single(model, parse, node, [1, 1, 5, 5], [1, 1, 3, 3])
    pool = w.node("pool")
    assert pool.attribute("ceil_mode") == 1
    assert pool.footprint_elements(pool.operands[0], w.tensor("x")) == 25  # rows/cols 0..5 clipped to 0..4


def test_pool_1d(model, parse):
    node = helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[3], strides=[1])
    pool = single(model, parse, node, [2, 4, 10], [2, 4, 8]).node("pool")
    assert pool.loop_names == ("B", "K", "OX", "FX")
    assert accesses(pool)["x"] == ["B", "K", "OX + FX"]


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
def test_global_pool(model, parse, op):
    node = helper.make_node(op, ["x"], ["y"], name="gap")
    gap = single(model, parse, node, [1, 512, 7, 7], [1, 512, 1, 1]).node("gap")
    assert [(loop.name, loop.size) for loop in gap.loops] == [
        ("B", 1), ("C", 512), ("OY", 1), ("OX", 1), ("IY", 7), ("IX", 7)
    ]  # fmt: skip
    assert accesses(gap) == {"x": ["B", "C", "IY", "IX"], "y": ["B", "C", "OY", "OX"]}
    assert gap.iteration_points == 512 * 49


def test_batch_norm(model, parse):
    params = {t: np.ones(8, np.float32) for t in ("s", "b", "m", "v")}
    node = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn", epsilon=1e-3)
    bn = single(model, parse, node, [2, 8, 5, 5], [2, 8, 5, 5], initializers=params).node("bn")
    assert [(loop.name, loop.size) for loop in bn.loops] == [("B", 2), ("C", 8), ("OY", 5), ("OX", 5)]
    assert accesses(bn) == {
        "x": ["B", "C", "OY", "OX"], "s": ["C"], "b": ["C"], "m": ["C"], "v": ["C"], "y": ["B", "C", "OY", "OX"]
    }  # fmt: skip
    assert [op.role for op in bn.operands] == [OperandRole.INPUT, *[OperandRole.WEIGHT] * 4, OperandRole.OUTPUT]
    assert bn.attribute("epsilon") == pytest.approx(1e-3)


def test_batch_norm_training_mode_is_rejected(model, parse):
    params = {t: np.ones(8, np.float32) for t in ("s", "b", "m", "v")}
    outputs = ["y", "running_mean", "running_var"]
    node = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], outputs, name="bn", training_mode=1)
    with pytest.raises(InputError, match="training_mode=1 is not supported"):
        single(model, parse, node, [2, 8, 5, 5], [2, 8, 5, 5], initializers=params)


@pytest.mark.parametrize(
    ("opset", "axis", "expected_axis", "reduction"),
    [(13, None, 2, ("K",)), (13, 1, 1, ("D",)), (11, None, 1, ("D", "K"))],
)
def test_softmax_reduction_loops(model, parse, opset, axis, expected_axis, reduction):
    attrs = {} if axis is None else {"axis": axis}
    node = helper.make_node("Softmax", ["x"], ["y"], name="sm", **attrs)
    sm = single(model, parse, node, [2, 4, 6], [2, 4, 6], opset=opset).node("sm")
    assert [(loop.name, loop.size) for loop in sm.loops] == [("B", 2), ("D", 4), ("K", 6)]
    assert sm.iteration_points == 48  # one point per element
    assert sm.attribute("axis") == expected_axis and sm.protected_loops == reduction
    assert accesses(sm) == {"x": ["B", "D", "K"], "y": ["B", "D", "K"]}


def test_layer_norm_normalises_trailing_axes_with_broadcast_weights(model, parse):
    node = helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], name="ln", axis=-2, epsilon=1e-6)
    params = {"g": np.ones((4, 6), np.float32), "b": np.zeros((6,), np.float32)}
    ln = single(model, parse, node, [2, 4, 6], [2, 4, 6], initializers=params).node("ln")
    assert ln.protected_loops == ("D", "K") and ln.attribute("axis") == 1
    assert accesses(ln) == {"x": ["B", "D", "K"], "g": ["D", "K"], "b": ["K"], "y": ["B", "D", "K"]}
    assert {op.tensor: op.role for op in ln.operands}["g"] is OperandRole.WEIGHT
    assert ln.iteration_points == 48


def test_rms_norm(model, parse):
    node = helper.make_node("RMSNormalization", ["x", "g"], ["y"], name="rms")
    w = single(model, parse, node, [3, 16], [3, 16], opset=23, initializers={"g": np.ones(16, np.float32)})
    assert w.node("rms").protected_loops == ("K",)
    assert accesses(w.node("rms"))["g"] == ["K"]


@pytest.mark.parametrize(
    ("opset", "keepdims", "y_shape", "y_access"),
    [
        (17, 1, [2, 1, 1, 5], ["B", "0", "0", "OX"]),  # axes as an attribute
        (18, 1, [2, 1, 1, 5], ["B", "0", "0", "OX"]),  # axes as a constant input
        (18, 0, [2, 5], ["B", "OX"]),
    ],
)
def test_reduce_mean_axes_attribute_or_input(model, parse, opset, keepdims, y_shape, y_access):
    if opset < 18:
        node = helper.make_node("ReduceMean", ["x"], ["y"], name="mean", axes=[1, -2], keepdims=keepdims)
        inits = {}
    else:
        node = helper.make_node("ReduceMean", ["x", "axes"], ["y"], name="mean", keepdims=keepdims)
        inits = {"axes": np.array([1, -2], np.int64)}
    w = single(model, parse, node, [2, 3, 4, 5], y_shape, opset=opset, initializers=inits)
    mean = w.node("mean")
    assert [(loop.name, loop.size) for loop in mean.loops] == [("B", 2), ("C", 3), ("OY", 4), ("OX", 5)]
    assert accesses(mean) == {"x": ["B", "C", "OY", "OX"], "y": y_access}
    assert mean.reduction_dims == ("C", "OY") and mean.iteration_points == 120
    assert mean.attribute("axes") == (1, 2)
    assert "axes" not in w.tensors  # a parameter, not an operand


def test_reduce_without_axes(model, parse):
    node = helper.make_node("ReduceSum", ["x"], ["y"], name="all", keepdims=0)
    assert accesses(single(model, parse, node, [3, 4], []).node("all")) == {"x": ["D", "K"], "y": []}
    noop = helper.make_node("ReduceMax", ["x"], ["y"], name="noop", noop_with_empty_axes=1)
    assert single(model, parse, noop, [3, 4], [3, 4]).node("noop").reduction_dims == ()


def test_lrn_sums_a_clipped_channel_window(model, parse):
    node = helper.make_node("LRN", ["x"], ["y"], name="lrn", size=5, alpha=1e-4, beta=0.75)
    w = single(model, parse, node, [1, 8, 4, 4], [1, 8, 4, 4])
    lrn = w.node("lrn")
    assert lrn.sizes == {"B": 1, "C": 8, "OY": 4, "OX": 4, "FC": 5} and lrn.reduction_dims == ("FC",)
    assert accesses(lrn)["x"] == ["B", "C + FC - 2", "OY", "OX"]
    assert lrn.footprint_elements(lrn.operands[0], w.tensor("x")) == 8 * 16  # the window is clipped to channels
    assert (lrn.attribute("size"), lrn.macs) == (5, 0)


def _simplified_layer_norm(model, domain):
    node = helper.make_node(
        "SimplifiedLayerNormalization", ["x", "g"], ["y"], name="rms", axis=-1, epsilon=1e-6, domain=domain
    )
    extra = [helper.make_opsetid(domain, 1)] if domain else []
    scale = np.linspace(0.5, 1.5, 16, dtype=np.float32)
    # onnx's shape inference does not know the op: exporters give its output type, as here
    return model([node], {"x": (F32, [2, 3, 16])}, {"y": (F32, [2, 3, 16])}, opset=17, initializers={"g": scale},
                 extra_opsets=extra), scale  # fmt: skip


def test_simplified_layer_norm_is_rms_norm_as_onnxruntime_computes_it(model, parse):
    """onnxruntime's export of RMSNorm: parsed like RMSNormalization (normalised axes protected, scale a
    weight on them, no MACs), and onnxruntime's output is x / sqrt(mean(x^2) + eps) * scale, its shape ours."""
    ort = pytest.importorskip("onnxruntime")
    proto, scale = _simplified_layer_norm(model, "")
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 16)).astype(np.float32)
    (y,) = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    np.testing.assert_allclose(y, x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) * scale, rtol=1e-5)
    workload = parse(proto)
    rms = workload.node("rms")
    assert workload.tensor(rms.output.tensor).shape == y.shape
    assert rms.protected_loops == ("K",) and accesses(rms)["g"] == ["K"]
    assert rms.macs == 0 and rms.iteration_points == y.size
    assert rms.attribute("epsilon") == pytest.approx(1e-6) and rms.attribute("axis") == 2
    # a com.microsoft node of that type (onnxruntime registers it in the default domain) parses the same way
    other = parse(_simplified_layer_norm(model, "com.microsoft")[0]).node("rms")
    assert (other.loops, accesses(other), other.protected_loops) == (rms.loops, accesses(rms), rms.protected_loops)
