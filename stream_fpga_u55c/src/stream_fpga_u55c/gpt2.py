"""GPT-2 decoding estimates: from a compiled GPT-2 block with a KV cache (:func:`gpt2_decoding`), and the
bandwidth- and compute-bound of GPT-2 small (:class:`Gpt2Estimate`) shown beside it, with StreamTensor's
published measurements.

:func:`gpt2_decoding` applies only to a stream-blocks ``gpt2`` block with a KV cache (inputs ``k_cache`` and
``v_cache``, ``t=1``): one decoding step at context ``L`` (the cache length) is 12 layers x the predicted
latency of the compiled block; the embedding, final norm and LM head are not in the block and not counted.

The bound:

Model (GPT-2 small: 12 layers, hidden 768, 12 heads, FFN 3072, vocabulary 50257, tied LM head). Every
generated token streams every weight from HBM once (no weight stays on chip) and reads the KV cache::

    bytes(n) = w * (12 * (7,077,888 + 9,984) + 1,536 + 50257 * 768 + 2 * 768)      layers, LM head, embedding rows
             + kv * 2 * 12 * 768 * (n + 1)                                          read K,V of n tokens, write 1
    macs(n)  = 12 * 7,077,888 + 50257 * 768 + 2 * 12 * 768 * n                     projections, LM head, attention
    t(n)     = max(bytes(n) / B, macs(n) / P)       B = HBM bandwidth, P = DSPs / (DSPs per fp32 MAC) * f_clk

A request ``[in:out]``: TTFT = one prefill pass over ``in`` tokens (weights once, ``in`` x the MACs),
then ``out`` decoding steps at context lengths ``in + 1 ... in + out``; latency = TTFT + decode time and
tokens/s = out / decode time (StreamTensor's definitions reproduce its tables: 32 / (194.99 - 34.59) ms =
199.5 tokens/s). These are upper bounds (theoretical bandwidth, every DSP busy), not measurements.
"""

from __future__ import annotations

import attrs

from stream_core.ir import Workload
from stream_fpga_u55c.performance import Performance
from stream_fpga_u55c.platform import Platform

LAYERS, HIDDEN, HEADS, FFN, VOCAB = 12, 768, 12, 3072, 50257
LAYER_MATRIX = HIDDEN * 3 * HIDDEN + HIDDEN * HIDDEN + HIDDEN * FFN + FFN * HIDDEN  # 7,077,888
LAYER_VECTORS = 3 * HIDDEN + HIDDEN + FFN + HIDDEN + 4 * HIDDEN  # biases and two layer norms: 9,984
FINAL_NORM = 2 * HIDDEN
LM_HEAD = VOCAB * HIDDEN
EMBEDDING_ROWS = 2 * HIDDEN  # one token embedding row and one position embedding row per token

#: StreamTensor's GPT-2 results on the U55C (H. Ye, "StreamTensor" lecture slides, MICRO '25 paper):
#: [in:out] -> (latency ms, TTFT ms, tokens/s).
STREAMTENSOR = {
    (32, 32): (194.99, 34.59, 199.51),
    (64, 64): (358.24, 61.27, 215.51),
    (128, 128): (696.65, 125.35, 224.05),
    (256, 256): (1387.76, 272.85, 229.61),
}
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "int8": 1}

FORMULA = (
    "t(n) = max(bytes(n) / B, macs(n) / P); bytes(n) = w x {params:,} streamed parameters (all layers, LM head, "
    "embedding rows) + kv x {kv:,} x (n + 1); macs(n) = {macs:,} + {kv:,} x n; B = {bw:g} GB/s, "
    "P = {dsp} DSP / {per_mac} DSP per fp32 MAC x {mhz:g} MHz = {peak:.1f} GMAC/s"
)


@attrs.frozen
class Row:
    tokens_in: int
    tokens_out: int
    latency_ms: float
    ttft_ms: float
    tokens_per_s: float
    bound: str  # what limits decoding: "bandwidth" or "compute"


def streamed_parameters() -> int:
    return LAYERS * (LAYER_MATRIX + LAYER_VECTORS) + FINAL_NORM + LM_HEAD + EMBEDDING_ROWS


def decode_macs(n: int) -> int:
    return LAYERS * LAYER_MATRIX + LM_HEAD + 2 * LAYERS * HIDDEN * n


def decode_bytes(n: int, weight_bytes: int, kv_bytes: int) -> int:
    return weight_bytes * streamed_parameters() + kv_bytes * 2 * LAYERS * HIDDEN * (n + 1)


class Gpt2Estimate:
    """Per-token times from the platform's HBM bandwidth and DSP count (see the module docstring)."""

    def __init__(self, platform: Platform, weights: str = "fp32", kv_cache: str | None = None) -> None:
        self.platform = platform
        self.weights = weights
        self.kv_cache = kv_cache or weights
        self.bandwidth = platform.hbm_bandwidth_gbps * 1e9  # bytes/s
        self.dsp_per_mac = platform.dsp("mul") + platform.dsp("add")
        self.peak_macs = sum(s.dsp for s in platform.slrs) / self.dsp_per_mac * platform.clock_mhz * 1e6

    def step(self, n: int) -> tuple[float, str]:
        """Seconds of one decoding step with ``n`` tokens already in the KV cache, and the binding limit."""
        memory = decode_bytes(n, DTYPE_BYTES[self.weights], DTYPE_BYTES[self.kv_cache]) / self.bandwidth
        compute = decode_macs(n) / self.peak_macs
        return (memory, "bandwidth") if memory >= compute else (compute, "compute")

    def prefill(self, tokens: int) -> float:
        weights = DTYPE_BYTES[self.weights] * streamed_parameters()
        kv = DTYPE_BYTES[self.kv_cache] * 2 * LAYERS * HIDDEN * tokens
        macs = tokens * (LAYERS * LAYER_MATRIX + LM_HEAD) + LAYERS * HIDDEN * tokens * tokens
        return max((weights + kv) / self.bandwidth, macs / self.peak_macs)

    def row(self, tokens_in: int, tokens_out: int) -> Row:
        steps = [self.step(tokens_in + i) for i in range(tokens_out)]
        decode = sum(t for t, _ in steps)
        ttft = self.prefill(tokens_in)
        bound = "bandwidth" if sum(1 for _, b in steps if b == "bandwidth") * 2 >= len(steps) else "compute"
        return Row(tokens_in, tokens_out, 1e3 * (ttft + decode), 1e3 * ttft, tokens_out / decode, bound)

    def formula(self) -> str:
        return FORMULA.format(
            params=streamed_parameters(),
            kv=2 * LAYERS * HIDDEN,
            macs=decode_macs(0),
            bw=self.platform.hbm_bandwidth_gbps,
            dsp=sum(s.dsp for s in self.platform.slrs),
            per_mac=self.dsp_per_mac,
            mhz=self.platform.clock_mhz,
            peak=self.peak_macs / 1e9,
        )

    def table(self) -> str:
        lines = [
            f"GPT-2 small decoding on the {self.platform.name}: ESTIMATE (upper bound from bandwidth and DSP count, "
            "not a measurement)",
            f"  weights {self.weights}, KV cache {self.kv_cache}; clock {self.platform.clock_mhz:g} MHz (unverified)",
            f"  {self.formula()}",
            f"  {'[in:out]':<10} {'latency ms':>11} {'TTFT ms':>9} {'tok/s':>8} {'bound':>10}   |"
            f" StreamTensor (measured): {'latency':>8} {'TTFT':>7} {'tok/s':>7}",
        ]
        for (n_in, n_out), (lat, ttft, tps) in STREAMTENSOR.items():
            r = self.row(n_in, n_out)
            lines.append(
                f"  [{n_in}:{n_out}]{'':<{8 - len(f'{n_in}:{n_out}')}} {r.latency_ms:>11.2f} {r.ttft_ms:>9.2f}"
                f" {r.tokens_per_s:>8.1f} {r.bound:>10}   | {'':>24} {lat:>8.2f} {ttft:>7.2f} {tps:>7.2f}"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict:
        rows = []
        for (n_in, n_out), (lat, ttft, tps) in STREAMTENSOR.items():
            r = self.row(n_in, n_out)
            rows.append(
                {
                    "in": n_in,
                    "out": n_out,
                    "estimate": {
                        "latency_ms": round(r.latency_ms, 3),
                        "ttft_ms": round(r.ttft_ms, 3),
                        "tokens_per_s": round(r.tokens_per_s, 2),
                        "decode_bound": r.bound,
                    },
                    "streamtensor_measured": {"latency_ms": lat, "ttft_ms": ttft, "tokens_per_s": tps},
                }
            )
        return {
            "label": "ESTIMATE (upper bound), not a measurement",
            "model": "GPT-2 small (12 layers, hidden 768, 12 heads, vocab 50257)",
            "weights": self.weights,
            "kv_cache": self.kv_cache,
            "formula": self.formula(),
            "rows": rows,
        }


@attrs.frozen
class Gpt2Decoding:
    """Decoding speed of GPT-2 small predicted from the compiled block (see the module docstring)."""

    hidden: int
    context: int
    block_latency_s: float
    bound: Gpt2Estimate

    @property
    def step_s(self) -> float:
        return LAYERS * self.block_latency_s

    @property
    def tokens_per_s(self) -> float:
        return 1 / self.step_s

    def table(self) -> str:
        bound, _ = self.bound.step(self.context)
        lines = [
            f"GPT-2 decoding ESTIMATE from this compiled block (hidden {self.hidden}, context {self.context}; "
            "not a measurement):",
            f"  one step = {LAYERS} layers x block latency {1e3 * self.block_latency_s:.3f} ms = "
            f"{1e3 * self.step_s:.3f} ms -> {self.tokens_per_s:.1f} tokens/s "
            "(embedding, final norm, LM head not counted)",
            f"  bandwidth/DSP bound of GPT-2 small fp32 at this context: {1 / bound:.1f} tokens/s",
            "  StreamTensor on the U55C (measured, slides): "
            + ", ".join(f"[{i}:{o}] {tps:.2f} tokens/s" for (i, o), (_, _, tps) in STREAMTENSOR.items()),
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "label": "ESTIMATE from the compiled GPT-2 block with a KV cache, not a measurement",
            "hidden": self.hidden,
            "context": self.context,
            "block_latency_ms": round(1e3 * self.block_latency_s, 6),
            "step_ms": round(1e3 * self.step_s, 6),
            "tokens_per_s": round(self.tokens_per_s, 3),
            "not_counted": ["embedding", "final norm", "LM head"],
            "bound_tokens_per_s": round(1 / self.bound.step(self.context)[0], 3),
            "streamtensor_measured": [
                {"in": i, "out": o, "latency_ms": lat, "ttft_ms": ttft, "tokens_per_s": tps}
                for (i, o), (lat, ttft, tps) in STREAMTENSOR.items()
            ],
        }


def gpt2_decoding(workload: Workload, performance: Performance, platform: Platform) -> Gpt2Decoding | None:
    """The decoding estimate when ``workload`` is a GPT-2 block with a KV cache, else ``None``."""
    if workload.name != "gpt2" or not {"k_cache", "v_cache"} <= set(workload.inputs):
        return None
    cache = workload.tensor("k_cache").shape
    hidden = workload.tensor(workload.inputs[0]).shape[-1]
    return Gpt2Decoding(hidden, cache[-2], performance.latency_s, Gpt2Estimate(platform))
