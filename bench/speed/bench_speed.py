"""Speed bench (issue 16): per pair of Stream's examples, our cold and warm wall time and stage seconds,
stream-dse 2.1.1's cold wall time and the ratio, and a check that latency and energy are unchanged.

Per pair, three runs of ``stream run`` (whole processes, start-up included):

* reference: ``--no-cache`` (no cost, parse or allocation cache), the latency and energy every speed
  change must keep;
* cold: an empty ``--cache-dir``;
* warm: the same command again (cost cache and stage cache filled), ``--warm N`` times: the run of
  median wall time is shown.

Stream's cold wall time comes from the parity bench's ``results.json`` (``bench/parity``; run it first
for the pairs you want compared); without it the Stream columns stay empty. The pairs and the workload
files are the parity bench's::

    python bench/speed/bench_speed.py --only 2.1.1/examples/tpu_like_quad_core/2conv
    python bench/speed/bench_speed.py --only '2.1.1/examples/*'      # every 2.1.1 example pair
    python bench/speed/bench_speed.py --only '*/aie_gemm_256x8192x2048' --warm 5
    python bench/speed/bench_speed.py --only '*/aie_gemm_256x8192x2048' --warm 5 --src /tmp/before  # another tree

``--src TREE`` runs TREE's package sources instead of this checkout's (as ``same_results.py`` does),
so a change is timed against, say, ``git archive`` of the commit before it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "parity"))

from matrix import Pair, pairs_of_set, select  # noqa: E402
from same_results import source_path  # noqa: E402
from sideenv import STREAM_VERSION, python_of  # noqa: E402
from sides import first_error_line, run_process  # noqa: E402

CACHE = Path.home() / ".cache" / "stream-core"
STAGES = ("parse", "map", "cost", "allocate")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", default=[], metavar="PATTERN", help="pair id substring or glob")
    parser.add_argument("--work", type=Path, default=CACHE / "parity", help="the parity bench's work folder")
    parser.add_argument("--stream-venv", type=Path, default=Path("/work/parity/venv"), help="stream-dse 2.1.1 env")
    parser.add_argument("--cli", type=Path, default=Path(sys.executable).parent / "stream", help="our CLI")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--warm", type=int, default=1, metavar="N", help="warm runs per pair; the median is shown")
    parser.add_argument("--src", type=Path, metavar="TREE", help="time this source tree's packages (PYTHONPATH)")
    return parser.parse_args(argv)


def stream_root(venv: Path) -> Path | None:
    """The site-packages holding ``stream/inputs`` of the side environment, if present."""
    found = sorted(venv.glob("lib/python3.*/site-packages/stream/inputs"))
    return found[0].parent.parent if found else None


def workload_files(work: Path, name: str) -> dict | None:
    index = work / "workloads" / name / "files.json"
    return json.loads(index.read_text()) if index.exists() else None


def ours(cli: Path, pair: Pair, root: Path, files: dict, folder: Path, *extra: str, timeout: float) -> dict:
    """One ``stream run``: wall seconds, stage seconds, latency, energy (or the error)."""
    output = folder / "output"
    shutil.rmtree(output, ignore_errors=True)
    command = [str(cli), "run", files["workload"], str(pair.hardware_file(root)), "-o", str(output), "-q", *extra]
    command += ["--mapping", files["mapping"]] if files.get("mapping") else []
    done = run_process(command, root, timeout)
    summary = output / "summary.json"
    if done.returncode != 0 or not summary.exists():
        return {"error": first_error_line(done.stderr) if done.returncode is not None else "timeout"}
    data = json.loads(summary.read_text())
    stats = data.get("stats", {})
    return {
        "seconds": done.seconds,
        "stages": stats.get("stage_seconds", {}),
        "hits": stats.get("stage_cache_hits", []),
        "latency": data["latency_cycles"],
        "energy": data["energy_pj"],
    }


def median_run(runs: list[dict]) -> dict:
    """The run of median wall time (the lower of the two middle ones), or the first failed run."""
    failed = [run for run in runs if "error" in run]
    return failed[0] if failed else sorted(runs, key=lambda run: run["seconds"])[(len(runs) - 1) // 2]


def stream_cold(work: Path, pair: Pair) -> float | None:
    results = work / "results.json"
    if not results.exists():
        return None
    record = json.loads(results.read_text()).get("pairs", {}).get(pair.id, {}).get("stream") or {}
    return record.get("cold_s") if record.get("accepted") else None


def stages(run: dict) -> str:
    """Seconds per stage the summary records (not export: it writes the summary), then the rest of
    the wall time (interpreter start-up, imports, export)."""
    seconds = [run["stages"].get(s, 0.0) for s in STAGES]
    return " ".join(f"{x:.2f}" for x in (*seconds, run["seconds"] - sum(seconds)))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = stream_root(args.stream_venv)
    if root is None or not python_of(args.stream_venv).exists():
        print(f"no stream-dse {STREAM_VERSION} environment at {args.stream_venv}: its example inputs are needed")
        return 2
    if args.src is not None:
        os.environ["PYTHONPATH"] = source_path(args.src)
    pairs = select(pairs_of_set(STREAM_VERSION, root), args.only)
    columns = " ".join((*STAGES, "other"))
    print(f"{'pair':<52} {'cold s':>7} {'warm s':>7} {'S cold':>7} {'O/S':>6}  same  cold / warm seconds ({columns})")
    cold_ratios, warm_times = [], []
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as scratch:
        for pair in pairs:
            files = workload_files(args.work, pair.workload)
            name = pair.id.removeprefix(f"{STREAM_VERSION}/")
            if files is None:
                print(f"{name:<52} no workload file: run bench/parity/parity.py --only {pair.id} first")
                continue
            folder = Path(scratch) / pair.id.replace("/", "__")
            cache = folder / "cache"
            reference = ours(args.cli, pair, root, files, folder, "--no-cache", timeout=args.timeout)
            if "error" in reference:
                print(f"{name:<52} not accepted: {reference['error']}")
                continue
            cold = ours(args.cli, pair, root, files, folder, "--cache-dir", str(cache), timeout=args.timeout)
            warms = [
                ours(args.cli, pair, root, files, folder, "--cache-dir", str(cache), timeout=args.timeout)
                for _ in range(max(args.warm, 1))
            ]
            warm = median_run(warms)
            runs = (reference, cold, *warms)
            same = all(
                "error" not in r and (r["latency"], r["energy"]) == (reference["latency"], reference["energy"])
                for r in runs
            )
            if "error" in cold or "error" in warm:
                print(f"{name:<52} cached runs failed: {cold.get('error') or warm.get('error')}")
                continue
            theirs = stream_cold(args.work, pair)
            ratio = cold["seconds"] / theirs if theirs else None
            if ratio:
                cold_ratios.append(ratio)
            warm_times.append(warm["seconds"])
            print(
                f"{name:<52} {cold['seconds']:7.2f} {warm['seconds']:7.2f} "
                f"{theirs if theirs is not None else '-':>7} {f'{ratio:.2f}' if ratio else '-':>6}  "
                f"{'yes' if same else 'NO':<4}  {stages(cold)} / {stages(warm)}"
                + ("" if warm["hits"] == ["workload", "allocation"] else f"  (warm cache hits: {warm['hits']})")
            )
    if warm_times:
        print(f"\nmedian warm {statistics.median(warm_times):.2f} s over {len(warm_times)} pairs", end="")
        if cold_ratios:
            print(f"; cold / Stream cold: median {statistics.median(cold_ratios):.2f}, max {max(cold_ratios):.2f}")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
