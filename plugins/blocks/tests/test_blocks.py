"""Each block's MAC count against a hand formula; blocks as workloads through a .block file and the CLI."""

from __future__ import annotations

import json

import pytest
from stream_blocks.api import block_workload, split_spec
from stream_blocks.library import expert_rows

from stream_core import RunContext, load_plugins
from stream_core.cli import main
from stream_core.errors import InputError, UnknownPluginError
from stream_core.examples import hardware


@pytest.fixture(scope="module")
def context() -> RunContext:
    return RunContext(load_plugins())


def gpt2_macs(b, t, kv, d, h, ffn):
    # QKV 3d^2, projection d^2, MLP 2*d*ffn per token; q@k^T and p@v: h heads * s keys * d/h each
    return b * t * (4 * d * d + 2 * d * ffn) + 2 * b * t * (kv + t) * d


def llama_macs(b, t, kv, d, h, kvh, ffn):
    hd = d // h
    projections = d * h * hd + 2 * d * kvh * hd + h * hd * d
    return b * t * (projections + 3 * d * ffn) + 2 * b * h * t * (kv + t) * hd


@pytest.mark.parametrize(
    ("spec", "macs"),
    [
        ("gpt2?d=64&h=4&t=8", gpt2_macs(1, 8, 0, 64, 4, 256)),
        ("gpt2?d=64&h=4&t=1&kv=15&ffn=128&b=2", gpt2_macs(2, 1, 15, 64, 4, 128)),
        ("llama?d=64&h=8&kvh=2&ffn=96&t=8", llama_macs(1, 8, 0, 64, 8, 2, 96)),
        ("llama?d=64&h=8&kvh=0&ffn=96&t=1&kv=31", llama_macs(1, 1, 31, 64, 8, 8, 96)),
        # router t*d*e, then t*k token slots through a SwiGLU expert of 3*d*ffn
        ("moe?t=6&d=32&ffn=48&e=4&k=2", 6 * 32 * 4 + 6 * 2 * 3 * 32 * 48),
        ("moe?t=1&d=32&ffn=48&e=8&k=2", 32 * 8 + 2 * 3 * 32 * 48),
        # stride 2: 4x4 outputs; block0 3x3 8->16, 3x3 16->16, 1x1 projection 8->16; block1 two 3x3 16->16
        ("resnet?hw=8&c_in=8&c=16&stride=2", 16 * (16 * 8 * 9 + 16 * 16 * 9 + 16 * 8) + 16 * 2 * 16 * 16 * 9),
        ("resnet?hw=8&c_in=16&c=16&n=1", 64 * 2 * 16 * 16 * 9),
        # block0: 1x1 expand 8->48 on 8x8, depthwise 3x3 on 4x4x48, project 48->16; block1 at 16 ch (hidden 96)
        (
            "mobilenet?hw=8&c_in=8&c=16&n=2",
            64 * 48 * 8 + 16 * 48 * 9 + 16 * 16 * 48 + 16 * (96 * 16 + 96 * 9 + 16 * 96),
        ),
        ("mobilenet?hw=4&c_in=8&c=8&n=1&stride=1&expand=1", 16 * 8 * 9 + 16 * 8 * 8),
    ],
)
def test_macs_match_the_hand_formula(spec, macs, context):
    assert block_workload(spec, context).macs == macs


def test_decode_reads_the_kv_cache_as_data(context):
    workload = block_workload("llama?d=64&h=8&kvh=2&ffn=96&t=1&kv=31", context)
    assert set(workload.inputs) == {"x", "k_cache", "v_cache"}
    scores = workload.node("scores")
    assert scores.sizes["K"] == 32  # 31 cached keys and the new one
    assert not workload.node("scores").weights  # K comes from the cache and the new token, not a weight


def test_moe_spreads_token_slots_evenly():
    assert expert_rows(12, 8) == [2, 2, 2, 2, 1, 1, 1, 1]
    assert expert_rows(2, 8) == [1, 1, 0, 0, 0, 0, 0, 0]


def test_bad_specs_are_input_errors(context):
    with pytest.raises(InputError) as caught:
        block_workload("llama?d=64&heads=4&t=zero", context)
    assert [p.field for p in caught.value.problems] == ["heads", "t"]
    assert "parameters: b, t, kv, d, h, kvh, ffn" in caught.value.problems[0].message
    with pytest.raises(InputError, match="not a multiple of the KV head count"):
        block_workload("llama?d=64&h=8&kvh=3", context)
    with pytest.raises(InputError, match="given twice"):
        split_spec("gpt2?d=64&d=32")
    with pytest.raises(UnknownPluginError, match="did you mean 'llama'"):
        block_workload("lama", context)


def test_block_file_runs_through_the_cli(tmp_path, capsys):
    (tmp_path / "tiny.block").write_text("block: gpt2\nd: 64\nh: 4\nt: 8\n")
    (tmp_path / "line.block").write_text("gpt2?d=64&h=4&t=8\n")
    out = tmp_path / "out"
    argv = ["run", str(tmp_path / "tiny.block"), str(hardware("tpu_like_quad_core")), "-o", str(out)]
    assert main([*argv, "--allocator", "greedy", "--no-cache"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["workload"] == "gpt2" and summary["latency_cycles"] > 0
    assert main(["validate", str(tmp_path / "line.block")]) == 0
    assert f"{gpt2_macs(1, 8, 0, 64, 4, 256):,} MACs" in capsys.readouterr().out
    (tmp_path / "bad.block").write_text("block: [gpt2]\n")
    assert main(["validate", str(tmp_path / "bad.block")]) == 2


def test_stream_blocks_lists_and_shows(capsys):
    assert main(["blocks"]) == 0
    listing = capsys.readouterr().out
    for name in ("gpt2", "llama", "moe", "resnet", "mobilenet"):
        assert f"\n{name} (stream-blocks" in f"\n{listing}"
    assert main(["blocks", "resnet?hw=8&c_in=16&c=16&n=1"]) == 0
    assert f"5 nodes, {64 * 2 * 16 * 16 * 9:,} MACs" in capsys.readouterr().out


def test_a_block_reference_is_a_workload_argument(tmp_path, monkeypatch):
    """``block:NAME?...`` where no such file exists reaches the block parser (its registered scheme), runs
    like the same block in a .block file, and names its default output folder without ':?&'."""
    (tmp_path / "tiny.block").write_text("block: gpt2\nd: 64\nh: 4\nt: 8\n")
    monkeypatch.chdir(tmp_path)
    hw = str(hardware("tpu_like_quad_core"))
    options = ["--allocator", "greedy", "--no-cache", "-q"]
    assert main(["run", "tiny.block", hw, "-o", "from_file", *options]) == 0
    assert main(["run", "block:gpt2?d=64&h=4&t=8", hw, *options]) == 0
    [folder] = (tmp_path / "stream-output").iterdir()
    assert folder.name == "tpu_like_quad_core-block_gpt2_d=64_h=4_t=8"
    by_file = json.loads((tmp_path / "from_file" / "summary.json").read_text())
    by_reference = json.loads((folder / "summary.json").read_text())
    assert by_reference["latency_cycles"] == by_file["latency_cycles"] > 0
    assert by_reference["workload"] == by_file["workload"] == "gpt2"
