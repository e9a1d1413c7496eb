"""Decoder layers of Hugging Face ``transformers`` models (GPT-2, Llama, Qwen2) as workloads, offline.

One layer is built from a transformers config with random weights and exported with ``torch.export``
for ``t`` new tokens after ``kv`` cached ones (:mod:`stream_torch.hf_layer`), then lowered like any
program. The config comes from block parameters (blocks ``hf-gpt2``, ``hf-llama``, ``hf-qwen``) or, in
Python, from a ``PretrainedConfig`` or a local ``config.json`` (:func:`config_workload`); nothing is
downloaded. Needs torch and transformers; without them building a block says to install them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir import Workload

INSTALL = "pip install torch==2.13.0 transformers==4.57.6 (a CPU build of torch is enough)"

#: Block name -> transformers model type.
BLOCK_TYPES = {"hf-gpt2": "gpt2", "hf-llama": "llama", "hf-qwen": "qwen2"}


def _require(condition: bool, block: str, field: str, message: str) -> None:
    if not condition:
        raise InputError(Problem(message, file=f"block:{block}", field=field))


def _spec(block: str, values: Mapping[str, int]) -> str:
    return f"block:{block}?" + "&".join(f"{k}={v}" for k, v in values.items())


def _transformers(source: str) -> Any:
    """The ``transformers`` module, or an error saying to install it (and torch)."""
    try:
        import torch  # noqa: F401  (transformers' models need it)
        import transformers
    except ImportError:
        raise InputError(
            Problem(f"a transformers layer needs torch and transformers; {INSTALL}", file=source)
        ) from None
    return transformers


def config_workload(config: Any, context: RunContext, *, t: int = 128, kv: int = 0, b: int = 1) -> Workload:
    """The workload of one decoder layer of ``config`` (a ``PretrainedConfig``, or a local ``config.json``
    file or model folder): ``b`` sequences of ``t`` new tokens after ``kv`` cached ones."""
    source = str(config) if isinstance(config, str | Path) else type(config).__name__
    transformers = _transformers(source)
    if isinstance(config, str | Path):
        try:
            config = transformers.AutoConfig.from_pretrained(str(config), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise InputError(Problem(f"not a readable local transformers config: {exc}", file=source)) from None
    return _layer_workload(config, context, source, b=b, t=t, kv=kv)


def _layer_workload(config: Any, context: RunContext, source: str, *, b: int, t: int, kv: int) -> Workload:
    from stream_torch.frontend import call_workload
    from stream_torch.hf_layer import LAYERS, layer_call

    if config.model_type not in LAYERS:
        raise InputError(
            Problem(
                f"model type {config.model_type!r} has no decoder layer here; supported: {', '.join(LAYERS)}",
                file=source,
                field="model_type",
            )
        )
    dtype = str(getattr(config, "dtype", None) or "torch.float32")
    if dtype != "torch.float32":
        context.warn(f"{source}: the layer is built in float32; the config's dtype {dtype} is not modelled")
    return call_workload(layer_call(config, b=b, t=t, kv=kv), context, source, config.model_type)


def _block(block: str, values: Mapping[str, int], context: RunContext, **config: Any) -> Workload:
    transformers = _transformers(f"block:{block}")
    d, h, kvh = values["d"], values["h"], values.get("kvh") or values["h"]
    _require(d % h == 0, block, "h", f"d={d} is not a multiple of the head count h={h}")
    _require(h % kvh == 0, block, "kvh", f"the head count h={h} is not a multiple of the KV head count kvh={kvh}")
    if block != "hf-gpt2":
        _require((d // h) % 2 == 0, block, "h", f"RoPE needs an even head size, d/h is {d // h}")
    made = transformers.AutoConfig.for_model(BLOCK_TYPES[block], **config)
    b, t, kv = values["b"], values["t"], values["kv"]
    return _layer_workload(made, context, _spec(block, values), b=b, t=t, kv=kv)


def gpt2(values: Mapping[str, int], context: RunContext) -> Workload:
    """``GPT2Block`` of a ``GPT2Config`` (``n_inner`` = ``ffn``, 4d when 0)."""
    return _block("hf-gpt2", values, context, n_embd=values["d"], n_head=values["h"], n_inner=values["ffn"] or None)


def llama(values: Mapping[str, int], context: RunContext) -> Workload:
    """``LlamaDecoderLayer`` of a ``LlamaConfig``."""
    return _block("hf-llama", values, context, **_gqa_config(values))


def qwen(values: Mapping[str, int], context: RunContext) -> Workload:
    """``Qwen2DecoderLayer`` of a ``Qwen2Config`` (Qwen2 and Qwen2.5: biased q/k/v projections)."""
    return _block("hf-qwen", values, context, **_gqa_config(values))


def _gqa_config(values: Mapping[str, int]) -> dict[str, int]:
    return {
        "hidden_size": values["d"],
        "num_attention_heads": values["h"],
        "num_key_value_heads": values["kvh"] or values["h"],
        "intermediate_size": values["ffn"],
    }
