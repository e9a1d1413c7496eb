"""trace.json (Perfetto / Chrome trace events) holds every tile and every link crossing of a run."""

from __future__ import annotations

import json

from stream_core import RunOptions, run
from stream_core.examples import example_paths
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
