"""trace.json (Perfetto / Chrome trace events) holds every tile and every link crossing of a run."""

from __future__ import annotations

import json
import math

import attrs

from stream_core import RunOptions, run
from stream_core.examples import example_paths
from stream_core.ir.result import TransferRecord
from stream_core.report import write_chrome_trace

FAST = {"cost_model": "roofline", "allocator": "greedy", "mapper": "whole-layer", "use_cache": False}


def test_the_trace_has_one_event_per_tile_and_per_link_crossed(tmp_path):
    workload, hardware = example_paths()
    outcome = run(workload, hardware, options=RunOptions(**FAST))
    result, acc = outcome.result, outcome.problem.accelerator
    path = tmp_path / "trace.json"
    write_chrome_trace(result, acc, path)
    data = json.loads(path.read_text())
    events = data["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert sorted(names.values()) == sorted(
        {*(f"core {c} ({acc.cores[c].name})" for c in acc.cores), *(link.label for link in acc.links)}
    )
    tiles = sorted(
        (e["args"]["node"], e["args"]["tile"], names[e["tid"]], e["ts"], e["dur"])
        for e in events
        if e.get("cat") == "compute"
    )
    assert tiles == sorted(
        (t.node, t.index, f"core {t.core} ({acc.cores[t.core].name})", t.start, t.end - t.start) for t in result.tiles
    )
    moves = [e for e in events if e["ph"] == "X" and e.get("cat") != "compute"]
    assert len(moves) == sum(len(t.links) for t in result.transfers) > 0
    assert sum(e["args"]["bits"] for e in moves) == sum(t.bits * len(t.links) for t in result.transfers)
    assert data["otherData"] == {"time_unit": "1 trace us = 1 cycle"}


def test_each_event_is_the_compact_json_of_its_record_in_order(tmp_path):
    """Tiles sharing a node and core, energies that are equal but written differently (0.0 and -0.0,
    an int), not finite, and transfers over two links, one link and none: each event is the text
    ``json.dumps`` gives it, tiles first, then each transfer once per link it crosses."""
    workload, hardware = example_paths()
    outcome = run(workload, hardware, options=RunOptions(**FAST))
    acc = outcome.problem.accelerator
    first = outcome.result.tiles[0]
    energies = [0.0, -0.0, 2.5, 2.5, math.inf, math.nan, 3]
    tiles = [attrs.evolve(first, index=i, start=10 * i, end=10 * i + 7, energy_pj=e) for i, e in enumerate(energies)]
    a, b = acc.links[:2]
    transfers = [
        TransferRecord("x", 0, 1, (a.id, b.id), 5, 9, 64, -0.0),
        TransferRecord("x", 1, 0, (), 1, 2, 8, 1.0),
        TransferRecord('q"y', 0, 1, (b.id,), 3, 4, 8, 0.25, reason="spill"),
    ]
    path = tmp_path / "trace.json"
    write_chrome_trace(attrs.evolve(outcome.result, tiles=tiles, transfers=transfers), acc, path)
    text = path.read_text()
    tid = {e["args"]["name"]: e["tid"] for e in json.loads(text)["traceEvents"] if e["name"] == "thread_name"}
    core = tid[f"core {first.core} ({acc.cores[first.core].name})"]
    expected = [
        {"ph": "X", "pid": 1, "tid": core, "name": f"{first.node}[{i}]", "cat": "compute", "ts": 10 * i, "dur": 7,
         "args": {"node": first.node, "tile": i, "group": first.group, "energy_pj": float(e),
                  "cost_model": first.cost_model}}
        for i, e in enumerate(energies)
    ]  # fmt: skip
    for tr, link in [(transfers[0], a), (transfers[0], b), (transfers[2], b)]:
        expected.append(
            {"ph": "X", "pid": 1, "tid": tid[link.label], "name": f"{tr.tensor} {tr.src}->{tr.dst}", "cat": tr.reason,
             "ts": tr.start, "dur": tr.end - tr.start,
             "args": {"tensor": tr.tensor, "bits": tr.bits, "src": tr.src, "dst": tr.dst, "energy_pj": tr.energy_pj}}
        )  # fmt: skip
    assert "," + ",".join(json.dumps(e, separators=(",", ":")) for e in expected) + "]" in text
    assert text.count('"ph":"X"') == len(expected)
