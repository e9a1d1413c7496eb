"""Fusion under the U55C's block granularity: a group joins kernels only while its BRAM36/URAM/DSP fit an
SLR (hand-counted on the MLP example with whole-layer tiles)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from stream_fpga_u55c.compile import CompileOptions, compile_workload
from stream_fpga_u55c.platform import DEFAULT_PLATFORM_FILE
from stream_itensor.api import load_target, plan_streams
from stream_itensor.command import FifoSizeCommand

from stream_core import hookimpl
from stream_core.cli import options_from_args
from stream_core.context import RunContext
from stream_core.records import TargetRecord
from stream_core.testing import make_plugins
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


class SmallU55c:
    """A registered target on a small-SLR platform file, planned by the ``u55c-hls`` code generator."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @hookimpl
    def stream_register_targets(self) -> Iterator[TargetRecord]:
        yield TargetRecord(name="u55c-small", description="test", factory=lambda: self.path, code_generator="u55c-hls")


def test_fifo_size_plans_a_registered_u55c_target_as_compile_does(tmp_path: Path, capsys: Any) -> None:
    """``stream fifo-size --target NAME`` of a u55c-hls target fuses under the SLR check (DSPs of 100 per SLR
    split the MLP, which the byte budget alone keeps whole) and sizes FIFOs with the emitted kernels' cycles,
    the same plan ``stream compile`` makes."""
    path = platform_with(tmp_path, dsp=100)
    plugins = make_plugins(("u55c-small", SmallU55c(path)))
    model = examples.mlp(tmp_path / "mlp.onnx")
    command = FifoSizeCommand()
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    args = parser.parse_args([str(model), "--target", "u55c-small", "-o", str(tmp_path / "plan.json")])
    assert command.run(args, RunContext(plugins=plugins, options=options_from_args(args))) == 0
    sized = json.loads((tmp_path / "plan.json").read_text())
    compiled = compile_workload(model, RunContext(plugins=plugins), CompileOptions(path))
    planned = compiled.plan.to_dict()
    assert [g["kernels"] for g in sized["groups"]] == [["fc1", "relu1"], ["fc2"], ["bias2", "relu2"]]
    for plan in (sized, planned):
        for group in plan["groups"]:
            del group["lp"]["seconds"]  # wall time
    assert sized["groups"] == planned["groups"] and sized["fifos"] == planned["fifos"]
    assert sized["kernels"] == planned["kernels"] and sized["totals"] == planned["totals"]
    # the LP's kernel timing is the performance model's cycles per firing of the emitted kernel
    cycles = {t.task.removeprefix("k_"): t.cycles for g in compiled.performance.groups for t in g.tasks}
    assert {k["name"]: (k["interval"], k["initial_delay"]) for k in sized["kernels"]} == {
        name: (cycles[name], cycles[name]) for name in ("fc1", "relu1", "fc2", "bias2", "relu2")
    }
    # the platform file itself (not a registered target) is read through its `itensor:` section: bytes only
    context = RunContext(plugins=plugins)
    whole = load_target(path, context)
    assert whole.group_check is None and whole.timing is None
    assert len(plan_streams(compiled.design.workload, context, target=whole, search=True).fusion.groups) == 1
    capsys.readouterr()
