"""The ``aie-usage`` exporter: which AIE tiles, mem tiles, shims and DMA channels a run used.

Written for any allocator's result (only the public :class:`~stream_core.ir.Result` is read), as
``aie_usage.json``; nothing is written for accelerators without aie2 cores. Per core: tiles run and
busy cycles, transfers and bits in and out, transfers relayed (routes passing through), peak memory,
and DMA channels in use: the distinct tensors moved in (S2MM) and out (MM2S) within one fused group
(a group is configured on its own, as the TETRA constraints count them), the largest over the
groups, against the caps (:mod:`stream_cores_aie.caps`). With a ``reconfiguration`` block on the
accelerator, the cycles Stream 2.1.1 would add for reconfiguring the columns between fused groups
(:mod:`stream_cores_aie.reconfiguration`; reported, not part of the run's latency).
"""

from __future__ import annotations

import bisect
import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import attrs

from stream_core.context import RunContext
from stream_core.ir.accelerator import Accelerator
from stream_core.ir.result import Result
from stream_cores_aie.caps import aie_cores, tile_caps
from stream_cores_aie.reconfiguration import group_columns, read_reconfiguration

FILE_NAME = "aie_usage.json"


def usage(result: Result, accelerator: Accelerator) -> dict[str, Any]:
    """The usage report as a JSON-ready dict."""
    tiles: dict[int, int] = defaultdict(int)
    busy: dict[int, int] = defaultdict(int)
    for t in result.tiles:
        tiles[t.core] += 1
        busy[t.core] += t.duration
    starts = [g.start for g in result.groups]
    tensors_in: dict[tuple[int, int], set[str]] = defaultdict(set)  # (core, group index)
    tensors_out: dict[tuple[int, int], set[str]] = defaultdict(set)
    bits_in: dict[int, int] = defaultdict(int)
    bits_out: dict[int, int] = defaultdict(int)
    relayed: dict[int, int] = defaultdict(int)
    count_in: dict[int, int] = defaultdict(int)
    count_out: dict[int, int] = defaultdict(int)
    links_used: set[int] = set()
    joints: dict[tuple[int, ...], list[set[int]]] = {}  # per route: the cores joining its consecutive links
    for tr in result.transfers:
        group = max(bisect.bisect_right(starts, tr.start) - 1, 0)
        tensors_in[tr.dst, group].add(tr.tensor)
        tensors_out[tr.src, group].add(tr.tensor)
        bits_in[tr.dst] += tr.bits
        count_in[tr.dst] += 1
        count_out[tr.src] += 1
        bits_out[tr.src] += tr.bits
        links_used.update(tr.links)
        if tr.links not in joints:
            route = [accelerator.link(i) for i in tr.links]
            joints[tr.links] = [set(a.cores) & set(b.cores) for a, b in itertools.pairwise(route)]
        for joint in joints[tr.links]:
            for relay in joint - {tr.src, tr.dst}:
                relayed[relay] += 1
    channels_in: dict[int, int] = defaultdict(int)
    channels_out: dict[int, int] = defaultdict(int)
    for (core_id, _group), tensors in tensors_in.items():
        channels_in[core_id] = max(channels_in[core_id], len(tensors))
    for (core_id, _group), tensors in tensors_out.items():
        channels_out[core_id] = max(channels_out[core_id], len(tensors))
    rows: list[dict[str, Any]] = []
    for core, desc in aie_cores(accelerator):
        caps = tile_caps(accelerator, core)
        assert caps is not None
        peak = max((bits for _, bits in result.memory.get(core.id, ())), default=0)
        cid = core.id
        used = bool(tiles[cid] or count_in[cid] or count_out[cid] or relayed[cid] or peak)
        rows.append(
            {
                "id": cid,
                "name": core.name,
                "type": core.type,
                "coordinates": list(core.coordinates) if core.coordinates else None,
                "offchip": cid == accelerator.offchip_core_id,
                "used": used,
                "tiles": tiles[cid],
                "busy_cycles": busy[cid],
                "transfers_in": count_in[cid],
                "transfers_out": count_out[cid],
                "transfers_relayed": relayed[cid],
                "bits_in": bits_in[cid],
                "bits_out": bits_out[cid],
                "s2mm_channels_used": channels_in[cid],
                "s2mm_channels": caps.s2mm,
                "mm2s_channels_used": channels_out[cid],
                "mm2s_channels": caps.mm2s,
                "peak_memory_bits": peak,
                "capacity_bits": desc.capacity_bits,
            }
        )
    totals: dict[str, Any] = {}
    for kind in ("compute", "memory", "shim"):
        of_kind = [r for r in rows if r["type"] == f"aie2.{kind}"]
        totals[kind] = {"used": sum(r["used"] for r in of_kind), "total": len(of_kind)}
    totals["links"] = {"used": len(links_used), "total": len(accelerator.links)}
    over = [
        f"core {r['id']} ({r['name']}): {r[f'{k}_channels_used']} {k.upper()} channels in use, "
        f"{r[f'{k}_channels']} exist"
        for r in rows
        for k in ("s2mm", "mm2s")
        if r[f"{k}_channels_used"] > r[f"{k}_channels"]
    ]
    report: dict[str, Any] = {"accelerator": accelerator.name, "totals": totals, "over_dma_caps": over, "cores": rows}
    reconfiguration = read_reconfiguration(accelerator)
    if reconfiguration is not None:
        columns = group_columns(accelerator, result)
        report["reconfiguration"] = {
            **attrs.asdict(reconfiguration),
            "group_columns": {name: list(cols) for name, cols in columns.items()},
            "dispatch_cycles": reconfiguration.dispatch_cycles([len(cols) for cols in columns.values()]),
            "in_latency": False,
        }
    return report


class AieUsageExporter:
    def export(self, result: Result, problem: Any, output_dir: Path, context: RunContext) -> list[Path]:
        accelerator = problem.accelerator
        if not aie_cores(accelerator):
            return []
        path = output_dir / FILE_NAME
        path.write_text(json.dumps(usage(result, accelerator), indent=2) + "\n")
        return [path]
