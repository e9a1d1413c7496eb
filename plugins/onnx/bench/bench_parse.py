#!/usr/bin/env python
"""Time parsing a ResNet-18-sized ONNX model (weights as initializers, ~47 MB) with stream-onnx.

Prints the median of several parses and the stage split (load / check+infer / op parsers / assembly).
Usage: ``python plugins/onnx/bench/bench_parse.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from stream_onnx.parser import ONNXWorkloadParser

from stream_core.context import RunContext
from stream_core.testing import make_plugins


def resnet18(path: Path) -> int:
    """Write ResNet-18 (ImageNet, batch 1, float32, random weights) to ``path``; returns its node count."""
    rng = np.random.default_rng(0)
    nodes, inits = [], []

    def weight(name: str, shape: list[int]) -> str:
        inits.append(numpy_helper.from_array(rng.standard_normal(shape, dtype=np.float32), name))
        return name

    def conv(x: str, name: str, cin: int, cout: int, k: int, stride: int) -> str:
        w = weight(f"{name}.w", [cout, cin, k, k])
        p = k // 2
        nodes.append(helper.make_node("Conv", [x, w], [f"{name}.c"], name=name, strides=[stride] * 2, pads=[p] * 4))
        bn = [weight(f"{name}.bn.{s}", [cout]) for s in ("g", "b", "m", "v")]
        nodes.append(helper.make_node("BatchNormalization", [f"{name}.c", *bn], [f"{name}.bn"], name=f"{name}_bn"))
        return f"{name}.bn"

    def relu(x: str, name: str) -> str:
        nodes.append(helper.make_node("Relu", [x], [f"{name}.r"], name=f"{name}_relu"))
        return f"{name}.r"

    x = relu(conv("input", "conv1", 3, 64, 7, 2), "conv1")
    nodes.append(
        helper.make_node("MaxPool", [x], ["pool"], name="maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)
    )
    x, cin = "pool", 64
    for stage, cout in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            stride = 2 if block == 0 and stage > 1 else 1
            name = f"layer{stage}.{block}"
            y = relu(conv(x, f"{name}.conv1", cin, cout, 3, stride), f"{name}.1")
            y = conv(y, f"{name}.conv2", cout, cout, 3, 1)
            skip = conv(x, f"{name}.down", cin, cout, 1, stride) if stride != 1 or cin != cout else x
            nodes.append(helper.make_node("Add", [y, skip], [f"{name}.sum"], name=f"{name}_add"))
            x, cin = relu(f"{name}.sum", name), cout
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"], name="avgpool"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"))
    nodes.append(
        helper.make_node(
            "Gemm", ["flat", weight("fc.w", [1000, 512]), weight("fc.b", [1000])], ["logits"], name="fc", transB=1
        )
    )
    graph = helper.make_graph(
        nodes,
        "resnet18",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])],
        initializer=inits,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return len(nodes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    context = RunContext(plugins=make_plugins())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "resnet18.onnx"
        count = resnet18(path)
        size_mb = path.stat().st_size / 1e6
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            workload = ONNXWorkloadParser().parse(path, context)
            times.append(time.perf_counter() - started)
    print(
        f"ResNet-18: {count} ONNX nodes, {size_mb:.1f} MB, {len(workload)} workload nodes, "
        f"{workload.macs / 1e9:.3f} GMACs"
    )
    print(
        f"parse: median {statistics.median(times) * 1e3:.1f} ms, min {min(times) * 1e3:.1f} ms over {args.repeat} runs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
