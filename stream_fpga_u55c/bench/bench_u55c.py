"""Benchmark of stream-fpga-u55c: per model, compile time, kernels, FIFO and converter bits against
full-tensor buffering, resources and the predicted latency/throughput of the generated design.

    python stream_fpga_u55c/bench/bench_u55c.py

Models: the MLP and conv examples, a GPT-2 block (hidden 768, 64 tokens), a Llama block (hidden 768,
12 heads, 4 KV heads, FFN 2048, 64 tokens), and a GPT-2 decoding step with a 64-token KV cache (its
decoding estimate is printed after the table). A model that does not compile prints its error.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from stream_blocks.api import block_workload
from stream_fpga_u55c.compile import Compiled, CompileOptions, compile_workload

from stream_core.context import RunContext
from stream_core.errors import StreamError
from stream_core.ir import Workload
from stream_core.plugins import load_plugins
from stream_fpga_u55c import examples

MODELS: dict[str, Callable[[Path, RunContext], Workload | Path]] = {
    "mlp": lambda d, c: examples.mlp(d / "mlp.onnx"),
    "conv_block": lambda d, c: examples.conv_block(d / "conv.onnx"),
    "gpt2 t=64": lambda d, c: block_workload("gpt2?d=768&t=64", c),
    "llama t=64": lambda d, c: block_workload("llama?d=768&h=12&kvh=4&ffn=2048&t=64", c),
    "gpt2 decode kv=64": lambda d, c: block_workload("gpt2?d=768&t=1&kv=64", c),
}


def row(name: str, compiled: Compiled, seconds: float) -> str:
    plan, perf = compiled.plan, compiled.performance
    use = [compiled.estimate.slr_use(i) for i in range(len(compiled.estimate.platform.slrs))]
    bram, uram, dsp = (sum(u[k] for u in use) for k in range(3))
    return (
        f"{name:<18} {seconds:>6.1f} {len(plan.graph.kernels):>4} {len(plan.fusion.groups):>3} "
        f"{plan.total_fifo_bits / 1e6:>8.2f} {plan.converter_bits / 1e6:>8.2f} {plan.full_tensor_bits / 1e6:>8.2f} "
        f"{plan.activation_ratio:>6.3f} {bram:>6} {uram:>5} {dsp:>5} {1e3 * perf.latency_s:>9.3f} "
        f"{perf.frames_per_s:>9.1f} {100 * perf.throughput_ratio:>6.1f}"
    )


def main() -> None:
    context = RunContext(plugins=load_plugins())
    root = Path(tempfile.mkdtemp(prefix="u55c-bench-"))
    header = (
        f"{'model':<18} {'cmp s':>6} {'krn':>4} {'grp':>3} {'FIFO Mb':>8} {'cvt Mb':>8} {'full Mb':>8} "
        f"{'ratio':>6} {'BRAM36':>6} {'URAM':>5} {'DSP':>5} {'lat ms':>9} {'frames/s':>9} {'thr %':>6}"
    )
    print(header)
    print("-" * len(header))
    decoding = None
    for name, build in MODELS.items():
        began = time.perf_counter()
        try:
            compiled = compile_workload(build(root, context), context, CompileOptions())
        except StreamError as exc:
            print(f"{name:<18} does not compile: {exc}")
            continue
        print(row(name, compiled, time.perf_counter() - began))
        decoding = compiled.gpt2 or decoding
    print()
    print("FIFO Mb: LP-sized FIFOs; cvt Mb: converter buffers; full Mb: every edge buffering its whole tensor;")
    print("ratio = (FIFO + cvt) / full; thr %: steady-state throughput with the LP depths vs unbounded FIFOs.")
    if decoding:
        print(decoding.table())


if __name__ == "__main__":
    main()
