"""Blocks hf-gpt2, hf-llama, hf-qwen: one transformers decoder layer from a config, exported with torch."""

from __future__ import annotations

import json
import os
import sys
from importlib.util import find_spec

import pytest
from stream_blocks.api import block_workload

from stream_core import RunContext, load_plugins
from stream_core.cli import main
from stream_core.errors import InputError
from stream_core.examples import hardware

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here downloads; make sure of it
needs_transformers = pytest.mark.skipif(
    find_spec("torch") is None or find_spec("transformers") is None,
    reason="hf-* blocks need torch and transformers (pip install torch==2.13.0 transformers==4.57.6)",
)


@pytest.fixture
def context() -> RunContext:
    return RunContext(load_plugins())


def gpt2_macs(b, t, kv, d, h, ffn):
    """Fused QKV, output projection, two MLP layers, and q @ k^T and p @ v over kv + t keys."""
    return b * t * (3 * d * d + d * d + 2 * d * ffn) + 2 * b * h * t * (kv + t) * (d // h)


def llama_macs(b, t, kv, d, h, kvh, ffn):
    """q, k, v (kvh heads), o projections, three SwiGLU layers, and attention over kv + t keys."""
    hd = d // h
    return b * t * (2 * d * h * hd + 2 * d * kvh * hd + 3 * d * ffn) + 2 * b * h * t * (kv + t) * hd


def macs_nodes(workload):
    return [n for n in workload.nodes if n.macs]


@needs_transformers
@pytest.mark.parametrize(
    ("spec", "macs"),
    [
        ("hf-gpt2?d=64&h=4&t=8", gpt2_macs(1, 8, 0, 64, 4, 256)),
        ("hf-gpt2?d=64&h=4&t=1&kv=15&ffn=128&b=2", gpt2_macs(2, 1, 15, 64, 4, 128)),
        ("hf-llama?d=64&h=8&kvh=2&ffn=96&t=8", llama_macs(1, 8, 0, 64, 8, 2, 96)),
        ("hf-llama?d=64&h=4&kvh=0&ffn=96&t=1&kv=31", llama_macs(1, 1, 31, 64, 4, 4, 96)),
        ("hf-qwen?d=64&h=8&kvh=2&ffn=96&t=8", llama_macs(1, 8, 0, 64, 8, 2, 96)),
        ("hf-qwen?d=64&h=4&kvh=2&ffn=96&t=4&kv=12", llama_macs(1, 4, 12, 64, 4, 2, 96)),
    ],
)
def test_macs_match_the_hand_formula_and_the_built_in_block(spec, macs, context):
    """The same parameters through stream-blocks' own ONNX-built gpt2/llama block give the same MACs."""
    workload = block_workload(spec, context)
    built_in = spec.removeprefix("hf-").replace("qwen", "llama")
    assert workload.macs == macs == block_workload(built_in, context).macs
    # the layer's matrix products: GPT-2 4 linears + 2 attention; Llama/Qwen 7 linears + 2 attention
    assert len(macs_nodes(workload)) == (6 if spec.startswith("hf-gpt2") else 9)
    assert 20 <= len(workload) <= 70  # one layer with its norms and elementwise ops (Transposes, Reshapes fold)


@needs_transformers
def test_decode_reads_the_kv_cache_as_data_and_attends_to_every_key(context):
    workload = block_workload("hf-llama?d=64&h=8&kvh=2&ffn=96&t=1&kv=31", context)
    assert set(workload.inputs) == {"x", "k_cache", "v_cache"}
    q_k, p_v = (n for n in macs_nodes(workload) if not n.weights)  # attention: no weight operand
    assert q_k.macs == p_v.macs == 8 * 32 * 8  # 8 heads x 32 keys (31 cached, 1 new) x head size 8
    assert "Add" not in {n.op_type for n in workload.nodes if n.name.startswith("scaled_dot_product")}  # no mask


@needs_transformers
def test_qwen_differs_from_llama_by_its_q_k_v_biases(context):
    def adds(spec):
        return sum(n.op_type == "Add" for n in block_workload(spec, context).nodes)

    assert adds("hf-qwen?d=64&h=8&kvh=2&ffn=96&t=8") == adds("hf-llama?d=64&h=8&kvh=2&ffn=96&t=8") + 3


@needs_transformers
def test_a_local_config_json_builds_the_same_layer(tmp_path, context):
    from stream_torch.hf import config_workload
    from transformers import Qwen2Config

    config = Qwen2Config(hidden_size=64, num_attention_heads=8, num_key_value_heads=2, intermediate_size=96)
    config.dtype = "bfloat16"
    config.save_pretrained(tmp_path)
    workload = config_workload(tmp_path / "config.json", context, t=8)
    assert workload.macs == block_workload("hf-qwen?d=64&h=8&kvh=2&ffn=96&t=8", context).macs
    assert any("dtype torch.bfloat16 is not modelled" in w for w in context.warnings)
    assert config_workload(config, context, t=1, kv=7).macs == llama_macs(1, 1, 7, 64, 8, 2, 96)
    assert config._attn_implementation is None  # the caller's config is left as it was


@needs_transformers
def test_bad_configs_and_parameters_are_input_errors(tmp_path, context):
    from stream_torch.hf import config_workload
    from transformers import BertConfig

    with pytest.raises(InputError, match="model type 'bert' has no decoder layer here; supported: gpt2, llama, qwen2"):
        config_workload(BertConfig(hidden_size=64, num_attention_heads=4), context)
    with pytest.raises(InputError, match="not a readable local transformers config"):
        config_workload(tmp_path / "missing.json", context)
    with pytest.raises(InputError, match="d=64 is not a multiple of the head count h=6") as info:
        block_workload("hf-llama?d=64&h=6", context)
    assert info.value.problems[0].field == "h"
    with pytest.raises(InputError, match="h=8 is not a multiple of the KV head count kvh=3"):
        block_workload("hf-qwen?d=64&h=8&kvh=3", context)


def test_without_transformers_building_says_to_install_it(monkeypatch, context):
    monkeypatch.setitem(sys.modules, "transformers", None)  # makes `import transformers` fail
    with pytest.raises(InputError, match="needs torch and transformers; pip install torch"):
        block_workload("hf-gpt2?d=64&h=4&t=8", context)


@needs_transformers
def test_a_hf_block_reference_runs_through_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["blocks"]) == 0
    listing = capsys.readouterr().out
    for name in ("hf-gpt2", "hf-llama", "hf-qwen"):
        assert f"\n{name} (stream-torch" in listing
    spec = "block:hf-llama?d=64&h=4&kvh=2&ffn=96&t=8"
    argv = ["run", spec, str(hardware("tpu_like_quad_core")), "-o", "out", "--allocator", "greedy", "--no-cache", "-q"]
    assert main(argv) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["latency_cycles"] > 0
    assert len(summary["nodes"]) == len(block_workload(spec))
