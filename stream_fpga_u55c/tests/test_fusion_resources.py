"""Fusion under the U55C's block granularity: a group joins kernels only while its BRAM36/URAM/DSP fit an
SLR (hand-counted on the MLP example with whole-layer tiles)."""

from __future__ import annotations

from pathlib import Path

import yaml
from stream_fpga_u55c.compile import CompileOptions, compile_workload
from stream_fpga_u55c.platform import DEFAULT_PLATFORM_FILE

from stream_core.context import RunContext
from stream_fpga_u55c import examples

WHOLE = tuple(f"{loop}=4096" for loop in "DCK")  # every loop of the MLP whole (a tile above the size is whole)


def platform_with(tmp_path: Path, **slr: int) -> Path:
    data = yaml.safe_load(DEFAULT_PLATFORM_FILE.read_text())
    for entry in data["slrs"]:
        entry.update(slr)
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_fusion_splits_where_bram36_runs_out(tmp_path: Path, context: RunContext) -> None:
    # 16 lanes; arrays > 1 Kb per bank take one BRAM18 per bank (16 banks):
    #   fc1: w1 64x128 (512 floats/bank) 16 + out 8x128 (64/bank) 16 = 32 BRAM18; x 8x64 and b1 are registers
    #   relu1: in and out 8x128: 16 + 16 = 32 BRAM18
    #   fc2: in 8x128 16 + w2 128x32 (256/bank) 16 = 32 BRAM18; its 8x32 output is registers
    #   bias2, relu2 (8x32): registers
    # FIFO fc1 -> relu1 (and relu1 -> fc2): one token of 1024 floats = 64 items of 512 bits > 32 deep: 15 BRAM18.
    # fc1 + relu1 = 32 + 32 + 15 = 79 BRAM18 = 40 BRAM36 fits an SLR of 40; adding fc2 (+32 + 15) needs 63.
    target = platform_with(tmp_path, bram36=40)
    compiled = compile_workload(examples.mlp(tmp_path / "mlp.onnx"), context, CompileOptions(target, WHOLE))
    assert [g.kernels for g in compiled.plan.fusion.groups] == [("fc1", "relu1"), ("fc2", "bias2", "relu2")]
    assert [(g.memory.bram18, g.memory.bram36) for g in compiled.estimate.groups] == [(79, 40), (32, 16)]
    assert compiled.estimate.placement == (("group0", 0), ("group1", 1))


def test_fusion_splits_where_dsps_run_out(tmp_path: Path, context: RunContext) -> None:
    # DSPs: fc1 and fc2 16 lanes x 5 (fp32 MAC), bias2 16 x 2 (add), relu 0; with 100 per SLR:
    # fc1 + relu1 = 80, + fc2 = 160 > 100; fc2 = 80, + bias2 = 112 > 100; bias2 + relu2 = 32
    target = platform_with(tmp_path, dsp=100)
    compiled = compile_workload(examples.mlp(tmp_path / "mlp.onnx"), context, CompileOptions(target, WHOLE))
    assert [g.kernels for g in compiled.plan.fusion.groups] == [("fc1", "relu1"), ("fc2",), ("bias2", "relu2")]
    assert [g.dsp for g in compiled.estimate.groups] == [80, 80, 32]
