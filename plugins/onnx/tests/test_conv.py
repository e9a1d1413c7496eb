"""Conv and ConvTranspose: loop order and sizes, MACs, exact window access, roles, groups."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from stream_core.errors import InputError
from stream_core.ir import OperandRole
from stream_core.tiling import operand_box

F32 = TensorProto.FLOAT


def conv_model(model, x_shape, w_shape, y_shape, bias=False, **attrs):
    inputs = {"x": (F32, x_shape), "w": (F32, w_shape)}
    names = ["x", "w"]
    if bias:
        inputs["b"] = (F32, [w_shape[0]])
        names.append("b")
    node = helper.make_node("Conv", names, ["y"], name="conv", **attrs)
    return model([node], inputs, {"y": (F32, y_shape)})


def accesses(node):
    return {op.tensor: [str(e) for e in op.access] for op in node.operands}


def touched(node, operand_name, tensor_shape, ranges):
    """Brute force: the set of in-bounds index tuples that ``operand_name`` touches over the loop ranges."""
    operand = next(op for op in node.operands if op.tensor == operand_name)
    grids = np.meshgrid(*(np.arange(*ranges[n]) for n in node.loop_names), indexing="ij")
    point = {n: g.reshape(-1) for n, g in zip(node.loop_names, grids, strict=True)}
    count = grids[0].size
    index = np.stack([np.broadcast_to(e.offset + sum(c * point[d] for d, c in e.terms), count) for e in operand.access])
    inside = np.all((index >= 0) & (index < np.array(tensor_shape)[:, None]), axis=0)
    return {tuple(col) for col in index[:, inside].T}


def test_conv2d_loops_follow_stream_order_and_count_macs(model, parse):
    w = parse(conv_model(model, [2, 8, 32, 32], [16, 8, 3, 3], [2, 16, 32, 32], bias=True, pads=[1, 1, 1, 1]))
    node = w.node("conv")
    assert [(loop.name, loop.size) for loop in node.loops] == [
        ("B", 2), ("OX", 32), ("OY", 32), ("FX", 3), ("FY", 3), ("C", 8), ("K", 16)
    ]  # fmt: skip
    assert node.mac_op and node.macs == 2 * 32 * 32 * 3 * 3 * 8 * 16
    assert node.resolve_dim("D6") == "K" and node.resolve_dim("D0") == "B"
    assert accesses(node) == {
        "x": ["B", "C", "OY + FY - 1", "OX + FX - 1"],
        "w": ["K", "C", "FY", "FX"],
        "b": ["K"],
        "y": ["B", "K", "OY", "OX"],
    }
    roles = {op.tensor: op.role for op in node.operands}
    assert roles == {"x": OperandRole.INPUT, "w": OperandRole.WEIGHT, "b": OperandRole.WEIGHT, "y": OperandRole.OUTPUT}
    assert node.reduction_dims == ("FX", "FY", "C")
    assert dict(node.attributes)["pads"] == (1, 1, 1, 1)


def test_non_square_stride_dilation_and_pads_map_to_the_right_axes(model, parse):
    # H: stride 2, dilation 1, pad top 2; W: stride 1, dilation 2, pad left 0 (ONNX orders [H, W]).
    # OH = (10 + 2 + 1 - 3) // 2 + 1 = 6; OW = (9 + 0 + 3 - (2*2+1)) // 1 + 1 = 8
    w = parse(
        conv_model(
            model, [1, 3, 10, 9], [4, 3, 3, 3], [1, 4, 6, 8], strides=[2, 1], dilations=[1, 2], pads=[2, 0, 1, 3]
        )
    )
    node = w.node("conv")
    assert node.sizes == {"B": 1, "OX": 8, "OY": 6, "FX": 3, "FY": 3, "C": 3, "K": 4}
    assert accesses(node)["x"] == ["B", "C", "2*OY + FY - 2", "OX + 2*FX"]


@pytest.mark.parametrize(
    ("auto_pad", "pad_top", "pad_left"),
    [("SAME_UPPER", 0, 1), ("SAME_LOWER", 1, 1), ("VALID", 0, 0)],
)
def test_auto_pad_begin_padding(model, parse, auto_pad, pad_top, pad_left):
    # H: in 8, stride 2, k 3 -> out 4, total pad (4-1)*2 + 3 - 8 = 1 (UPPER puts it at the end);
    # W: in 7, stride 1, k 3 -> out 7, total pad 2 (one each side).
    out = [1, 2, 4, 7] if auto_pad != "VALID" else [1, 2, 3, 5]
    w = parse(conv_model(model, [1, 2, 8, 7], [2, 2, 3, 3], out, strides=[2, 1], auto_pad=auto_pad))
    h_expr, w_expr = w.node("conv").operands[0].access[2:]
    assert h_expr.offset == -pad_top and w_expr.offset == -pad_left


def test_grouped_conv_adds_a_group_loop_last(model, parse):
    w = parse(conv_model(model, [1, 8, 6, 6], [12, 2, 3, 3], [1, 12, 4, 4], group=4))
    node = w.node("conv")
    assert node.loop_names == ("B", "OX", "OY", "FX", "FY", "C", "K", "G")
    assert node.sizes == {"B": 1, "OX": 4, "OY": 4, "FX": 3, "FY": 3, "C": 2, "K": 3, "G": 4}
    assert node.macs == 4 * 4 * 3 * 3 * 2 * 12  # = N*OH*OW*kH*kW*(C/g)*M
    assert accesses(node) == {
        "x": ["B", "2*G + C", "OY + FY", "OX + FX"],
        "w": ["3*G + K", "C", "FY", "FX"],
        "y": ["B", "3*G + K", "OY", "OX"],
    }
    # group g=1 of the weight reads input channels 2..3 only: the tile G=[1,2) x C=[0,2)
    x = w.node("conv").operands[0]
    ranges = {n: (0, s) for n, s in node.sizes.items()} | {"G": (1, 2)}
    assert operand_box(x, ranges, w.tensor("x"))[1] == (2, 4)


def test_depthwise_conv(model, parse):
    w = parse(conv_model(model, [1, 16, 8, 8], [16, 1, 3, 3], [1, 16, 8, 8], group=16, pads=[1, 1, 1, 1]))
    node = w.node("conv")
    assert node.sizes == {"B": 1, "OX": 8, "OY": 8, "FX": 3, "FY": 3, "C": 1, "K": 1, "G": 16}
    assert node.macs == 16 * 8 * 8 * 9
    assert accesses(node)["x"] == ["B", "G + C", "OY + FY - 1", "OX + FX - 1"]
    assert accesses(node)["y"] == ["B", "G + K", "OY", "OX"]


def test_conv1d(model, parse):
    w = parse(conv_model(model, [1, 4, 20], [6, 4, 5], [1, 6, 9], strides=[2], pads=[1, 1]))  # (20+2-5)//2+1
    node = w.node("conv")
    assert [(loop.name, loop.size) for loop in node.loops] == [("B", 1), ("OX", 9), ("FX", 5), ("C", 4), ("K", 6)]
    assert accesses(node)["x"] == ["B", "C", "2*OX + FX - 1"]


@pytest.mark.parametrize(
    ("attrs", "y_shape", "tile"),
    [
        ({"strides": [2, 2], "pads": [1, 1, 1, 1]}, [1, 2, 8, 8], {"OY": 3, "OX": 2}),
        ({"strides": [3, 1], "dilations": [2, 3], "pads": [2, 0, 0, 1]}, [1, 2, 5, 11], {"OY": 2, "OX": 4}),
        ({"strides": [4, 4]}, [1, 2, 4, 4], {"OY": 2, "OX": 3}),  # stride > window: holes between windows
    ],
)
def test_tile_footprint_matches_a_brute_force_count(model, parse, attrs, y_shape, tile):
    w = parse(conv_model(model, [1, 3, 16, 16], [2, 3, 3, 3], y_shape, **attrs))
    node = w.node("conv")
    tiled = node.with_sizes(tile)
    x = tiled.operands[0]
    expected = touched(tiled, "x", (1, 3, 16, 16), {n: (0, s) for n, s in tiled.sizes.items()})
    assert tiled.footprint_elements(x, w.tensor("x")) == len(expected)


def test_tile_in_the_middle_reads_the_exact_input_rows(model, parse):
    # stride 2, pad 1, k 3: output rows 3..5 read input rows 2*3-1 = 5 .. 2*5+2-1 = 11
    w = parse(conv_model(model, [1, 3, 16, 16], [2, 3, 3, 3], [1, 2, 8, 8], strides=[2, 2], pads=[1, 1, 1, 1]))
    node = w.node("conv")
    ranges = {n: (0, s) for n, s in node.sizes.items()} | {"OY": (3, 6), "OX": (0, 1)}
    assert operand_box(node.operands[0], ranges, w.tensor("x"))[2:] == ((5, 12), (0, 2))


def test_inconsistent_group_is_an_input_error(model, parse):
    bad = conv_model(model, [1, 8, 6, 6], [12, 3, 3, 3], [1, 12, 4, 4], group=4)
    with pytest.raises(InputError) as info:
        parse(bad)
    (problem,) = info.value.problems
    assert problem.field == "graph.node.conv.attribute.group"
    assert "group=4 does not fit the channels" in problem.message and problem.file.endswith(".onnx")


def test_conv_transpose_writes_a_strided_window_of_the_output(model, parse):
    # out = (in-1)*s - pads + (k-1)*d + 1 = 3*2 - 2 + 3 = 7
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], name="up", strides=[2, 2], pads=[1, 1, 1, 1])
    inputs = {"x": (F32, [1, 4, 4, 4]), "w": (F32, [4, 3, 3, 3]), "b": (F32, [3])}
    w = parse(model([node], inputs, {"y": (F32, [1, 3, 7, 7])}))
    up = w.node("up")
    assert [(loop.name, loop.size) for loop in up.loops] == [
        ("B", 1), ("IX", 4), ("IY", 4), ("FX", 3), ("FY", 3), ("C", 4), ("K", 3)
    ]  # fmt: skip
    assert up.macs == 4 * 4 * 3 * 3 * 4 * 3
    assert accesses(up) == {
        "x": ["B", "C", "IY", "IX"],
        "w": ["C", "K", "FY", "FX"],
        "b": ["K"],
        "y": ["B", "K", "2*IY + FY - 1", "2*IX + FX - 1"],
    }
    # the whole nest writes every output element once clipped to [0, 7): 3*7*7
    assert up.footprint_elements(up.output, w.tensor("y")) == 3 * 7 * 7
