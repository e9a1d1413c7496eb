"""stream-torch's hook implementations: the ``.pt2`` workload parser, the torch frontend and the
``hf-*`` model blocks (stream-blocks' hook) built from transformers configs.

Only records are built here; torch and transformers are imported when a program is read or a block built."""

from __future__ import annotations

from collections.abc import Iterator

from stream_blocks.hookspecs import BATCH, CACHE, TOKENS, BlockParameter, BlockRecord

from stream_core import hookimpl
from stream_core.plugins import lazy
from stream_core.records import FrontendRecord, WorkloadParserRecord


@hookimpl
def stream_register_workload_parsers() -> Iterator[WorkloadParserRecord]:
    yield WorkloadParserRecord(
        name="torch-export",
        description="torch.export programs (.pt2 written by torch.export.save): ATen ops lowered to ONNX operators",
        factory=lazy("stream_torch.frontend", "Pt2Parser"),
        suffixes=(".pt2",),
    )


@hookimpl
def stream_register_frontends() -> Iterator[FrontendRecord]:
    yield FrontendRecord(
        name="torch",
        description="torch.export.ExportedProgram, or stream_torch.ModuleCall(module, example_args)",
        factory=lazy("stream_torch.frontend", "TorchFrontend"),
        object_types=(
            "torch.export.exported_program.ExportedProgram",
            "stream_torch.frontend.ModuleCall",
            "torch.nn.modules.module.Module",
        ),
    )


def _width(d: int, h: int, ffn: int, kvh: int | None) -> tuple[BlockParameter, ...]:
    gqa = (BlockParameter("kvh", kvh, "key/value heads (0: h)", minimum=0),) if kvh is not None else ()
    ffn_help = "MLP width (intermediate_size)" if gqa else "MLP width (n_inner; 0: 4*d)"
    return (
        BATCH,
        TOKENS,
        CACHE,
        BlockParameter("d", d, "model width (hidden_size)"),
        BlockParameter("h", h, "attention heads"),
        *gqa,
        BlockParameter("ffn", ffn, ffn_help, minimum=0),
    )


#: name -> (description, parameters: GPT-2 small, Llama 3 8B and Qwen2.5 7B by default)
HF_BLOCKS = {
    "hf-gpt2": ("GPT2Block of transformers from a GPT2Config", _width(768, 12, 0, None)),
    "hf-llama": ("LlamaDecoderLayer of transformers from a LlamaConfig", _width(4096, 32, 14336, 8)),
    "hf-qwen": ("Qwen2DecoderLayer of transformers from a Qwen2Config", _width(3584, 28, 18944, 4)),
}


@hookimpl
def stream_register_blocks() -> Iterator[BlockRecord]:
    for name, (description, parameters) in HF_BLOCKS.items():
        yield BlockRecord(
            name=name,
            description=f"{description}, random weights, exported with torch.export (needs transformers)",
            factory=lazy("stream_torch.hf", name.removeprefix("hf-")),
            parameters=parameters,
        )
