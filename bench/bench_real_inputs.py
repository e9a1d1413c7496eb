"""Real-input benchmark: wall time per pipeline stage on workloads that once took minutes.

Each case runs in its own process with a timeout (the process group is killed) and prints, per
stage, the seconds it took, then the number of tiles, cost requests, distinct costs (and how many
were computed), transfers, latency and energy. A case that times out shows the stages it finished.

    python bench/bench_real_inputs.py                       # every case, 900 s each
    python bench/bench_real_inputs.py --only swiglu --timeout 300 --allocator tetra
    python bench/bench_real_inputs.py --list

Cases: the bundled transformer MLP on the AIE Strix array, ZigZag's bundled AlexNet and Stream's
SwiGLU 256x2048x8192 on the bundled quad core, and a bundled example as a quick check. The SwiGLU
workload is made by Stream 2.1.1's own builder in the side environment of the parity bench
(``--stream-venv``, default ``~/.cache/stream-core/parity-venv``; on the team machine
``/work/parity/venv``); without it that case is skipped. Costs are computed afresh (no persistent
cache) unless ``--cache`` is given, so runs compare.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "stream-core"
SWIGLU_SIZE = (256, 2048, 8192)
MAKE_SWIGLU = """
import importlib, sys
module = importlib.import_module("stream.inputs.testing.workload.make_swiglu")
module.make_small_swiglu_workload(*map(int, sys.argv[2:5]), output_dir=sys.argv[1])
"""


def examples(kind: str, name: str) -> Path:
    return Path(str(resources.files(f"stream_core.examples.{kind}").joinpath(name)))


def aie_hardware(name: str) -> Path:
    return Path(str(resources.files("stream_cores_aie").joinpath("hardware", name)))


def alexnet() -> Path:
    return Path(str(resources.files("zigzag").joinpath("inputs", "workload", "alexnet.onnx")))


def swiglu(stream_venv: Path, folder: Path) -> Path | str:
    """Stream's SwiGLU made by its own builder, or why it cannot be."""
    python = stream_venv / "bin" / "python"
    if not python.exists():
        return f"no side environment at {stream_venv} (see --stream-venv)"
    sizes = [str(n) for n in SWIGLU_SIZE]
    done = subprocess.run([str(python), "-c", MAKE_SWIGLU, str(folder), *sizes], capture_output=True, text=True)
    path = folder / f"swiglu_{'_'.join(sizes)}.onnx"
    return path if done.returncode == 0 and path.exists() else (done.stderr.strip().splitlines() or ["failed"])[-1]


def cases(stream_venv: Path, folder: Path) -> dict[str, tuple[Callable[[], Path | str], Path]]:
    """Case name -> (what makes the workload file or says why it cannot be, hardware file)."""
    quad = examples("hardware", "tpu_like_quad_core.yaml")
    return {
        "resnet_block@hetero_array_simd": (
            lambda: examples("workloads", "resnet_block.onnx"),
            examples("hardware", "hetero_array_simd.yaml"),
        ),
        "transformer_mlp@whole_array_strix": (
            lambda: examples("workloads", "transformer_mlp.onnx"),
            aie_hardware("whole_array_strix.yaml"),
        ),
        "alexnet@tpu_like_quad_core": (alexnet, quad),
        "swiglu_256x2048x8192@tpu_like_quad_core": (lambda: swiglu(stream_venv, folder), quad),
    }


def run_one(workload: str, hardware: str, allocator: str, cache: bool) -> None:
    """Run the stages one by one in this process, printing one JSON line per stage and a final one."""
    from stream_core.context import RunContext, RunOptions
    from stream_core.pipeline import STAGES, PipelineState
    from stream_core.plugins import load_plugins

    options = RunOptions(allocator=allocator, use_cache=cache)
    context = RunContext(plugins=load_plugins(), options=options)
    state = PipelineState(workload, hardware)
    for name, stage in STAGES:
        started = time.perf_counter()
        stage(state, context)
        print(json.dumps({"stage": name, "seconds": round(time.perf_counter() - started, 2)}), flush=True)
    result, stats = state.result, state.costs.stats
    totals = result.totals
    print(
        json.dumps(
            {
                "tiles": sum(len(tiling.tiles()) for tiling in state.tilings.values()),
                "requests": stats["requests"],
                "unique": stats["unique"],
                "computed": stats["computed"],
                "transfers": len(result.transfers),
                "latency": totals.latency,
                "energy_pj": totals.compute_energy_pj + totals.transfer_energy_pj + totals.memory_energy_pj,
            }
        ),
        flush=True,
    )


def measure(name: str, workload: Path, hardware: Path, args: argparse.Namespace) -> None:
    command = [sys.executable, __file__, "--one", str(workload), str(hardware), "--allocator", args.allocator]
    command += ["--cache"] if args.cache else []
    started = time.perf_counter()
    pipe = subprocess.PIPE
    child = subprocess.Popen(command, stdout=pipe, stderr=pipe, text=True, start_new_session=True)
    try:
        out, err = child.communicate(timeout=args.timeout)
        ending = "" if child.returncode == 0 else f"  FAILED: {(err.strip().splitlines() or ['?'])[-1]}"
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        out, _ = child.communicate()
        ending = f"  TIMEOUT after {args.timeout:.0f} s"
    wall = time.perf_counter() - started
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    stages = "  ".join(f"{line['stage']} {line['seconds']:.2f}" for line in lines if "stage" in line)
    print(f"{name}: {wall:.1f} s wall  | {stages}{ending}", flush=True)
    for line in lines:
        if "tiles" in line:
            print("    " + "  ".join(f"{key} {value:,}" for key, value in line.items()), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="cases whose name contains this; repeatable")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per case (default 900)")
    parser.add_argument("--allocator", default="greedy", help="allocator (default greedy)")
    parser.add_argument("--cache", action="store_true", help="use the persistent cost cache")
    parser.add_argument("--stream-venv", type=Path, default=CACHE / "parity-venv", help="side env with stream-dse")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--one", nargs=2, metavar=("WORKLOAD", "HARDWARE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        run_one(*args.one, args.allocator, args.cache)
        return
    with tempfile.TemporaryDirectory() as folder:
        for name, (make, hardware) in cases(args.stream_venv, Path(folder)).items():
            if args.only and not any(pattern in name for pattern in args.only):
                continue
            workload = make()
            if args.list:
                print(f"{name}: {workload} on {hardware}", flush=True)
            elif isinstance(workload, str):
                print(f"{name}: skipped, {workload}", flush=True)
            else:
                measure(name, workload, hardware, args)


if __name__ == "__main__":
    main()
