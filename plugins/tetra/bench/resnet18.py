"""ResNet-18 (ImageNet, batch 1) as an ONNX graph built with ``onnx.helper`` (weights as graph inputs,
no data): 7x7/2 stem conv + ReLU + 3x3/2 max-pool, 8 basic blocks (3x3 convs, 1x1/2 downsampling
convs on the skip path of blocks 3, 5 and 7), global average pool, flatten, fully connected 1000."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper


def build_resnet18(path: Path, dtype: int = TensorProto.FLOAT16) -> Path:
    nodes: list[onnx.NodeProto] = []
    inputs = [helper.make_tensor_value_info("image", dtype, [1, 3, 224, 224])]
    counter = {"n": 0}

    def weight(shape: list[int]) -> str:
        counter["n"] += 1
        name = f"w{counter['n']}"
        inputs.append(helper.make_tensor_value_info(name, dtype, shape))
        return name

    def conv(x: str, c: int, k: int, kernel: int, stride: int, name: str) -> str:
        pad = kernel // 2
        nodes.append(
            helper.make_node(
                "Conv",
                [x, weight([k, c, kernel, kernel])],
                [f"{name}_out"],
                name=name,
                kernel_shape=[kernel, kernel],
                strides=[stride, stride],
                pads=[pad] * 4,
            )
        )
        return f"{name}_out"

    def relu(x: str, name: str) -> str:
        nodes.append(helper.make_node("Relu", [x], [f"{name}_out"], name=name))
        return f"{name}_out"

    x = relu(conv("image", 3, 64, 7, 2, "stem_conv"), "stem_relu")
    nodes.append(
        helper.make_node(
            "MaxPool", [x], ["pool_out"], name="stem_pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]
        )
    )
    x, channels = "pool_out", 64
    for stage, (width, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)]):
        for block in range(2):
            name = f"s{stage}b{block}"
            s = stride if block == 0 else 1
            h = relu(conv(x, channels, width, 3, s, f"{name}_conv1"), f"{name}_relu1")
            h = conv(h, width, width, 3, 1, f"{name}_conv2")
            skip = conv(x, channels, width, 1, s, f"{name}_down") if (s != 1 or channels != width) else x
            nodes.append(helper.make_node("Add", [h, skip], [f"{name}_sum"], name=f"{name}_add"))
            x, channels = relu(f"{name}_sum", f"{name}_relu2"), width
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap_out"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap_out"], ["flat_out"], name="flatten", axis=1))
    nodes.append(helper.make_node("Gemm", ["flat_out", weight([1000, 512])], ["logits"], name="fc", transB=1))
    graph = helper.make_graph(nodes, "resnet18", inputs, [helper.make_tensor_value_info("logits", dtype, [1, 1000])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path
