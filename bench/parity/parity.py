"""Parity bench: stream-dse 2.1.1 and stream-core on the same example inputs, side by side.

    python bench/parity/parity.py --list                      # the pairs, what is cached, a time estimate
    python bench/parity/parity.py --only tpu_like_quad_core/2conv --stream-venv /work/parity/venv
    python bench/parity/parity.py                              # everything not yet in the cache

Stream runs from its own Python 3.12 environment (built on first use, or reused with --stream-venv) as a
subprocess driving ``stream_driver.py``; ours is the ``stream`` CLI. Results are cached per pair and side
in WORK/results.json (``--fresh [stream|ours]`` redoes them); the table is printed and written to
WORK/results.md. See bench/parity/README.md for the columns.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from matrix import Pair, pairs_of_set, select
from report import headline, markdown_table, text_table
from sideenv import OLD_STREAM_VERSION, STREAM_VERSION, ensure_old_inputs, ensure_stream_venv, python_of
from sides import first_error_line, run_ours, run_process, run_stream

HERE = Path(__file__).resolve().parent
CACHE = Path.home() / ".cache" / "stream-core"
SIDES = ("stream", "ours")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=CACHE / "parity", help="work folder (default %(default)s)")
    parser.add_argument(
        "--stream-venv", type=Path, default=CACHE / "parity-venv", help="side env with stream-dse 2.1.1"
    )
    parser.add_argument("--python312", type=Path, help="interpreter to build the side env from (default: pyenv 3.12)")
    parser.add_argument("--ours-cli", type=Path, default=default_cli(), help="our `stream` CLI (default %(default)s)")
    parser.add_argument("--sets", default=f"{STREAM_VERSION},{OLD_STREAM_VERSION}", help="input sets to include")
    parser.add_argument("--only", action="append", default=[], metavar="PATTERN", help="pair id substring or glob")
    parser.add_argument("--list", action="store_true", help="list the pairs and a time estimate, run nothing")
    parser.add_argument("--fresh", nargs="?", const="both", choices=("both", *SIDES), help="redo cached results")
    parser.add_argument(
        "--side", choices=("both", *SIDES), default="both", help="run only this side (Stream's does not move with ours)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="pairs run at once (default 1)")
    parser.add_argument("--stream-timeout", type=float, default=300.0, help="seconds per Stream run")
    parser.add_argument("--ours-timeout", type=float, default=300.0, help="seconds per run of ours")
    return parser.parse_args(argv)


def default_cli() -> Path:
    beside = Path(sys.executable).parent / "stream"
    return beside if beside.exists() else Path(shutil.which("stream") or "stream")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Cache:
    """WORK/results.json: ``{"meta": ..., "pairs": {id: {"stream": result, "ours": result}}}``, saved atomically."""

    def __init__(self, path: Path) -> None:
        self.path, self.lock = path, threading.Lock()
        self.data = json.loads(path.read_text()) if path.exists() else {"meta": {}, "pairs": {}}

    def get(self, pair: Pair, side: str) -> dict | None:
        return self.data["pairs"].get(pair.id, {}).get(side)

    def put(self, pair: Pair, side: str, result: dict) -> None:
        with self.lock:
            self.data["pairs"].setdefault(pair.id, {})[side] = result
            self.save()

    def save(self) -> None:
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        partial.replace(self.path)


class Workloads:
    """Workload (and mapping) files made once per builder with the side env's Python, under WORK/workloads."""

    def __init__(self, python: Path, folder: Path) -> None:
        self.python, self.folder = python, folder
        self.locks: dict[str, threading.Lock] = {}
        self.guard = threading.Lock()

    def files(self, name: str) -> dict:
        with self.guard:
            lock = self.locks.setdefault(name, threading.Lock())
        with lock:
            target = self.folder / name
            index = target / "files.json"
            if not index.exists():
                command = [str(self.python), str(HERE / "stream_driver.py"), "make", name, str(target)]
                finished = run_process(command, HERE, 300)
                if finished.returncode != 0 or not index.exists():
                    raise RuntimeError(f"workload builder {name} failed: {first_error_line(finished.stderr)}")
            return json.loads(index.read_text())


def ours_facts(cli: Path) -> dict:
    """zigzag-dse version of our environment and the commit of this checkout."""
    code = "import importlib.metadata as m; print(m.version('zigzag-dse'))"
    python = cli.parent / "python"
    zigzag = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True)
    return {"zigzag-dse": zigzag.stdout.strip() or None, "commit": commit.stdout.strip() or None, "cli": str(cli)}


def row_of(pair: Pair, cache: Cache) -> dict:
    hardware = pair.hardware if pair.group == "examples" else f"{pair.group}/{pair.hardware}"
    return {
        "id": pair.id,
        "set": pair.set,
        "hardware": hardware,
        "workload": pair.workload,
        **{side: cache.get(pair, side) for side in SIDES},
    }


def spent(result: dict | None) -> float | None:
    """Cold + warm seconds of a cached side, None when not run yet."""
    return None if result is None else (result.get("cold_s") or 0) + (result.get("warm_s") or 0)


def list_pairs(pairs: list[Pair], cache: Cache) -> None:
    """Each pair with its cached outcome and seconds (cold + warm), then an estimate for the pending ones."""
    measured: dict[str, list[float]] = {side: [] for side in SIDES}
    for pair in pairs:
        shown = []
        for side in SIDES:
            result, seconds = cache.get(pair, side), spent(cache.get(pair, side))
            mark = "-" if result is None else "ok" if result.get("accepted") else "no"
            shown.append(f"{side} {mark:<2} {'' if seconds is None else f'{seconds:6.1f} s':<8}")
            if seconds is not None:
                measured[side].append(seconds)
        print(f"{pair.id:<72} {'  '.join(shown)}")
    print(f"\n{len(pairs)} pairs; cached: Stream {len(measured['stream'])}, ours {len(measured['ours'])}")
    for side in SIDES:
        pending = sum(1 for pair in pairs if cache.get(pair, side) is None)
        if measured[side] and pending:
            mean = sum(measured[side]) / len(measured[side])
            print(
                f"{side}: {mean:.1f} s a pair (cold + warm, mean of {len(measured[side])}); "
                f"{pending} pending ~ {pending * mean / 60:.0f} min at that rate"
            )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    facts = ensure_stream_venv(args.stream_venv, args.python312)
    python = python_of(args.stream_venv)
    roots = {STREAM_VERSION: Path(facts["root"])}
    sets = [name.strip() for name in args.sets.split(",") if name.strip()]
    old_source = None
    if OLD_STREAM_VERSION in sets:
        old_root, old_source = ensure_old_inputs(python, args.work)
        if old_root is None:
            say(f"stream-dse {OLD_STREAM_VERSION} inputs unavailable ({old_source}); that set is skipped")
        else:
            roots[OLD_STREAM_VERSION] = old_root
    every = [pair for name in sets if name in roots for pair in pairs_of_set(name, roots[name])]
    pairs = select(every, args.only)
    cache = Cache(args.work / "results.json")
    if args.list:
        list_pairs(pairs, cache)
        return

    ours = ours_facts(args.ours_cli)
    cache.data["meta"] = {
        "stream_env": {**facts, "venv": str(args.stream_venv)},
        "ours": ours,
        f"inputs_{OLD_STREAM_VERSION}": old_source,
        "zigzag_match": facts["zigzag-dse"] == ours["zigzag-dse"],
    }
    if facts["zigzag-dse"] != ours["zigzag-dse"]:
        say(f"WARNING: zigzag-dse differs: Stream's env {facts['zigzag-dse']}, ours {ours['zigzag-dse']}")
    workloads = Workloads(python, args.work / "workloads")
    redo = set(SIDES) if args.fresh == "both" else {args.fresh} if args.fresh else set()
    sides = set(SIDES) if args.side == "both" else {args.side}
    todo = [pair for pair in pairs if any(side in redo or cache.get(pair, side) is None for side in sides)]
    say(f"{len(pairs)} pairs selected, {len(todo)} to run")
    counter = iter(range(1, len(todo) + 1))

    def work(pair: Pair) -> None:
        root = roots[pair.set]
        folder = args.work / "runs" / pair.id.replace("/", "__")
        start = time.perf_counter()
        try:
            files = workloads.files(pair.workload)
        except RuntimeError as error:
            for side in SIDES:
                cache.put(pair, side, {"accepted": False, "error": str(error)})
            return
        hardware = pair.hardware_file(root)
        if "stream" in sides and ("stream" in redo or cache.get(pair, "stream") is None):
            driver = HERE / "stream_driver.py"
            result = run_stream(
                python, driver, hardware, files, folder / "stream", root, pair.nb_cols, args.stream_timeout
            )
            cache.put(pair, "stream", result)
        if "ours" in sides and ("ours" in redo or cache.get(pair, "ours") is None):
            result = run_ours(args.ours_cli, hardware, files, folder / "ours", root, args.ours_timeout)
            cache.put(pair, "ours", {**result, "commit": ours["commit"]})
        marks = ["ok" if (cache.get(pair, side) or {}).get("accepted") else "no" for side in SIDES]
        elapsed = time.perf_counter() - start
        say(f"[{next(counter)}/{len(todo)}] {pair.id}: stream {marks[0]}, ours {marks[1]} ({elapsed:.0f} s)")

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(work, todo))
    cache.save()

    shown = [row_of(pair, cache) for pair in pairs]
    print(text_table(shown), end="")
    print("", *headline(shown), sep="\n")
    done = [row_of(pair, cache) for pair in every if pair.id in cache.data["pairs"]]
    env = cache.data["meta"]
    preamble = (
        f"# Parity: stream-dse {env['stream_env']['stream-dse']} (zigzag-dse {env['stream_env']['zigzag-dse']}) vs "
        f"stream-core {env['ours']['commit']} (zigzag-dse {env['ours']['zigzag-dse']})\n\n"
        "S = Stream, O = ours; ratios are O/S. Columns: bench/parity/README.md.\n\n"
        + "\n".join(f"- {line}" for line in headline(done))
    )
    (args.work / "results.md").write_text(markdown_table(done, preamble))
    say(f"wrote {args.work / 'results.json'} and {args.work / 'results.md'}")


if __name__ == "__main__":
    main()
