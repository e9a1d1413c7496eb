"""Silicon area of an accelerator from its memories and MAC arrays (Stream 2.1.1's hardware cost rule).

On-die memories take ``bits x instances x sram_um2_per_bit``; a ZigZag memory has one instance per
operational-array position it does not serve (the product of the sizes of the dimensions missing from
its ``served_dimensions``), a memory declared as ``memory: {capacity}`` (AIE) has one. A compute core's
array takes ``product(operational_array.sizes) x mac_um2``. Off-die cores (kinds ``offchip`` and
``shim``) take no area. A memory shared by several cores (``core_memory_sharing``: the top memory of
each member; ``memory_aliases``) is counted once, on its first view. Areas in mm2.

Constants per technology node: only 16 nm is known (Stream 2.1.1's public default); an accelerator
declaring another ``technology_node``, or none, is priced at 16 nm with a note, unless the sweep's
``area`` block gives the constants.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

#: node -> (SRAM um2 per bit, um2 per MAC unit)
TECHNOLOGIES = {"n16": (0.10, 200.0)}
DEFAULT_TECHNOLOGY = "n16"
OFF_DIE = ("offchip", "shim")


@attrs.frozen
class AreaModel:
    sram_um2_per_bit: float
    mac_um2: float
    technology: str
    notes: tuple[str, ...] = ()


@attrs.frozen
class AreaReport:
    memory_mm2: float
    compute_mm2: float
    notes: tuple[str, ...] = ()

    @property
    def total_mm2(self) -> float:
        return self.memory_mm2 + self.compute_mm2


def area_model(accelerator: Mapping[str, Any], overrides: Mapping[str, Any]) -> AreaModel:
    """The constants for an accelerator: the sweep's ``area`` overrides, else its node's, else 16 nm."""
    declared = overrides.get("technology") or accelerator.get("technology_node")
    node = str(declared or DEFAULT_TECHNOLOGY).lower()
    notes = []
    if node not in TECHNOLOGIES:
        given = [k for k in ("sram_um2_per_bit", "mac_um2") if k in overrides]
        if len(given) < 2:
            notes.append(f"area: no constants for technology '{node}'; priced at {DEFAULT_TECHNOLOGY}")
        node_constants = TECHNOLOGIES[DEFAULT_TECHNOLOGY]
    else:
        node_constants = TECHNOLOGIES[node]
        if declared is None and not overrides:
            notes.append(f"area: the accelerator declares no technology_node; priced at {DEFAULT_TECHNOLOGY}")
    return AreaModel(
        float(overrides.get("sram_um2_per_bit", node_constants[0])),
        float(overrides.get("mac_um2", node_constants[1])),
        node,
        tuple(notes),
    )


def accelerator_area(
    accelerator: Mapping[str, Any], cores: Mapping[int, Mapping[str, Any]], model: AreaModel
) -> AreaReport:
    """Area of an accelerator given each core id's core data."""
    shared = _shared_views(accelerator, cores)
    memory = compute = 0.0
    notes = list(model.notes)
    for core_id, core in sorted(cores.items()):
        if _kind(core) in OFF_DIE:
            continue
        for name, bits, instances in _memories(core):
            owner = shared.get((core_id, name))
            if owner is None or owner == (core_id, name):
                memory += bits * instances * model.sram_um2_per_bit / 1e6
        array = core.get("operational_array")
        if isinstance(array, dict):
            compute += math.prod(int(s) for s in array.get("sizes") or []) * model.mac_um2 / 1e6
        elif _kind(core) == "compute":
            notes.append(f"area: core {core_id} has no operational_array; its compute area is not counted")
    return AreaReport(memory, compute, tuple(dict.fromkeys(notes)))


def area_fields(
    accelerator: Mapping[str, Any], cores: Mapping[int, Mapping[str, Any]], overrides: Mapping[str, Any]
) -> dict[str, Any]:
    """A variant's area and how it was priced, for its row. Malformed hardware data leaves the area
    unknown (``total_mm2`` None): its run then fails with the core type's own error."""
    model = area_model(accelerator, overrides)
    try:
        report = accelerator_area(accelerator, cores, model)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError):
        return {"total_mm2": None, "technology": model.technology, "notes": ["area: not computed, malformed hardware"]}
    return {
        "total_mm2": report.total_mm2,
        "memory_mm2": report.memory_mm2,
        "compute_mm2": report.compute_mm2,
        "technology": model.technology,
        "sram_um2_per_bit": model.sram_um2_per_bit,
        "mac_um2": model.mac_um2,
        "notes": list(report.notes),
    }


def _kind(core: Mapping[str, Any]) -> str:
    return str(core.get("type") or "compute").rsplit(".", 1)[-1]


def _memories(core: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """``(name, bits, instances)`` per memory of a core."""
    if isinstance(core.get("memories"), dict):
        array = core.get("operational_array") or {}
        sizes = dict(zip(array.get("dimensions") or [], array.get("sizes") or [], strict=False))
        out = []
        for name, memory in core["memories"].items():
            served = set(memory.get("served_dimensions") or [])
            instances = math.prod(max(int(s), 1) for d, s in sizes.items() if d not in served)
            out.append((str(name), int(memory.get("size", 0)), instances))
        return out
    if isinstance(core.get("memory"), dict):
        return [("memory", int(core["memory"].get("capacity", 0)), 1)]
    return []


def _shared_views(
    accelerator: Mapping[str, Any], cores: Mapping[int, Mapping[str, Any]]
) -> dict[tuple[int, str], tuple[int, str]]:
    """Each memory view that is one physical memory with others -> the view counted (the first)."""
    groups: list[list[tuple[int, str]]] = []
    for group in accelerator.get("memory_aliases") or []:
        views = [str(ref).split(".", 1) for ref in group]
        groups.append([(int(c), m) for c, m in views])
    for entry in accelerator.get("core_memory_sharing") or []:
        members = [int(m) for m in (entry.split(",") if isinstance(entry, str) else entry)]
        top = [(m, _memories(cores[m])[-1][0]) for m in members if m in cores and _memories(cores[m])]
        groups.append(top)
    return {view: group[0] for group in groups for view in group}
