"""Benchmark of stream-fpga-u55c: codegen time, g++ build time, C-simulation time, FIFO totals and resource
estimates for the example models, and codegen + estimates for a GPT-2 decoder block at hidden 768.

    python stream_fpga_u55c/bench/bench_u55c.py [--decoder-csim] [--workdir DIR]

``--decoder-csim`` also builds and simulates the decoder block (slow: every weight tile is re-streamed for
every row). Prints one table and the GPT-2 decoding estimate; nothing is timed inside the test suite.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import tempfile
import time
from pathlib import Path

from stream_fpga_u55c.compile import Compiled, CompileOptions, compile_workload, write_project

from stream_core.context import RunContext
from stream_core.plugins import load_plugins
from stream_fpga_u55c import examples

FLAGS = ["-std=c++17", "-Wall", "-Werror", "-Wno-unknown-pragmas", "-O2", "-pthread", "-DSTREAM_CSIM"]
MODELS = {
    "mlp": (examples.mlp, True),
    "conv_block": (examples.conv_block, True),
    "attention": (examples.attention, True),
    "transpose_skip": (examples.transpose_skip, True),
    "gpt2_block_768": (examples.decoder_block, False),
}


def build(project: Path) -> float:
    sources = sorted(str(p) for p in (project / "src").glob("*.cpp"))
    command = ["g++", *FLAGS, f"-I{project / 'csim'}", f"-I{project / 'src'}", *sources]
    command += [str(project / "tb" / "csim_main.cpp"), "-o", str(project / "csim.bin")]
    began = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - began


def simulate(project: Path) -> tuple[float, dict[str, dict[str, str]]]:
    out = project / "out"
    out.mkdir(exist_ok=True)
    began = time.perf_counter()
    subprocess.run([str(project / "csim.bin"), str(project / "data"), str(out)], check=True)
    seconds = time.perf_counter() - began
    with (out / "streams.csv").open() as f:
        return seconds, {row["name"]: row for row in csv.DictReader(f)}


def occupancy_vs_lp(compiled: Compiled, stats: dict[str, dict[str, str]]) -> str:
    """Sum over the LP-sized FIFOs of the simulated max occupancy and of the depth, both in tokens."""
    used = depth = 0
    for group in compiled.design.groups:
        for s in group.streams:
            if s.kind == "fifo":
                used += -(-int(stats[s.name]["max_occupancy"]) // (s.depth // s.tokens))
                depth += s.tokens
    return f"{used}/{depth}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decoder-csim", action="store_true", help="also build and simulate the decoder block")
    parser.add_argument("--workdir", type=Path, help="keep the projects here (default: a temporary directory)")
    args = parser.parse_args()
    context = RunContext(plugins=load_plugins())
    root = args.workdir or Path(tempfile.mkdtemp(prefix="u55c-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    header = (
        f"{'model':<15} {'nodes':>5} {'grp':>3} {'codegen s':>9} {'g++ s':>6} {'csim s':>7} {'FIFOs':>5} "
        f"{'FIFO Kb':>8} {'cvt Kb':>8} {'occ/depth':>10} {'BRAM36':>7} {'URAM':>5} {'DSP':>5}  SLRs"
    )
    print(header)
    print("-" * len(header))
    last = None
    for name, (builder, run_csim) in MODELS.items():
        model = builder(root / f"{name}.onnx")
        began = time.perf_counter()
        compiled = compile_workload(model, context, CompileOptions())
        codegen = time.perf_counter() - began
        project = root / name
        write_project(compiled.files, project, force=True)
        gxx = sim = "-"
        occupancy = "-"
        if run_csim or args.decoder_csim:
            gxx = f"{build(project):.2f}"
            seconds, stats = simulate(project)
            sim = f"{seconds:.2f}"
            occupancy = occupancy_vs_lp(compiled, stats)
        plan, estimate = compiled.plan, compiled.estimate
        converter_bits = sum(c.buffers * c.buffer_bits for s in plan.sizings for c in s.converters)
        use = [estimate.slr_use(i) for i in range(len(estimate.platform.slrs))]
        bram, uram, dsp = (sum(u[k] for u in use) for k in range(3))
        slrs = ", ".join(f"{g}->SLR{s}" for g, s in estimate.placement)
        print(
            f"{name:<15} {len(compiled.design.workload.nodes):>5} {len(compiled.design.groups):>3} {codegen:>9.3f} "
            f"{gxx:>6} {sim:>7} {len(plan.fifos):>5} {plan.total_fifo_bits / 1024:>8.1f} {converter_bits / 1024:>8.1f} "
            f"{occupancy:>10} {bram:>7} {uram:>5} {dsp:>5}  {slrs}"
        )
        last = compiled
    print()
    print("FIFO Kb: LP-sized FIFO bits (tokens x token bits, before capping); cvt Kb: converter ping-pong buffers;")
    print("occ/depth: sums over the FIFOs of the simulated max occupancy and of the depth (LP, capped), in tokens.")
    print(f"projects in {root}")
    print()
    assert last is not None
    print(last.gpt2.table())


if __name__ == "__main__":
    main()
