"""Two runs sharing one cost cache at the same time give the answers of one run alone (issue 19)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))

from fuzz_support import write_inputs


def totals(folder: Path) -> dict:
    """The answers of a run: latency, energy and its parts, and every node's row."""
    summary = json.loads((folder / "summary.json").read_text())
    return {key: summary[key] for key in ("latency_cycles", "energy_pj", "energy_breakdown_pj", "nodes")}


@pytest.mark.slow  # four stream processes with ZigZag costing: ~20 s
def test_two_concurrent_runs_on_one_cache_match_a_run_alone(tmp_path):
    inputs = write_inputs(tmp_path)
    base = [sys.executable, "-m", "stream_core.cli", "run", str(inputs["workload"]), str(inputs["hardware"])]
    base += ["--mapping", str(inputs["mapping"]), "--jobs", "1", "-q", "--no-plots"]
    alone = subprocess.run([*base, "--no-cache", "-o", str(tmp_path / "alone")], capture_output=True, text=True)
    assert alone.returncode == 0, alone.stderr
    shared = ["--cache-dir", str(tmp_path / "cache")]
    runs = [
        subprocess.Popen([*base, *shared, "-o", str(tmp_path / f"run{i}")], stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read() if run.stderr else ""
    assert any((tmp_path / "cache").rglob("*")), "the runs wrote no cache entries"
    expected = totals(tmp_path / "alone")
    assert totals(tmp_path / "run0") == expected and totals(tmp_path / "run1") == expected
    again = subprocess.run([*base, *shared, "-o", str(tmp_path / "warm")], capture_output=True, text=True)
    assert again.returncode == 0 and totals(tmp_path / "warm") == expected, again.stderr
