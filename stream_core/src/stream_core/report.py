"""Turn a :class:`~stream_core.ir.Result` into the summary dict, the terminal table and a trace."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from stream_core.ir.accelerator import Accelerator
from stream_core.ir.result import Result

#: Bytes of the trace written at a time.
WRITE_BUFFER = 1 << 20


def summary_dict(result: Result, accelerator: Accelerator) -> dict[str, Any]:
    """The content of ``summary.json`` / ``summary.yaml`` (plain types only, stable key order)."""
    totals = result.totals
    bound = result.lower_bound
    return {
        "workload": result.workload,
        "accelerator": result.accelerator,
        "latency_cycles": totals.latency,
        "latency_lower_bound_cycles": None if bound is None else bound.cycles,
        "optimality": list(result.optimality),
        "energy_pj": round(totals.energy_pj, 6),
        "energy_breakdown_pj": {
            "compute": round(totals.compute_energy_pj, 6),
            "transfer": round(totals.transfer_energy_pj, 6),
            "memory": round(totals.memory_energy_pj, 6),
        },
        "energy_stream_comparable_pj": round(totals.stream_comparable_energy_pj, 6),
        "energy_not_in_stream_pj": {part: round(e, 6) for part, e in sorted(totals.energy_not_in_stream_pj.items())},
        "edp": round(totals.edp, 6),
        "utilisation": {
            f"{cid}:{accelerator.cores[cid].name}": round(value, 6) for cid, value in sorted(totals.utilisation.items())
        },
        "groups": [
            {"name": g.name, "start": g.start, "end": g.end, "latency": g.latency, **dict(g.stats)}
            for g in result.groups
        ],
        "nodes": result.node_rows(),
        "transfers": {
            "count": len(result.transfers),
            "bits": sum(t.bits for t in result.transfers),
            "offchip_bits": sum(t.bits for t in result.transfers if accelerator.offchip_core_id in (t.src, t.dst)),
        },
        "peak_memory_bits": {
            str(core): max((bits for _, bits in steps), default=0) for core, steps in result.memory.items()
        },
        "lower_bound": _bound_dict(result),
        "provenance": dict(result.provenance),
        "stats": _plain(dict(result.stats)),
        "warnings": list(result.warnings),
        "notes": list(result.notes),
    }


def _bound_dict(result: Result) -> dict[str, Any] | None:
    bound = result.lower_bound
    if bound is None:
        return None
    return {
        "cycles": bound.cycles,
        "compute": bound.compute,
        "offchip": bound.offchip,
        "groups": [
            {
                "name": g.group,
                "cycles": g.cycles,
                "compute": g.compute,
                "offchip": g.offchip,
                "offchip_bits": g.offchip_bits,
            }
            for g in bound.groups
        ],
    }


def _latency_line(result: Result) -> str:
    latency, bound = result.totals.latency, result.lower_bound
    line = f"latency      {latency:,} cycles"
    if bound is None:
        return line
    ratio = f"; {latency / bound.cycles:.2f}x the bound" if bound.cycles else ""
    return f"{line}  (lower bound {bound.cycles:,} from compute and off-chip traffic{ratio})"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


def summary_table(result: Result, accelerator: Accelerator) -> str:
    """A short human-readable table for the terminal."""
    totals = result.totals
    lines = [
        f"workload     {result.workload}",
        f"accelerator  {result.accelerator}",
        _latency_line(result),
        f"energy       {totals.energy_pj:,.1f} pJ  (compute {totals.compute_energy_pj:,.1f}, "
        f"transfer {totals.transfer_energy_pj:,.1f}, memory {totals.memory_energy_pj:,.1f})",
        f"EDP          {totals.edp:,.4g} pJ*cycles",
    ]
    if totals.energy_not_in_stream_pj:
        parts = ", ".join(f"{k.replace('_', ' ')} {e:,.1f}" for k, e in sorted(totals.energy_not_in_stream_pj.items()))
        comparable = f"{totals.stream_comparable_energy_pj:,.1f} pJ as Stream counts it"
        lines.insert(4, f"             {comparable} (Stream does not count: {parts})")
    bounds = {g.group: g.cycles for g in result.lower_bound.groups} if result.lower_bound else {}
    if len(result.groups) > 1:
        lines.append("groups       " + ", ".join(_group_cell(g.name, g.latency, bounds) for g in result.groups))
    lines += [f"schedule     {sentence}" for sentence in result.optimality]
    lines.append("utilisation")
    for cid, value in sorted(totals.utilisation.items()):
        lines.append(f"  core {cid:<3} {accelerator.cores[cid].name:<24} {100 * value:6.1f} %")
    for key in ("mapping", "cost models", "allocator"):
        if key in result.provenance:
            lines.append(f"{key:<12} {result.provenance[key]}")
    lines += [f"warning: {warning}" for warning in result.warnings]
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)


def _group_cell(name: str, latency: int, bounds: dict[str, int]) -> str:
    return f"{name}: {latency:,}" + (f" (bound {bounds[name]:,})" if name in bounds else "")


def write_chrome_trace(result: Result, accelerator: Accelerator, path: Path) -> None:
    """Write the Perfetto / Chrome trace-event JSON: one track per core and per link, one complete
    event per tile and per link a transfer crosses; 1 cycle = 1 us of trace time. Events are written
    as text from pieces made once: per (node, core, group, cost model) the text around a tile's
    numbers, per transfer its event once behind each link's track prefix (a run may have hundreds of
    thousands of events)."""
    dumps = json.dumps
    head: list[str] = [dumps({"ph": "M", "pid": 1, "name": "process_name", "args": {"name": accelerator.name}})]
    labels = [f"core {cid} ({accelerator.cores[cid].name})" for cid in sorted(accelerator.cores)]
    labels += [link.label for link in accelerator.links]
    tids = {label: tid for tid, label in enumerate(dict.fromkeys(labels), start=1)}
    for label, tid in tids.items():
        head.append(dumps({"ph": "M", "pid": 1, "tid": tid, "name": "thread_name", "args": {"name": label}}))
        head.append(dumps({"ph": "M", "pid": 1, "tid": tid, "name": "thread_sort_index", "args": {"sort_index": tid}}))
    core_tid = {cid: tids[f"core {cid} ({accelerator.cores[cid].name})"] for cid in accelerator.cores}
    track = {link.id: f',{{"ph":"X","pid":1,"tid":{tids[link.label]},' for link in accelerator.links}
    numbers: dict[float, str] = {}

    def number(value: float) -> str:  # json.dumps's text of a float, made once per value
        value = float(value)
        text = numbers.get(value)
        if text is None:
            text = repr(value) if math.isfinite(value) else dumps(value)
            if value:  # 0.0 and -0.0 are equal keys with different texts
                numbers[value] = text
        return text

    quoted: dict[str, str] = {}

    def q(text: str) -> str:
        if text not in quoted:
            quoted[text] = dumps(text)
        return quoted[text]

    tile_parts: dict[tuple[str, int, str, str], tuple[str, str, str, str, str]] = {}
    pieces: list[str] = []  # each event (or a transfer's events) after a comma
    add = pieces.append
    for t in result.tiles:
        key = (t.node, t.core, t.group, t.cost_model)
        parts = tile_parts.get(key)
        if parts is None:
            node = q(t.node)
            parts = tile_parts[key] = (
                f',{{"ph":"X","pid":1,"tid":{core_tid[t.core]},"name":{node[:-1]}[',
                ']","cat":"compute","ts":',
                f',"args":{{"node":{node},"tile":',
                f',"group":{q(t.group)},"energy_pj":',
                f',"cost_model":{q(t.cost_model)}}}}}',
            )
        name, ts, args, group, model = parts
        add(
            f'{name}{t.index}{ts}{int(t.start)},"dur":{int(t.end - t.start)}{args}{int(t.index)}{group}'
            f"{number(t.energy_pj)}{model}"
        )
    routes: dict[tuple[int, ...], list[str]] = {}
    for tr in result.transfers:
        tensor = q(tr.tensor)
        event = (
            f'"name":{tensor[:-1]} {int(tr.src)}->{int(tr.dst)}","cat":{q(tr.reason)},"ts":{int(tr.start)},'
            f'"dur":{int(tr.end - tr.start)},"args":{{"tensor":{tensor},"bits":{int(tr.bits)},"src":{int(tr.src)},'
            f'"dst":{int(tr.dst)},"energy_pj":{number(tr.energy_pj)}}}}}'
        )
        route = routes.get(tr.links)
        if route is None:
            route = routes[tr.links] = [track[link] for link in tr.links]
        if route:
            add(event.join(route) + event)  # prefix, event, prefix, event, ...
    other = dumps({"time_unit": "1 trace us = 1 cycle"})
    with path.open("w", buffering=WRITE_BUFFER) as out:  # no copy of the whole text: large copies cost page faults
        out.write('{"traceEvents":[')
        out.write(",".join(head))
        out.writelines(pieces)
        out.write(f'],"displayTimeUnit":"ms","otherData":{other}}}')
