"""Run one pair with each tool, cold then warm, and read back what each reports.

Stream: ``stream_driver.py run`` in the side environment. Cold = a fresh output folder; warm = the same
command again, which reuses the ``core_cost_lut.pickle`` Stream keeps in it. Ours: ``stream run``. Cold =
an empty ``--cache-dir``; warm = the same command again (same output folder and cost cache). Wall times
are of the whole process, interpreter start-up and imports included.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ERROR_CHARS = 200


@dataclass(frozen=True)
class Finished:
    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    seconds: float


def run_process(command: list[str], cwd: Path, timeout: float) -> Finished:
    """Run ``command`` in its own process group; at ``timeout`` the whole group is killed. Python may
    write bytecode (``PYTHONDONTWRITEBYTECODE`` is dropped), as on a user's machine: otherwise every
    run of a source tree without ``.pyc`` files (a fresh worktree, an edited module) compiles those
    modules again, about 0.08 s of a 0.4 s warm run."""
    start = time.perf_counter()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        return Finished(None, stdout, stderr, time.perf_counter() - start)
    return Finished(process.returncode, stdout, stderr, time.perf_counter() - start)


def first_error_line(stderr: str) -> str:
    """The line that says what went wrong: the first ``error...`` line, else the last line (a traceback's)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "no error message"
    chosen = next((line for line in lines if line.lower().startswith("error")), lines[-1])
    return chosen[:ERROR_CHARS]


def _fresh(*folders: Path) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _failure(finished: Finished, timeout: float, fallback: str) -> str:
    if finished.returncode is None:
        return f"timeout after {timeout:.0f} s"
    return fallback or first_error_line(finished.stderr)


def run_stream(
    python: Path,
    driver: Path,
    hardware: Path,
    files: dict,
    folder: Path,
    cwd: Path,
    nb_cols: int | None,
    timeout: float,
) -> dict:
    """Stream 2.1.1 on one pair: accepted, latency, energy, costed nodes, cold and warm seconds."""
    output, result_file = folder / "output", folder / "result.json"
    command = [str(python), str(driver), "run", str(hardware), files["workload"], str(output), str(result_file)]
    command += ["--mapping", files["mapping"]] if files.get("mapping") else []
    command += ["--nb-cols", str(nb_cols)] if nb_cols else []

    def once() -> tuple[Finished, dict]:
        result_file.unlink(missing_ok=True)
        finished = run_process(command, cwd, timeout)
        result = json.loads(result_file.read_text()) if result_file.exists() else {}
        return finished, result

    _fresh(folder)
    folder.mkdir(parents=True)
    cold, result = once()
    kept = ("latency_cycles", "energy_pj", "energy_parts", "costed_nodes", "api_seconds")
    record = {key: result.get(key) for key in kept}
    record.update(accepted=bool(result.get("accepted")), cold_s=round(cold.seconds, 2), warm_s=None)
    if not record["accepted"]:
        record["error"] = _failure(cold, timeout, result.get("error", ""))
        return record
    warm, again = once()
    record["warm_s"] = round(warm.seconds, 2) if again.get("accepted") else None
    record["warm_latency_cycles"] = again.get("latency_cycles")
    return record


def _summary(output: Path, stdout: str) -> dict | None:
    """summary.json of the run, else the JSON it printed, else None."""
    path = output / "summary.json"
    try:
        return json.loads(path.read_text() if path.exists() else stdout)
    except json.JSONDecodeError:
        return None


def run_ours(cli: Path, hardware: Path, files: dict, folder: Path, cwd: Path, timeout: float) -> dict:
    """``stream run`` with default settings on one pair: the same fields as :func:`run_stream`."""
    output, cache = folder / "output", folder / "cost-cache"
    command = [
        str(cli),
        "run",
        files["workload"],
        str(hardware),
        "-o",
        str(output),
        "--json",
        "--cache-dir",
        str(cache),
    ]
    command += ["--mapping", files["mapping"]] if files.get("mapping") else []
    _fresh(folder)
    cache.mkdir(parents=True)
    cold = run_process(command, cwd, timeout)
    record: dict = {"accepted": cold.returncode == 0, "cold_s": round(cold.seconds, 2), "warm_s": None}
    if not record["accepted"]:
        record["error"] = _failure(cold, timeout, "")
        return record
    summary = _summary(output, cold.stdout)
    if summary is None:
        return {**record, "accepted": False, "error": "exit 0 but no readable summary.json"}
    stats = summary.get("stats", {})
    record.update(
        latency_cycles=summary.get("latency_cycles"),
        energy_pj=summary.get("energy_pj"),
        energy_stream_comparable_pj=summary.get("energy_stream_comparable_pj"),
        energy_parts=summary.get("energy_breakdown_pj"),
        costed_nodes=dict(Counter(node.get("cost_model", "?") for node in summary.get("nodes", []))),
        cost_requests=stats.get("cost_models"),
        stage_seconds=stats.get("stage_seconds"),
        warnings=len(summary.get("warnings", [])),
    )
    warm = run_process(command, cwd, timeout)
    if warm.returncode == 0:
        record["warm_s"] = round(warm.seconds, 2)
        record["warm_latency_cycles"] = (_summary(output, warm.stdout) or {}).get("latency_cycles")
    return record
