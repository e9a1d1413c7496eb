#!/usr/bin/env python
"""Write the bundled example workloads (ONNX) of stream-core.

Deterministic and re-runnable: the models are built with ``onnx.helper``, weights are graph inputs
(shape and type only, no values) so the files stay small, and the bytes are serialised
deterministically, so re-running leaves the files unchanged.

* ``two_conv.onnx``: Stream's quick-start setting. bfloat16 ``[1,8,32,32]`` -> Conv1 (16 filters,
  3x3, pad 1) -> Conv2 (32 filters, 3x3, pad 1) -> ``[1,32,32,32]``.
* ``resnet_block.onnx``: a ResNet basic block on ``[1,64,56,56]`` float32: Conv3x3 + BatchNorm + Relu,
  Conv3x3 + BatchNorm, residual Add, Relu.
* ``transformer_mlp.onnx``: a transformer MLP block on ``[1,128,768]`` tokens: LayerNorm, MatMul
  768x3072 + bias, Gelu, MatMul 3072x768 + bias, residual Add.

Usage: ``python scripts/make_example_workloads.py [--output DIR]`` (default: the package's
``stream_core/examples/workloads``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import onnx
from onnx import TensorProto, helper

OPSET = 22  # Conv accepts bfloat16 from opset 22 on
IR_VERSION = 10  # the IR version that introduced opset 22
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "stream_core" / "src" / "stream_core" / "examples" / "workloads"


def _tensor(name: str, dtype: int, shape: Sequence[int]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, dtype, list(shape))


def _model(
    name: str, nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto], output: onnx.ValueInfoProto
) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, name, inputs, [output])
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="stream-core examples"
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def two_conv() -> onnx.ModelProto:
    bf16 = TensorProto.BFLOAT16
    nodes = [
        helper.make_node(
            "Conv", ["input", "weights_1"], ["conv1_out"], name="Conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]
        ),
        helper.make_node(
            "Conv", ["conv1_out", "weights_2"], ["output"], name="Conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]
        ),
    ]
    inputs = [
        _tensor("input", bf16, [1, 8, 32, 32]),
        _tensor("weights_1", bf16, [16, 8, 3, 3]),
        _tensor("weights_2", bf16, [32, 16, 3, 3]),
    ]
    return _model("two_conv", nodes, inputs, _tensor("output", bf16, [1, 32, 32, 32]))


def resnet_block(channels: int = 64, size: int = 56) -> onnx.ModelProto:
    f32 = TensorProto.FLOAT
    inputs = [_tensor("x", f32, [1, channels, size, size])]
    nodes = []
    current = "x"
    for i in (1, 2):
        conv_w = f"conv{i}_w"
        inputs.append(_tensor(conv_w, f32, [channels, channels, 3, 3]))
        bn = [f"bn{i}_{p}" for p in ("scale", "bias", "mean", "var")]
        inputs += [_tensor(t, f32, [channels]) for t in bn]
        nodes.append(
            helper.make_node(
                "Conv", [current, conv_w], [f"conv{i}_out"], name=f"Conv{i}", kernel_shape=[3, 3], pads=[1, 1, 1, 1]
            )
        )
        nodes.append(
            helper.make_node("BatchNormalization", [f"conv{i}_out", *bn], [f"bn{i}_out"], name=f"BatchNorm{i}")
        )
        current = f"bn{i}_out"
        if i == 1:
            nodes.append(helper.make_node("Relu", [current], ["relu1_out"], name="Relu1"))
            current = "relu1_out"
    nodes.append(helper.make_node("Add", [current, "x"], ["sum"], name="Add"))
    nodes.append(helper.make_node("Relu", ["sum"], ["y"], name="Relu2"))
    return _model("resnet_block", nodes, inputs, _tensor("y", f32, [1, channels, size, size]))


def transformer_mlp(tokens: int = 128, width: int = 768, hidden: int = 3072) -> onnx.ModelProto:
    f32 = TensorProto.FLOAT
    inputs = [
        _tensor("tokens", f32, [1, tokens, width]),
        _tensor("ln_scale", f32, [width]),
        _tensor("ln_bias", f32, [width]),
        _tensor("fc1_w", f32, [width, hidden]),
        _tensor("fc1_b", f32, [hidden]),
        _tensor("fc2_w", f32, [hidden, width]),
        _tensor("fc2_b", f32, [width]),
    ]
    nodes = [
        helper.make_node(
            "LayerNormalization", ["tokens", "ln_scale", "ln_bias"], ["ln_out"], name="LayerNorm", axis=-1
        ),
        helper.make_node("MatMul", ["ln_out", "fc1_w"], ["fc1_mm"], name="FC1"),
        helper.make_node("Add", ["fc1_mm", "fc1_b"], ["fc1_out"], name="FC1_bias"),
        helper.make_node("Gelu", ["fc1_out"], ["gelu_out"], name="Gelu"),
        helper.make_node("MatMul", ["gelu_out", "fc2_w"], ["fc2_mm"], name="FC2"),
        helper.make_node("Add", ["fc2_mm", "fc2_b"], ["fc2_out"], name="FC2_bias"),
        helper.make_node("Add", ["fc2_out", "tokens"], ["output"], name="Residual"),
    ]
    return _model("transformer_mlp", nodes, inputs, _tensor("output", f32, [1, tokens, width]))


WORKLOADS = {"two_conv": two_conv, "resnet_block": resnet_block, "transformer_mlp": transformer_mlp}


def write_all(output: Path) -> list[Path]:
    """Write every example workload into ``output``; returns the paths written."""
    output.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in WORKLOADS.items():
        path = output / f"{name}.onnx"
        path.write_bytes(build().SerializeToString(deterministic=True))
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="directory to write into")
    args = parser.parse_args(argv)
    for path in write_all(args.output):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
