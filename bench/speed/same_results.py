"""Speed changes keep results (issue 16): run the allocate-heavy cases, record per case the allocate
stage's seconds, ``latency_cycles``, ``energy_pj`` and a digest of the whole ``trace.json``, and
compare two such records.

    python bench/speed/same_results.py record before.json              # this checkout
    python bench/speed/same_results.py record after.json --src /tmp/wt  # another source tree
    python bench/speed/same_results.py compare before.json after.json

Recording into a file that holds a case with the same results keeps the least allocate seconds of
the runs (so alternate the two trees a few times under the same load). ``--src TREE`` puts TREE's
package sources ahead of the editable installs (``PYTHONPATH``), so two trees (say ``git archive``
of a commit, and it plus one changed file) are compared under the same environment while others
edit this checkout. Every run is ``--no-cache`` from a neutral working
directory (the side environment's site-packages would shadow ours). The cases need the parity bench's
workloads (``bench/parity``) and the stream-dse 2.1.1 side environment's example hardware.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKLOADS = Path.home() / ".cache" / "stream-core" / "parity" / "workloads"
INPUTS = Path("/work/parity/venv/lib/python3.12/site-packages/stream/inputs")
AIE = INPUTS / "aie" / "hardware" / "whole_array_strix.yaml"
EXAMPLES = INPUTS / "examples" / "hardware"
EXAMPLES_113 = WORKLOADS.parent / "stream-dse-1.13.14" / "stream" / "inputs" / "examples" / "hardware"
ATTENTION = WORKLOADS / "attention_head" / "attention_head.onnx"

CASES: dict[str, list[str]] = {
    "aie_gemm": [
        str(WORKLOADS / "aie_gemm_256x8192x2048" / "gemm_256_8192_2048.onnx"),
        str(AIE),
        "--mapping",
        str(WORKLOADS / "aie_gemm_256x8192x2048" / "gemm_256_8192_2048_whole_array.yaml"),
    ],
    "aie_swiglu": [
        str(WORKLOADS / "aie_swiglu_256x512x2048" / "swiglu_256_512_2048.onnx"),
        str(AIE),
        "--mapping",
        str(WORKLOADS / "aie_swiglu_256x512x2048" / "swiglu_256_512_2048_v2.yaml"),
    ],
    "ironwood_attention": [str(ATTENTION), str(EXAMPLES / "tpu_v7_ironwood.yaml")],
    "ironwood_1.13.14_attention": [str(ATTENTION), str(EXAMPLES_113 / "tpu_v7_ironwood.yaml")],
    "bundled_example": [],
    "eyeriss_resnet_dual": [
        *map(str, sorted((WORKLOADS / "resnet_dual_residual").glob("*.onnx"))[:1]),
        str(EXAMPLES / "eyeriss_like_quad_core.yaml"),
    ],
    "simba_attention_high": [str(ATTENTION), str(EXAMPLES / "simba.yaml"), "--set", "fused.effort=high"],
}
SLOW = {"simba_attention_high"}
RESULTS = ("latency_cycles", "energy_pj", "trace_sha256")


def source_path(tree: Path) -> str:
    """Every package source folder of a checkout (``*/src`` two levels deep at most)."""
    return os.pathsep.join(str(p) for p in sorted([*tree.glob("*/src"), *tree.glob("plugins/*/src")]))


def run_case(name: str, src: Path | None, scratch: Path) -> dict:
    out = scratch / name
    command = [str(Path(sys.executable).parent / "stream"), "run", *CASES[name]]
    command += ["-o", str(out), "--force", "--no-cache", "--json", "--no-plots"]
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = source_path(src)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    summary = json.loads((out / "summary.json").read_text())
    trace = out / "trace.json"
    return {
        "allocate_s": round(summary["stats"]["stage_seconds"]["allocate"], 3),
        "wall_s": round(wall, 2),
        "latency_cycles": summary["latency_cycles"],
        "energy_pj": summary["energy_pj"],
        "trace_sha256": hashlib.sha256(trace.read_bytes()).hexdigest() if trace.exists() else None,
    }


def record(path: Path, src: Path | None, only: list[str], slow: bool) -> None:
    names = [n for n in CASES if (not only or n in only) and (slow or n not in SLOW or n in only)]
    results = json.loads(path.read_text()) if path.exists() else {}
    with tempfile.TemporaryDirectory(prefix="same-results-") as scratch:
        for name in names:
            run, kept = run_case(name, src, Path(scratch)), results.get(name, {})
            if all(kept.get(k) == run.get(k) for k in RESULTS) and "allocate_s" in kept:  # a repeat: the least time
                run |= {"allocate_s": min(run["allocate_s"], kept["allocate_s"]), "runs": kept.get("runs", 1) + 1}
            results[name] = run
            print(name, json.dumps(results[name]), flush=True)
            path.write_text(json.dumps(results, indent=1) + "\n")


def compare(before: Path, after: Path) -> int:
    old, new = json.loads(before.read_text()), json.loads(after.read_text())
    differ = 0
    print(f"{'case':<22} {'allocate s before':>18} {'after':>8}  same results")
    for name in [n for n in old if n in new]:
        a, b = old[name], new[name]
        same = "error" not in a and all(a.get(k) == b.get(k) for k in RESULTS)
        differ += not same
        print(f"{name:<22} {a.get('allocate_s', '-'):>18} {b.get('allocate_s', '-'):>8}  {'yes' if same else 'NO'}")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="run the cases, write their figures to FILE (merged into it)")
    rec.add_argument("file", type=Path)
    rec.add_argument("--src", type=Path, help="source tree to run instead of the installed one")
    rec.add_argument("--only", action="append", default=[], choices=sorted(CASES))
    rec.add_argument("--slow", action="store_true", help=f"also the slow cases ({', '.join(sorted(SLOW))})")
    cmp = sub.add_parser("compare", help="allocate seconds side by side; exit 1 when any result differs")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.file, args.src, args.only, args.slow)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    raise SystemExit(main())
