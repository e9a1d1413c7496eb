"""torch.export programs give the same workload as the ONNX export of the same module."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="stream-torch's tests need PyTorch (pip install torch==2.13.0)")

from stream_torch import ModuleCall  # noqa: E402
from stream_torch.frontend import Pt2Parser, TorchFrontend  # noqa: E402

import stream_core  # noqa: E402
from stream_core import RunContext, RunOptions, load_plugins  # noqa: E402
from stream_core.cli import main  # noqa: E402
from stream_core.errors import InputError  # noqa: E402
from stream_core.examples import hardware  # noqa: E402
from stream_core.ir import Workload  # noqa: E402

nn = torch.nn
F = torch.nn.functional


class ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, stride=2, groups=2)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.c2(torch.relu(self.c1(x)))))
        return self.fc(x.mean((2, 3)))


class GPT2Block(nn.Module):
    """Pre-LayerNorm decoder layer as GPT-2 writes it (eager attention, causal mask, GELU MLP)."""

    def __init__(self, d: int = 64, h: int = 4) -> None:
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = (y.view(b, t, self.h, d // self.h).transpose(1, 2) for y in self.qkv(self.ln1(x)).split(d, dim=2))
        a = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // self.h))
        a = a.masked_fill(~torch.tril(torch.ones(t, t, dtype=torch.bool)), float("-inf"))
        y = (F.softmax(a, dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


def shape_of(workload: Workload) -> list[tuple[str, tuple[tuple[str, int], ...], int]]:
    """Per node in order: op type, loops and MACs (names differ between the two routes)."""
    return [(n.op_type, tuple((loop.name, loop.size) for loop in n.loops), n.macs) for n in workload.nodes]


def onnx_export(module: nn.Module, x, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated; it needs no onnxscript
        torch.onnx.export(module, (x,), str(path), dynamo=False, opset_version=20)
    return path


@pytest.fixture
def context() -> RunContext:
    return RunContext(load_plugins())


@pytest.mark.parametrize(
    ("module", "x", "macs"),
    [
        # conv1 16*16*8*3*9, conv2 (groups 2) 7*7*16*4*9, fc 16*10
        (ConvNet(), torch.randn(1, 3, 16, 16), 16 * 16 * 8 * 27 + 7 * 7 * 16 * 36 + 160),
        # t*(4d^2 + 8d^2) for the four Linear layers, 2*t*t*d for the attention products
        (GPT2Block(), torch.randn(1, 8, 64), 8 * 12 * 64 * 64 + 2 * 8 * 8 * 64),
    ],
    ids=["convnet", "gpt2-block"],
)
def test_same_workload_and_latency_as_onnx_export(module, x, macs, tmp_path, context):
    module.eval()
    from_torch = TorchFrontend().load(ModuleCall(module, (x,)), context)
    from_onnx = (
        context.plugins.registry("workload_parsers")
        .get("onnx")
        .load()
        .parse(onnx_export(module, x, tmp_path / "m.onnx"), context)
    )
    assert shape_of(from_torch) == shape_of(from_onnx)
    assert from_torch.macs == from_onnx.macs == macs
    options = RunOptions(allocator="greedy", use_cache=False)
    latencies = [
        stream_core.run(w, hardware("tpu_like_quad_core"), options=options).result.totals.latency
        for w in (from_torch, from_onnx)
    ]
    assert latencies[0] == latencies[1] > 0


def test_exported_program_and_pt2_file_agree(tmp_path, context):
    x = torch.randn(1, 3, 16, 16)
    program = torch.export.export(ConvNet().eval(), (x,))
    torch.export.save(program, str(tmp_path / "net.pt2"))
    from_program = TorchFrontend().load(program, context)
    from_file = Pt2Parser().parse(tmp_path / "net.pt2", context)
    assert shape_of(from_program) == shape_of(from_file)
    assert from_file.name == "net" and from_file.source == str(tmp_path / "net.pt2")


def test_pt2_round_trip_through_the_cli(tmp_path, capsys):
    module, x = GPT2Block().eval(), torch.randn(1, 8, 64)
    torch.export.save(torch.export.export(module, (x,)), str(tmp_path / "block.pt2"))
    onnx_export(module, x, tmp_path / "block.onnx")
    summaries = {}
    for suffix in ("pt2", "onnx"):
        out = tmp_path / f"out-{suffix}"
        argv = ["run", str(tmp_path / f"block.{suffix}"), str(hardware("tpu_like_quad_core")), "-o", str(out)]
        assert main([*argv, "--allocator", "greedy", "--no-cache"]) == 0
        summaries[suffix] = json.loads((out / "summary.json").read_text())
    assert main(["validate", str(tmp_path / "block.pt2")]) == 0
    assert f"{8 * 12 * 64 * 64 + 2 * 8 * 8 * 64:,} MACs" in capsys.readouterr().out
    pt2, onnx = summaries["pt2"], summaries["onnx"]
    assert pt2["latency_cycles"] == onnx["latency_cycles"] > 0
    assert pt2["energy_pj"] == onnx["energy_pj"]
    assert len(pt2["nodes"]) == len(onnx["nodes"]) == 21  # 29 ops; Transposes and Reshapes fold into their readers


def test_unknown_aten_ops_are_listed_in_one_error(context):
    class Odd(nn.Module):
        def forward(self, x):
            return torch.cumsum(x, 1) + torch.flip(x, [1]) + torch.cumsum(x, 0)

    with pytest.raises(InputError) as caught:
        TorchFrontend().load(ModuleCall(Odd(), (torch.randn(4, 4),)), context)
    messages = [p.message for p in caught.value.problems]
    assert messages[0].startswith("no lowering for ATen op 'aten.cumsum', used by 2 nodes")
    assert messages[1].startswith("no lowering for ATen op 'aten.flip', used by 1 node")
    assert "aten.linear" in messages[2]


def test_a_module_without_example_inputs_is_an_input_error(context):
    with pytest.raises(InputError, match=r"needs example inputs"):
        TorchFrontend().load(ConvNet(), context)


def test_frontend_record_accepts_programs_and_modules(context):
    record = context.plugins.registry("frontends").get("torch")
    program = torch.export.export(ConvNet().eval(), (torch.randn(1, 3, 8, 8),))
    assert record.accepts(program) and record.accepts(ConvNet()) and record.accepts(ModuleCall(ConvNet(), ()))
    assert not record.accepts("model.pt2")


def test_gpt2_block_matches_the_exported_module(context):
    """stream-blocks' gpt2 block and the torch module of the same shape do the same MAC work."""
    from stream_blocks.api import block_workload

    block = block_workload("gpt2?d=64&h=4&t=8", context)
    exported = TorchFrontend().load(ModuleCall(GPT2Block().eval(), (torch.randn(1, 8, 64),)), context)
    mac_nodes = [(op, loops) for op, loops, macs in shape_of(exported) if macs]
    assert [(op, loops) for op, loops, macs in shape_of(block) if macs] == mac_nodes
    assert block.macs == exported.macs


class GroupedAttention(nn.Module):
    """8 query heads over 2 key/value heads, through SDPA's enable_gqa or by repeating K and V."""

    def __init__(self, gqa: bool, mask_heads: int | None) -> None:
        super().__init__()
        self.gqa = gqa
        mask = torch.randn(1, mask_heads, 4, 4) if mask_heads else None
        self.register_buffer("mask", mask)

    def forward(self, q, k, v):
        if not self.gqa:
            k, v = (y[:, :, None].expand(1, 2, 4, 4, 16).reshape(1, 8, 4, 16) for y in (k, v))
        return F.scaled_dot_product_attention(q, k, v, attn_mask=self.mask, enable_gqa=self.gqa)


@pytest.mark.parametrize("mask_heads", [None, 1, 8])
def test_grouped_query_attention_broadcasts_kv_heads(mask_heads, context):
    """enable_gqa: each KV head serves 4 query heads without a copy; MACs equal repeating K and V."""
    q, k = torch.randn(1, 8, 4, 16), torch.randn(1, 2, 4, 16)
    grouped, repeated = (
        TorchFrontend().load(ModuleCall(GroupedAttention(gqa, mask_heads), (q, k, k)), context) for gqa in (True, False)
    )
    assert grouped.macs == repeated.macs == 2 * 8 * 4 * 4 * 16
    assert "Expand" not in {n.op_type for n in grouped.nodes}
    assert [n.op_type for n in grouped.nodes if n.macs] == ["MatMul", "MatMul"]
