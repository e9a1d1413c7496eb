"""A longer fuzz campaign against the ``stream`` CLI (not in CI): mutated hardware, core, AIE core,
mapping and ONNX files, special files, run through ``stream validate`` and ``stream run`` as separate
processes with a time-out. Prints runs, exit 2, exit 1, hangs and silent acceptances (exit 0 on a
mutation known to be bad: a non-finite number or an impossible ONNX dimension); goal: 0 in every
column but exit 2.

    python bench/fuzz/campaign.py --runs 300 --seed 1 --timeout 30
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "fuzz"))

from fuzz_support import ACCELERATOR, AIE_CORE, CORES, MAPPING, conv_relu, leaves, replaced, write_inputs, write_yaml

KINDS = {"hardware": ACCELERATOR, "core": CORES["array.yaml"], "aie": AIE_CORE, "mapping": MAPPING}
NON_FINITE = (math.nan, math.inf, -math.inf)
HOSTILE = (None, True, -1, 0, 10**29, -0.5, "x", [0], {"a": 1}, [[[[0]]]], *NON_FINITE)


def mutation(rng: random.Random, files: dict[str, Path], folder: Path) -> tuple[list[str], bool]:
    """One mutated case: the ``stream`` arguments and whether it is known to be bad."""
    roll = rng.random()
    run = rng.random() < 0.25
    if roll < 0.15:
        shape = [rng.choice([-3, 0, 1, 4, 8, 2**31, 10**12]) for _ in range(4)]
        path = folder / "dims.onnx"
        onnx.save(conv_relu(tuple(shape)), path)
        bad = min(shape) <= 0 or math.prod(shape) * 8 > 2**40
        return _command(run, path, files["hardware"], folder), bad
    if roll < 0.25:
        path = folder / rng.choice(["fifo.yaml", "/dev/zero", "dir"])
        if path.name == "fifo.yaml" and not path.exists():
            os.mkfifo(path)
        elif path.name == "dir":
            path.mkdir(exist_ok=True)
        return ["validate", str(path)], True
    kind = rng.choice(list(KINDS))
    base = KINDS[kind]
    key = rng.choice(leaves(base))
    if roll < 0.4:
        numeric = [p for p in leaves(base) if isinstance(_at(base, p), int | float) and _at(base, p) is not True]
        key, value, bad = rng.choice(numeric), rng.choice(NON_FINITE), True
    else:
        value, bad = rng.choice(HOSTILE), False
    path = write_yaml(folder / f"mutated_{kind}.yaml", replaced(base, key, value, delete=rng.random() < 0.2))
    if roll > 0.9:
        raw = bytearray(path.read_bytes())
        raw[rng.randrange(len(raw))] = rng.randrange(256)
        path.write_bytes(bytes(raw))
    if kind == "mapping":
        return ["validate", str(files["workload"]), str(files["hardware"]), str(path)], bad
    if kind == "hardware" and run:
        return _command(True, files["workload"], path, folder), bad
    return ["validate", str(path)], bad


def _command(run: bool, workload: Path, hardware: Path, folder: Path) -> list[str]:
    if not run:
        return ["validate", str(workload), str(hardware)]
    out = tempfile.mkdtemp(dir=folder)
    return ["run", str(workload), str(hardware), "-o", f"{out}/o", "--cost-model", "roofline", "--no-cache"]


def _at(data, path):
    for key in path:
        data = data[key]
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    stream = str(Path(sys.executable).with_name("stream"))
    tally: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = write_inputs(folder)
        for index in range(args.runs):
            argv, bad = mutation(rng, files, folder)
            tally["runs"] += 1
            try:
                done = subprocess.run([stream, *argv, "-q"], capture_output=True, text=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                tally["hangs"] += 1
                print(f"hang: stream {' '.join(argv)}", file=sys.stderr)
                continue
            if done.returncode == 0 and bad:
                tally["silent acceptances"] += 1
                print(f"accepted: stream {' '.join(argv)}", file=sys.stderr)
            elif done.returncode not in (0, 2) or "Traceback" in done.stderr:
                tally[f"exit {done.returncode}"] += 1
                print(f"exit {done.returncode}: stream {' '.join(argv)}: {done.stderr[-300:]}", file=sys.stderr)
            else:
                tally[f"exit {done.returncode}"] += 1
            if (index + 1) % 50 == 0:
                print(f"... {index + 1} runs", file=sys.stderr)
    print("| runs | exit 0 | exit 2 | exit 1 | hangs | silent acceptances |")
    print("|---:|---:|---:|---:|---:|---:|")
    columns = ("runs", "exit 0", "exit 2", "exit 1", "hangs", "silent acceptances")
    print("| " + " | ".join(str(tally[c]) for c in columns) + " |")
    other = {k: v for k, v in tally.items() if k not in columns}
    if other:
        print(f"other exit codes: {other}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
