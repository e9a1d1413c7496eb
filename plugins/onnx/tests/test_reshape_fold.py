"""Affine reshapes folded into their readers, as Stream 2.1.1 folds them, and where they stay nodes."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from stream_core.ir import NodeKind

F32 = TensorProto.FLOAT


def conv_flatten_gemm(model, flat_is_output: bool = False):
    """Conv(2->4, 1x1) on 4x4 -> Flatten [1, 64] -> Gemm(64 -> 10)."""
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
        helper.make_node("Flatten", ["c"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fc"], ["y"], name="fc"),
    ]
    inits = {"w": np.ones((4, 2, 1, 1), np.float32), "fc": np.ones((64, 10), np.float32)}
    outputs = {"y": (F32, [1, 10])} | ({"f": (F32, [1, 64])} if flat_is_output else {})
    return model(nodes, {"x": (F32, [1, 2, 4, 4])}, outputs, initializers=inits)


def test_flatten_folds_into_the_gemm_whose_reduction_loop_splits_per_axis(model, parse):
    w = parse(conv_flatten_gemm(model))
    assert [n.name for n in w.nodes] == ["conv", "fc"] and "f" not in w.tensors
    fc = w.node("fc")
    # C (64) walks the flattened axis C*H*W = 4*4*4: it keeps its place as the channel loop (4), the
    # row and column loops (4 each) are appended
    assert fc.sizes == {"D": 1, "C": 4, "K": 10, "C_1": 4, "C_2": 4}
    assert [str(e) for e in fc.reads[0].access] == ["0", "C", "C_1", "C_2"]  # c [1, 4, 4, 4]
    assert [str(e) for e in fc.reads[1].access] == ["16*C + 4*C_1 + C_2", "K"]  # fc row c*16 + h*4 + w
    assert fc.macs == 64 * 10 and fc.reduction_dims == ("C", "C_1", "C_2")
    assert [n.name for n in w.predecessors("fc")] == ["conv"]


def test_the_fold_reads_every_element_once(model, parse):
    """Every point of the folded Gemm reads a distinct (input, weight) pair: 640 points, 64 inputs."""
    fc = parse(conv_flatten_gemm(model)).node("fc")
    sizes = fc.sizes
    points = np.indices([sizes[n] for n in fc.loop_names]).reshape(len(sizes), -1).T
    reads = set()
    for point in points:
        at = dict(zip(fc.loop_names, point.tolist(), strict=True))
        reads.add(tuple(tuple(e.evaluate(at) for e in op.access) for op in fc.reads))
    assert len(reads) == 640 and len({r[0] for r in reads}) == 64 and len({r[1] for r in reads}) == 640
    assert max(r[1][0] for r in reads) == 63


def test_a_flatten_that_is_a_graph_output_or_switched_off_stays_a_node(model, parse):
    kept = parse(conv_flatten_gemm(model, flat_is_output=True))
    assert kept.node("flat").kind is NodeKind.DATA_MOVEMENT and kept.node("fc").sizes == {"D": 1, "C": 64, "K": 10}
    off = parse(conv_flatten_gemm(model), fold_reshape="false")
    assert [n.name for n in off.nodes] == ["conv", "flat", "fc"]


def test_a_split_axis_read_through_a_window_stays_a_node(model, parse):
    """[1, 64] -> [1, 4, 4, 4] -> 3x3 conv with padding: the window would wrap across rows of the
    flat axis, so the Reshape is not folded; a Relu reader (plain loops) folds."""
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["r"], name="unflat"),
        helper.make_node("Conv", ["r", "w"], ["y"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    ]
    inits = {"shape": np.array([1, 4, 4, 4], np.int64), "w": np.ones((2, 4, 3, 3), np.float32)}
    w = parse(model(nodes, {"x": (F32, [1, 64])}, {"y": (F32, [1, 2, 4, 4])}, initializers=inits))
    assert [n.name for n in w.nodes] == ["unflat", "conv"]
    relu = [helper.make_node("Reshape", ["x", "shape"], ["r"], name="unflat"), helper.make_node("Relu", ["r"], ["y"])]
    w = parse(model(relu, {"x": (F32, [1, 64])}, {"y": (F32, [1, 4, 4, 4])}, initializers={"shape": inits["shape"]}))
    (node,) = w.nodes
    assert [str(e) for e in node.reads[0].access] == ["0", "16*C + 4*OY + OX"]
