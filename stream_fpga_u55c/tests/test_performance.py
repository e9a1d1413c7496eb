"""The performance model on a pipeline derived by hand, and one plan shared by fifo-size and compile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import onnx
from onnx import TensorProto, helper
from stream_fpga_u55c.compile import CompileOptions, compile_workload

from stream_core.cli import main
from stream_fpga_u55c import examples


def two_kernels(path: Path) -> Path:
    """``y = Sigmoid(Relu(x))`` on a 4 x 32 float tensor."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 32])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 32])
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="r1"), helper.make_node("Sigmoid", ["a"], ["y"], name="r2")]
    model = helper.make_model(helper.make_graph(nodes, "pipe", [x], [y]), opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = examples.IR_VERSION
    onnx.save(model, path)
    return path


def test_two_kernel_pipeline_latency_by_hand(tmp_path: Path, context: Any) -> None:
    compiled = compile_workload(two_kernels(tmp_path / "pipe.onnx"), context, CompileOptions())
    # the search streams rows: 4 firings of a 32-float token = 2 items of 16 floats
    assert [(lp.name, lp.tile) for lp in compiled.plan.graph.kernel("r1").loops] == [("D", 1), ("K", 32)]
    (group,) = compiled.performance.groups
    # an HBM item (64 B) takes 64 / (14.375 GB/s / 300 MHz) = 1.336 cycles: 2 items -> ceil(2.67) = 3 cycles
    # r1: read 3 (HBM) + compute ceil(32 / 16 lanes) = 2 + pipeline 8 + write 2 (FIFO) = 15 cycles a firing
    # r2: read 2 (FIFO) + 2 + 8 + write 3 (HBM) = 15 cycles a firing
    assert [(t.task, t.firings, t.cycles) for t in group.tasks] == [("k_r1", 4, 15), ("k_r2", 4, 15)]
    # r2's firing j starts when r1's firing j ends, 15 (j + 1); its last (j = 3) ends at 60 + 15
    assert group.latency == 75 and compiled.performance.latency_cycles == 75
    # back to back, each kernel fires every 15 cycles: 4 x 15 per frame, as with unbounded FIFOs
    assert group.interval == group.unbounded_interval == 60
    data = json.loads(compiled.files["estimates.json"])
    assert data["performance"]["latency_cycles"] == 75 and "gpt2_decoding" not in data


def test_fifo_size_and_compile_report_the_same_plan(tmp_path: Path, context: Any) -> None:
    model = examples.attention(tmp_path / "attention.onnx")
    out = tmp_path / "plan.json"
    assert main(["fifo-size", str(model), "--target", "u55c", "-o", str(out)]) == 0
    sized = json.loads(out.read_text())
    compiled = compile_workload(model, context, CompileOptions()).plan.to_dict()
    assert sized["tiling"]["searched"] and sized["tiling"]["tiles"] == compiled["tiling"]["tiles"]
    assert sized["fifos"] == compiled["fifos"] and sized["totals"] == compiled["totals"]
    assert sized["totals"]["full_tensor_bits"] > sized["totals"]["fifo_bits"] > 0
