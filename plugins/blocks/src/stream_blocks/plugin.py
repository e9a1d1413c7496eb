"""stream-blocks' hook implementations: its own block hook (:mod:`stream_blocks.hookspecs`), the
built-in blocks, the ``.block`` workload parser and the ``stream blocks`` command."""

from __future__ import annotations

from collections.abc import Iterator

import pluggy

from stream_blocks.hookspecs import BATCH, CACHE, TOKENS, BlockParameter, BlockRecord
from stream_core import hookimpl
from stream_core.plugins import lazy
from stream_core.records import CommandRecord, WorkloadParserRecord

_LIB = "stream_blocks.library"


def _stage(hw: int, c_in: int, c: int, n: int, stride: int) -> tuple[BlockParameter, ...]:
    return (
        BATCH,
        BlockParameter("hw", hw, "input height and width"),
        BlockParameter("c_in", c_in, "input channels"),
        BlockParameter("c", c, "output channels"),
        BlockParameter("n", n, "blocks in the stage"),
        BlockParameter("stride", stride, "stride of the first block"),
    )


BLOCKS: dict[str, tuple[str, tuple[BlockParameter, ...]]] = {
    "gpt2": (
        "GPT-2 decoder layer: LayerNorm, fused QKV, causal multi-head attention, GELU MLP",
        (
            BATCH,
            TOKENS,
            CACHE,
            BlockParameter("d", 768, "model width"),
            BlockParameter("h", 12, "attention heads"),
            BlockParameter("ffn", 0, "MLP width (0: 4*d)", minimum=0),
        ),
    ),
    "llama": (
        "Llama decoder layer: RMSNorm, RoPE, grouped-query attention, SwiGLU MLP",
        (
            BATCH,
            TOKENS,
            CACHE,
            BlockParameter("d", 4096, "model width"),
            BlockParameter("h", 32, "query heads"),
            BlockParameter("kvh", 8, "key/value heads (0: h)", minimum=0),
            BlockParameter("ffn", 14336, "MLP width"),
        ),
    ),
    "moe": (
        "mixture-of-experts FFN: softmax router, top-k with balanced load, SwiGLU experts",
        (
            BlockParameter("t", 128, "tokens"),
            BlockParameter("d", 4096, "model width"),
            BlockParameter("ffn", 14336, "expert MLP width"),
            BlockParameter("e", 8, "experts"),
            BlockParameter("k", 2, "experts per token"),
        ),
    ),
    "resnet": ("ResNet stage of basic blocks (3x3, 3x3, shortcut)", _stage(56, 64, 64, 2, 1)),
    "mobilenet": (
        "MobileNetV2 stage of inverted residuals (1x1 expand, 3x3 depthwise, 1x1 project)",
        (*_stage(56, 24, 32, 3, 2), BlockParameter("expand", 6, "expansion ratio")),
    ),
}


@hookimpl
def stream_add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    from stream_blocks import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def stream_register_blocks() -> Iterator[BlockRecord]:
    for name, (description, parameters) in BLOCKS.items():
        yield BlockRecord(name=name, description=description, factory=lazy(_LIB, name), parameters=parameters)


@hookimpl
def stream_register_workload_parsers() -> Iterator[WorkloadParserRecord]:
    yield WorkloadParserRecord(
        name="block",
        description="model blocks: a .block file names a block and its parameters (stream blocks lists them)",
        factory=lazy("stream_blocks.parser", "BlockFileParser"),
        suffixes=(".block",),
        schemes=("block",),
    )


@hookimpl
def stream_register_commands() -> Iterator[CommandRecord]:
    yield CommandRecord(
        name="blocks",
        description="list model blocks, or show the workload of one",
        factory=lazy("stream_blocks.command", "BlocksCommand"),
    )
