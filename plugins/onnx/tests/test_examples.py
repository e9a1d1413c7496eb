"""The bundled example workloads parse to the hand-computed loop nests, and their script is reproducible."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from stream_onnx.parser import ONNXWorkloadParser

from stream_core import examples
from stream_core.ir import OperandRole

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "make_example_workloads.py"


def load(name, context):
    return ONNXWorkloadParser().parse(examples.workload(name), context)


def test_two_conv_is_streams_quick_start(context):
    w = load("two_conv", context)
    assert [n.name for n in w.nodes] == ["Conv1", "Conv2"]
    assert w.tensor("input").shape == (1, 8, 32, 32) and w.tensor("output").shape == (1, 32, 32, 32)
    assert {t.dtype for t in w.tensors.values()} == {"bfloat16"}
    conv1, conv2 = w.nodes
    assert [loop.size for loop in conv1.loops] == [1, 32, 32, 3, 3, 8, 16]
    assert [loop.size for loop in conv2.loops] == [1, 32, 32, 3, 3, 16, 32]
    assert w.macs == 32 * 32 * 9 * (8 * 16 + 16 * 32)
    assert all(op.precision == 16 for n in w.nodes for op in n.operands)
    assert w.successors("Conv1") == (conv2,)


def test_resnet_block(context):
    w = load("resnet_block", context)
    assert [n.op_type for n in w.nodes] == [
        "Conv",
        "BatchNormalization",
        "Relu",
        "Conv",
        "BatchNormalization",
        "Add",
        "Relu",
    ]
    assert w.macs == 2 * 56 * 56 * 9 * 64 * 64
    add = w.node("Add")
    assert {op.tensor: op.role for op in add.reads} == {"bn2_out": OperandRole.INPUT, "x": OperandRole.INPUT}
    assert w.outputs == ("y",) and w.tensor("y").shape == (1, 64, 56, 56)


def test_transformer_mlp(context):
    w = load("transformer_mlp", context)
    assert [n.name for n in w.nodes] == ["LayerNorm", "FC1", "FC1_bias", "Gelu", "FC2", "FC2_bias", "Residual"]
    assert w.node("FC1").sizes == {"B": 1, "D": 128, "K": 3072, "C": 768}
    assert w.macs == 2 * 128 * 768 * 3072
    assert {op.tensor: op.role for op in w.node("FC1_bias").reads} == {
        "fc1_mm": OperandRole.INPUT,
        "fc1_b": OperandRole.WEIGHT,
    }
    assert {op.tensor: op.role for op in w.node("Residual").reads} == {
        "fc2_out": OperandRole.INPUT,
        "tokens": OperandRole.INPUT,
    }
    assert w.node("LayerNorm").protected_loops == ("K",)


def test_the_script_regenerates_the_bundled_files_byte_for_byte(tmp_path):
    spec = importlib.util.spec_from_file_location("make_example_workloads", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.write_all(tmp_path)
    assert [p.name for p in written] == ["two_conv.onnx", "resnet_block.onnx", "transformer_mlp.onnx"]
    for path in written:
        assert path.read_bytes() == examples.workload(path.stem).read_bytes()
