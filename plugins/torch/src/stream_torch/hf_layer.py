"""One ``transformers`` decoder layer with random weights, wrapped for ``torch.export`` (imports torch and
transformers; :mod:`stream_torch.hf` checks they are installed first).

The wrapper feeds the layer what a model's forward would: rotary tables for positions ``kv .. kv+t-1``
and, for ``t > 1`` new tokens after ``kv > 0`` cached ones, the causal mask, both computed here with
torch and kept as buffers (constants of the program); the KV cache is two program inputs that the layer
concatenates with its new keys and values. Attention is transformers' SDPA implementation.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any

import torch
from torch import nn

from stream_torch.frontend import ModuleCall

#: transformers model type -> (modeling module, decoder layer class, rotary embedding class or None).
LAYERS = {
    "gpt2": ("transformers.models.gpt2.modeling_gpt2", "GPT2Block", None),
    "llama": ("transformers.models.llama.modeling_llama", "LlamaDecoderLayer", "LlamaRotaryEmbedding"),
    "qwen2": ("transformers.models.qwen2.modeling_qwen2", "Qwen2DecoderLayer", "Qwen2RotaryEmbedding"),
}


class KVCache:
    """The cache a layer sees (``Cache.update``): the cached keys and values followed by the new ones."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor):
        self.keys, self.values = keys, values

    def update(self, keys: torch.Tensor, values: torch.Tensor, *_: Any, **__: Any) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.cat([self.keys, keys], dim=-2), torch.cat([self.values, values], dim=-2)


class DecoderLayerCall(nn.Module):
    """``layer(x, k_cache, v_cache)`` for ``t`` new tokens after ``kv`` cached ones (no cache inputs if 0)."""

    def __init__(self, config: Any, t: int, kv: int):
        super().__init__()
        module, layer, rotary = LAYERS[config.model_type]
        classes = importlib.import_module(module)
        self.layer = getattr(classes, layer)(config, layer_idx=0)
        self.rotary = rotary is not None
        if rotary is not None:
            positions = torch.arange(kv, kv + t).unsqueeze(0)
            cos, sin = getattr(classes, rotary)(config)(torch.zeros(1, t, config.hidden_size), positions)
            self.register_buffer("cos", cos)
            self.register_buffer("sin", sin)
        # SDPA's own causal mask serves prefill; one new token attends to everything; a chunk after
        # a cache needs the mask aligned to its last token, as transformers builds it
        mask = torch.full((t, kv + t), float("-inf")).triu(kv + 1)[None, None] if kv and t > 1 else None
        self.register_buffer("mask", mask)

    def forward(
        self, x: torch.Tensor, k_cache: torch.Tensor | None = None, v_cache: torch.Tensor | None = None
    ) -> torch.Tensor:
        cache = KVCache(k_cache, v_cache) if k_cache is not None and v_cache is not None else None
        kwargs: dict[str, Any] = {"past_key_values": cache}
        if self.rotary:
            kwargs["position_embeddings"] = (self.cos, self.sin)
        if self.mask is not None:
            kwargs["attention_mask"] = self.mask
        out = self.layer(x, **kwargs)
        return out[0] if isinstance(out, tuple) else out


def layer_call(config: Any, *, b: int, t: int, kv: int) -> ModuleCall:
    """The wrapped layer of ``config`` (random weights, SDPA attention) and its example inputs."""
    config = copy.deepcopy(config)  # the caller's config keeps its attention implementation
    config._attn_implementation = "sdpa"
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    cache = [torch.zeros(b, kv_heads, kv, head_dim) for _ in range(2)] if kv else []
    args: list[torch.Tensor] = [torch.zeros(b, t, config.hidden_size), *cache]
    return ModuleCall(DecoderLayerCall(config, t, kv), args)
