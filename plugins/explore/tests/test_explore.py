"""Sweeps end to end on our tiny accelerator, with the fast roofline/greedy pipeline."""

from __future__ import annotations

import copy
import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import stream_explore.executors
from explore_support import ACCELERATOR, FAST_RUN, PE, write_hardware, write_sweep
from stream_explore import explore, show

import stream_core
from stream_core import RunOptions
from stream_core.cli import main
from stream_core.errors import InputError

GRID = {
    "array": {"path": "cores.pe:operational_array.sizes", "values": [[4, 4], [8, 8]]},
    "bus": {"path": "core_connectivity.1.bandwidth", "values": [64, 256]},
}


def sweep_data(hardware: Path, two_conv: Path, **extra: Any) -> dict[str, Any]:
    return {
        "workload": str(two_conv),
        "accelerator": str(hardware),
        "parameters": GRID,
        "run": FAST_RUN,
        **extra,
    }


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every variant a worker evaluates (in-process executor), by input hash."""
    calls: list[str] = []
    real = stream_explore.executors.evaluate

    def evaluate(task: Any, workload_bytes: bytes | None = None) -> dict[str, Any]:
        calls.append(task.key)
        return real(task, workload_bytes)

    monkeypatch.setattr(stream_explore.executors, "evaluate", evaluate)
    return calls


def test_grid_gives_the_points_of_separate_runs(tmp_path: Path, hardware: Path, two_conv: Path) -> None:
    rows = explore(write_sweep(tmp_path, sweep_data(hardware, two_conv)), tmp_path / "out", jobs=1)
    rows = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
    assert len(rows) == 4 and {r["status"] for r in rows} == {"ok"}
    for row in rows:
        pe = copy.deepcopy(PE)
        pe["operational_array"]["sizes"] = row["array"]
        accelerator = yaml_accelerator(bus=row["bus"])
        path = write_hardware(tmp_path / f"manual-{row['array'][0]}-{row['bus']}", pe=pe, accelerator=accelerator)
        outcome = stream_core.run(two_conv, path, options=RunOptions(jobs=1, **FAST_RUN))
        totals = outcome.result.totals
        peaks = sum(max(b for _, b in steps) for core, steps in outcome.result.memory.items() if core != 2)
        assert (row["latency"], row["energy"], row["edp"], row["peak_memory"]) == (
            totals.latency,
            pytest.approx(totals.energy_pj),
            pytest.approx(totals.edp),
            peaks,
        )
    # the variants differ where they should: a larger array is faster
    latency = {(tuple(r["array"]), r["bus"]): r["latency"] for r in rows}
    assert latency[(8, 8), 64] < latency[(4, 4), 64]


def yaml_accelerator(bus: int) -> dict[str, Any]:
    data = copy.deepcopy(ACCELERATOR)
    data["core_connectivity"][1]["bandwidth"] = bus
    return data


def test_resume_evaluates_nothing_new(tmp_path: Path, hardware: Path, two_conv: Path, counted: list[str]) -> None:
    sweep = write_sweep(tmp_path, sweep_data(hardware, two_conv))
    first = explore(sweep, tmp_path / "out", jobs=1)
    assert len(counted) == 4
    second = explore(sweep, tmp_path / "out", jobs=1)
    assert len(counted) == 4  # nothing evaluated the second time
    assert list(first["latency"]) == list(second["latency"])
    # one more value evaluates only the two new variants
    data = sweep_data(hardware, two_conv)
    data["parameters"] = {**GRID, "bus": {**GRID["bus"], "values": [64, 256, 1024]}}
    explore(write_sweep(tmp_path, data), tmp_path / "out", jobs=1)
    assert len(counted) == 6


def test_a_failing_variant_is_recorded_and_the_rest_finish(tmp_path: Path, hardware: Path, two_conv: Path) -> None:
    data = sweep_data(hardware, two_conv)
    data["parameters"] = {"array": {"path": "cores.pe:operational_array.sizes", "values": [[4, 4], "wide", [8, 8]]}}
    table = explore(write_sweep(tmp_path, data), tmp_path / "out", jobs=1)
    status = dict(zip(table["array"].map(str), table["status"], strict=True))
    assert status == {"[4, 4]": "ok", "wide": "failed", "[8, 8]": "ok"}
    error = table[table["status"] == "failed"]["error"].iloc[0]
    assert "operational_array.sizes" in error
    with sqlite3.connect(tmp_path / "out" / "results.sqlite") as db:
        stored = db.execute("SELECT status, error, params, provenance FROM variants ORDER BY seq").fetchall()
    assert [s[0] for s in stored] == ["ok", "failed", "ok"]
    assert json.loads(stored[1][2]) == {"array": "wide"} and "operational_array.sizes" in stored[1][1]
    assert json.loads(stored[0][3])["allocator"].startswith("greedy")


def test_constraints_prune_before_running_and_mark_after(
    tmp_path: Path, hardware: Path, two_conv: Path, counted: list[str]
) -> None:
    # two pe cores: 4x4 arrays are 2 x 16 x 200 um2 = 0.0064 mm2 of MACs, 8x8 ones 0.0256 mm2
    data = sweep_data(hardware, two_conv, constraints=["area <= 1.7", "latency <= 1e12"])
    data["parameters"] = {"array": GRID["array"]}
    table = explore(write_sweep(tmp_path, data), tmp_path / "out", jobs=1)
    area = dict(zip(table["array"].map(str), table["area"], strict=True))
    assert area["[4, 4]"] == pytest.approx(2 * (8388608 + 64 * 16) * 0.1e-6 + 2 * 16 * 200e-6)
    assert area["[8, 8]"] == pytest.approx(2 * (8388608 + 64 * 64) * 0.1e-6 + 2 * 64 * 200e-6)
    assert list(table["status"]) == ["ok", "pruned"] and len(counted) == 1
    data["constraints"] = ["latency <= 1"]
    table = explore(write_sweep(tmp_path, data), tmp_path / "out2", jobs=1)
    assert list(table["status"]) == ["infeasible", "infeasible"] and not table["pareto"].any()


def test_reports_and_show(tmp_path: Path, hardware: Path, two_conv: Path) -> None:
    out = tmp_path / "out"
    explore(write_sweep(tmp_path, sweep_data(hardware, two_conv)), out, jobs=1)
    with (out / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 and rows[0]["array"] == "[4, 4]"
    assert (out / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    html = (out / "pareto.html").read_text()
    assert "array: [8, 8]" in html and "plotly" in html  # hover text carries the parameters
    front = [r for r in rows if r["pareto"] == "True"]
    text = show(out)
    assert text.splitlines()[0].split() == ["workload", "accelerator", "array", "bus", "latency", "energy"]
    assert f"{len(front)} on the front of 4 variants" in text


def test_nsga2_is_seeded_and_resumes(tmp_path: Path, hardware: Path, two_conv: Path, counted: list[str]) -> None:
    data = sweep_data(hardware, two_conv, search={"method": "nsga2", "budget": 6, "population": 3, "seed": 7})
    data["parameters"] = {
        "array": GRID["array"],
        "bus": {"path": "core_connectivity.1.bandwidth", "low": 32, "high": 512, "step": 32},
    }
    sweep = write_sweep(tmp_path, data)
    first = explore(sweep, tmp_path / "a", jobs=1)
    evaluated = len(counted)
    again = explore(sweep, tmp_path / "a", jobs=1)
    assert len(counted) == evaluated  # the same trials replayed from the store
    assert list(first["input_hash"]) == list(again["input_hash"])
    assert set(first["bus"]) <= set(range(32, 513, 32))


def test_cli_runs_a_sweep_and_shows_it(tmp_path: Path, hardware: Path, two_conv: Path, capsys: Any) -> None:
    sweep = write_sweep(tmp_path, sweep_data(hardware, two_conv))
    assert main(["explore", str(sweep), "-o", str(tmp_path / "out"), "--jobs", "2", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "on the front of 4 variants (ok 4" in printed
    assert main(["explore", "--show", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.strip() == printed.split("\noutputs")[0].strip()


def test_missing_ray_gives_an_install_hint(
    tmp_path: Path, hardware: Path, two_conv: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "ray", None)
    sweep = write_sweep(tmp_path, sweep_data(hardware, two_conv))
    assert main(["explore", str(sweep), "-o", str(tmp_path / "out"), "--executor", "ray"]) == 2
    assert "pip install 'stream-explore[ray]'" in capsys.readouterr().err


def test_bad_paths_name_the_parameter(tmp_path: Path, hardware: Path, two_conv: Path) -> None:
    data = sweep_data(hardware, two_conv)
    data["parameters"] = {"x": {"path": "cores.gpu:operational_array.sizes", "values": [[1, 1]]}}
    with pytest.raises(InputError, match=r"parameters\.x: 'cores\.gpu:operational_array\.sizes'.*no core is named"):
        explore(write_sweep(tmp_path, data), tmp_path / "out", jobs=1)
    data["parameters"] = {"x": {"path": "cores.0:memories.dram.size", "values": [1]}}
    with pytest.raises(InputError, match=r"memories\.dram: no such key"):
        explore(write_sweep(tmp_path, data), tmp_path / "out", jobs=1)
