"""Resource rules (hand-checkable), the over-the-limits refusal, and the GPT-2 decoding estimate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from stream_fpga_u55c.gpt2 import STREAMTENSOR, Gpt2Estimate, decode_bytes, decode_macs, streamed_parameters
from stream_fpga_u55c.platform import DEFAULT_PLATFORM_FILE, load_platform
from stream_fpga_u55c.resources import Memory, array_memory, block_memory, fifo_memory

from stream_core.cli import main
from stream_fpga_u55c import examples


def test_memory_rules() -> None:
    assert fifo_memory(512, 2) == Memory(luts=512)  # SRL: 512 bits wide, one SRL32 per bit
    assert fifo_memory(512, 64) == Memory(luts=0, bram18=15)  # 512x36 BRAM18: 1 deep x ceil(512/36) = 15 wide
    assert block_memory(32, 1024) == Memory(bram18=2)  # 1Kx18 x 2 or 512x36 x 2
    assert array_memory(32) == Memory(luts=16)  # 1 Kb: registers
    assert array_memory(4096, banks=16) == Memory(bram18=16)  # 16 banks of 256 floats, one BRAM18 each
    assert Memory(bram18=16).bram36 == 8
    assert block_memory(512, 4096) == Memory(uram=8)  # 120 BRAM18 > 32: URAM 4Kx72, ceil(512/72) = 8


def test_mlp_estimate(projects: dict[str, Any]) -> None:
    estimate = projects["mlp"].compiled.estimate
    group = estimate.groups[0]
    # two MAC kernels (fc1: 16 lanes, fc2: 16 lanes) at 5 DSP per fp32 MAC; relu/add/relu compare/add
    lanes = {k: (n, dsp) for k, n, dsp in group.kernels}
    assert lanes["fc1"] == (16, 16 * 5) and lanes["fc2"] == (16, 16 * 5)
    assert lanes["bias2"] == (16, 16 * 2) and lanes["relu1"] == (16, 0)
    assert group.dsp == 16 * 5 * 2 + 16 * 2
    assert estimate.placement == (("group0", 0),)
    assert estimate.slr_use(0) == (group.memory.bram36, group.memory.uram, group.dsp)


def test_design_over_the_limits_is_refused_with_numbers(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = yaml.safe_load(DEFAULT_PLATFORM_FILE.read_text())
    for slr in data["slrs"]:
        slr["dsp"] = 50  # fc1 alone needs 16 lanes x 5 = 80 (fusion splits groups that merely exceed it together)
    small = tmp_path / "small.yaml"
    small.write_text(yaml.safe_dump(data))
    model = examples.mlp(tmp_path / "mlp.onnx")
    code = main(["compile", str(model), "--target", str(small), "--backend", "u55c-hls", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "group0 needs BRAM36" in err and "DSP 80" in err and "DSP 50/50" in err
    assert not (tmp_path / "out").exists()


def test_gpt2_formula_by_hand() -> None:
    assert streamed_parameters() == 12 * (7_077_888 + 9_984) + 1_536 + 50_257 * 768 + 1_536 == 123_654_912
    assert decode_macs(0) == 12 * 7_077_888 + 50_257 * 768
    assert decode_bytes(10, 4, 2) == 4 * 123_654_912 + 2 * 2 * 12 * 768 * 11
    estimate = Gpt2Estimate(load_platform(), "fp16")
    seconds, bound = estimate.step(100)
    assert bound == "bandwidth"
    assert seconds == pytest.approx(decode_bytes(100, 2, 2) / 460e9)
    row = estimate.row(256, 256)
    decode = sum(
        max(decode_bytes(256 + i, 2, 2) / 460e9, decode_macs(256 + i) / (8304 / 5 * 300e6)) for i in range(256)
    )
    assert row.tokens_per_s == pytest.approx(256 / decode)
    assert row.latency_ms == pytest.approx(row.ttft_ms + 1e3 * decode)


def test_streamtensor_table_matches_its_own_definitions() -> None:
    for (_, out), (latency, ttft, tokens_per_s) in STREAMTENSOR.items():
        assert out / (latency - ttft) * 1e3 == pytest.approx(tokens_per_s, rel=2e-3)
    assert STREAMTENSOR[(256, 256)][2] == 229.61


def test_compile_prints_and_writes_estimates(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model = examples.conv_block(tmp_path / "conv.onnx")
    out = tmp_path / "proj"
    assert main(["compile", str(model), "--target", "u55c", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    # the GPT-2 decoding estimate is printed only for a GPT-2 block with a KV cache (test_performance.py)
    assert "ESTIMATE" in printed and "229.61" not in printed and "SLR0" in printed
    data = json.loads((out / "estimates.json").read_text())
    assert "gpt2_decoding" not in data and data["performance"]["label"].startswith("ESTIMATE")
    assert [s["slr"] for s in data["resources"]["slrs"]] == ["SLR0", "SLR1", "SLR2"]
    assert data["resources"]["slrs"][0]["dsp"]["available"] == 2664
    # a second compile into the directory it created is allowed; into a foreign one it is not
    assert main(["compile", str(model), "--target", "u55c", "-o", str(out)]) == 0
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "x").write_text("")
    assert main(["compile", str(model), "--target", "u55c", "-o", str(tmp_path / "foreign")]) == 2
