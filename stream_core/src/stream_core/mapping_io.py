"""Reader of Stream's mapping YAML into :class:`~stream_core.ir.Mapping`.

Two layouts are accepted unmodified:

* Stream 1.13 and 2.1: ``layers`` (``name``, ``core_allocation: [[ids]]``, ``inter_core_tiling:
  [[{dim: D6, split: 4}]]``, ``kernel``), ``fused_groups`` (``name``, ``layers`` naming nodes or op
  types, ``intra_core_tiling: [{dim: Conv1.D0, tile: 1}]``) and ``runtime_args``; a bare top-level
  list means ``layers``.
* Stream's older list layout: entries with ``core_allocation: [ids]``, ``core_allocation_is_fixed``,
  ``inter_core_tiling: ["K, *"]`` and ``intra_core_tiling: ["OY, 8"]`` (a number of tiles; ``all`` =
  one element per tile), a ``default`` entry, and ZigZag per-layer fields (``spatial_mapping``,
  ``memory_operand_links``, ``temporal_ordering``, ``spatial_mapping_hint``), which are handed to cost
  models as hints.

An entry applies to a node as in Stream 1.13.14 and 2.1.1: the first naming the node or its op type
(the older layout: the node's own entry, else its op type's), else the ``default`` entry.
Dimensions are named positionally (``D6``) or by loop name (``K``). Errors name the layer and field.

Meanings that follow Stream:

* With an inter-core split of ``P`` parts, ``core_allocation`` lists ``P`` cores and part ``i`` runs
  on the ``i``-th; a core listed twice runs both its parts, one after the other.
* ``core_allocation_is_fixed: true`` with ``N > 1`` cores and no ``inter_core_tiling`` splits the
  output channels ``K`` into ``N`` parts, part ``i`` on the ``i``-th listed core (Stream's fixed
  split: one weight slice per listed core).
* Without a split the cores are candidates; a repeated candidate counts once (said in a note).
* A listed core must run the node's op type when its ``operator_types`` say which (Stream 2.1.1).
* Fused groups (Stream 1.13.14's and 2.1.1's ``FixedMappingGenerationStage``): a mapping's only group
  holds every node. Groups naming only nodes hold those nodes (the rest run as groups of their own).
  When a group names an op type, groups take nodes by position: the workload (topological order) is
  cut after each ``MaxPool`` and after the ``Relu`` that is an ``Add``'s only compute successor, and
  around each fusion edge (Flatten, Reshape, ...: a group of its own); with another number of
  segments than groups, it is cut after each group's last listed layer instead.
* An ``intra_core_tiling`` entry tiles a fused axis, as Stream 2.1.1 does: the loops of the group's
  other nodes that are one axis with it (:func:`stream_core.tiling.fused_axes`) get the same tile
  (a strided reader's producer ``s`` times it), kept in ``FusedGroup.derived``, with a note. Entries
  cutting one axis differently, or a producer tile not in whole strides, are errors (as in Stream).
  The entries' axes nest in written order, the first innermost (Stream's steady-state loops), in
  ``NodeMapping.loop_order``.
* An ``inter_core_tiling`` split that does not divide its loop is not applied, with a note naming
  the layers: Stream 1.13.14 and 2.1.1 keep it but their cost estimators price each part as the whole
  loop; here the loop runs whole once, on the first listed core of the parts it would have made.
* A node whose tiles fit no memory of the cores it may run on is tiled further (output loops first),
  with a note naming the tiling; this is a mapping note, not a cost fallback, so ``--strict-costs``
  accepts it. A tile that fits once is kept: whether it must fit twice (double buffering) is the
  allocator's and core's choice (``tetra.double_buffering``, an AIE core's ``double_buffer``; greedy
  waits), and they report a tile that does not fit their way.
* Older layout: a loop the node lacks is ignored with a note; element-wise loops may be named as
  Stream named them (B, H, D, K); ``'*'`` splits over the largest divisor of the loop size not above
  the number of listed cores; ``kernel.utilization`` (2025) is read as ``kernel.kwargs.utilization``.
* ``kernel.name`` is optional (2.1.1); ``kwargs`` default to ``{}``. Any kernel name and kwarg is
  accepted: Stream 1.13 named a kernel after its layer by default and took ``utilization`` and
  ``bfp16_mmul``; the plugin that implements kernels checks names against its library.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs

from stream_core.builtin.mapper import FUSION_EDGE_OPS, fit_tiles, stream_cut_points, tile_footprint_bits
from stream_core.errors import ProblemCollector
from stream_core.ir.accelerator import Accelerator
from stream_core.ir.mapping import FusedGroup, Kernel, Mapping, NodeMapping
from stream_core.ir.workload import Node, NodeKind, Workload
from stream_core.tiling import NodeTiling, apply_loop_orders, entry_loop_orders, fused_axes
from stream_core.yamlio import is_int, load_yaml, type_name

LAYER_KEYS = {
    "name",
    "core_allocation",
    "core_allocation_is_fixed",
    "inter_core_tiling",
    "intra_core_tiling",
    "kernel",
    "spatial_mapping",
    "spatial_mapping_hint",
    "memory_operand_links",
    "temporal_ordering",
}
HINT_KEYS = ("spatial_mapping", "spatial_mapping_hint", "memory_operand_links", "temporal_ordering")
GROUP_KEYS = {"name", "layers", "intra_core_tiling"}
TOP_KEYS = {"layers", "fused_groups", "runtime_args"}
_LEGACY_TILING = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*,\s*([0-9]+|\*|all)\s*$")
Notes = dict[str, dict[str, None]]  # sentence -> layer names (an ordered set)
NOTE_BFP16 = "kernel.kwargs.bfp16_mmul is accepted (a Stream 1.13 kernel option) but not modelled"
NOTE_FIXED_SPLIT = (
    "core_allocation_is_fixed with N > 1 cores splits the output channels K into N parts, part i on the "
    "i-th listed core (Stream's fixed split; a core listed twice runs its parts one after the other)"
)
NOTE_REPEATED_CANDIDATE = "a candidate core listed twice (no inter-core split) counts once"
NOTE_DEFAULT_TILING = (
    "a layer without inter_core_tiling or intra_core_tiling takes the 'default' entry's, as in Stream's older layout"
)
NOTE_TYPE_FIRST = "an op-type entry listed before the node's own entry applies to it, as in Stream 1.13.14 and 2.1.1"
NOTE_WILDCARD = (
    "'*' splits a loop over as many listed cores as the largest divisor of its size allows, the first ones "
    "(Stream's older layout let its allocator choose how many)"
)
#: Loop names Stream's older layout gave element-wise ops, by tensor rank (ours are B, C, OY, OX / D, K).
LEGACY_ELEMENTWISE_LOOPS = {4: ("B", "H", "D", "K"), 2: ("B", "H")}
NOTE_UNEVEN = (
    "Stream 1.13.14 and 2.1.1 keep such a split but price each part as the whole loop (their cost estimators "
    "leave the loop whole on every core), so here the loop runs whole once, on one of the listed cores (the "
    "first of the parts it would have made)"
)
NOTE_ONE_GROUP = "a mapping's only fused group holds every node, as in Stream, not just the layers it lists"
NOTE_OP_TYPE_TILE = (
    "names an op type, not a node: it tiles every node of that type in the group (Stream 1.13.14 and 2.1.1 "
    "need a node name here)"
)


@attrs.frozen
class LayerEntry:
    name: str
    cores: tuple[int, ...] | None
    split: tuple[tuple[str, int | str], ...]  # (dim ref, factor or "*")
    intra: tuple[tuple[str, int | str], ...]  # legacy per-layer tiling: (dim ref, number of tiles or "all")
    kernel: Kernel | None
    hints: tuple[tuple[str, Any], ...]
    fixed: bool = False  # core_allocation_is_fixed (Stream's older layout)
    legacy: bool = False  # tilings written as strings ("K, *"): Stream's older layout


@attrs.frozen
class GroupEntry:
    name: str
    layers: tuple[str, ...]
    tiles: tuple[tuple[str, str, int], ...]  # (node, dim ref, tile size)


@attrs.frozen
class Written:
    """A fused group's tile entry as applied to one node (an entry naming an op type: to each of them)."""

    node: str
    loop: str
    tile: int
    label: str  # the entry's dim, e.g. Conv1.D2
    entry: int  # its position in intra_core_tiling
    by_type: bool  # the entry names an op type


@attrs.frozen
class MappingFile:
    layers: tuple[LayerEntry, ...]
    groups: tuple[GroupEntry, ...] | None
    runtime_args: dict[str, Any]
    notes: tuple[str, ...] = ()


def is_mapping_data(data: Any) -> bool:
    if isinstance(data, dict):
        return "layers" in data or "fused_groups" in data
    return isinstance(data, list) and all(isinstance(e, dict) and "name" in e for e in data) and bool(data)


def read_mapping_file(path: Path | str) -> MappingFile:
    """Parse and schema-check a mapping file without a workload (reports every schema problem)."""
    path = Path(path)
    return parse_mapping_data(load_yaml(path, expected="a mapping YAML file"), str(path))


def parse_mapping_data(data: Any, file: str | None, problems: ProblemCollector | None = None) -> MappingFile:
    """Schema-check mapping data. Problems are raised at once unless a collector is passed in (then
    the caller raises after adding its own checks, so every problem is reported together)."""
    owned = problems is None
    problems = problems if problems is not None else ProblemCollector(file)
    if isinstance(data, list):
        data = {"layers": data}
    if not isinstance(data, dict):
        problems.add(None, f"expected a mapping with 'layers' (or a list of layer entries), got {type_name(data)}")
        problems.raise_if_any()
    for key in sorted(set(data) - TOP_KEYS, key=str):
        problems.add(str(key), f"unknown key; expected one of {', '.join(sorted(TOP_KEYS))}")
    raw_layers = data.get("layers")
    layers: list[LayerEntry] = []
    if not isinstance(raw_layers, list) or not raw_layers:
        problems.add("layers", f"expected a non-empty list of layer entries, got {type_name(raw_layers)}")
    else:
        seen: set[str] = set()
        for index, entry in enumerate(raw_layers):
            layer = _parse_layer(entry, index, problems)
            if layer is None:
                continue
            if layer.name in seen:
                problems.add(f"layers[{index}].name", f"layer {layer.name!r} is listed twice")
            seen.add(layer.name)
            layers.append(layer)
    groups = None
    if "fused_groups" in data:
        groups = _parse_groups(data["fused_groups"], problems)
    runtime_args = data.get("runtime_args") or {}
    if not isinstance(runtime_args, dict):
        problems.add("runtime_args", f"expected a mapping from tensor name to options, got {type_name(runtime_args)}")
        runtime_args = {}
    if owned:
        problems.raise_if_any()
    notes: Notes = {}
    for layer in layers:
        if layer.kernel is not None and layer.kernel.get("bfp16_mmul") is not None:
            _note(notes, NOTE_BFP16, layer.name)
    return MappingFile(tuple(layers), groups, runtime_args, _render(notes))


def _note(notes: Notes, sentence: str, layer: str) -> None:
    notes.setdefault(sentence, {})[layer] = None


def _render(notes: Notes) -> tuple[str, ...]:
    return tuple(f"{sentence}: layers {', '.join(repr(n) for n in names)}" for sentence, names in notes.items())


def _parse_layer(entry: Any, index: int, problems: ProblemCollector) -> LayerEntry | None:
    where = f"layers[{index}]"
    if not isinstance(entry, dict):
        problems.add(where, f"expected a mapping with 'name' and 'core_allocation', got {type_name(entry)}")
        return None
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        problems.add(f"{where}.name", f"missing or not a string (a node name, an op type or 'default'), got {name!r}")
        return None
    where = f"layer '{name}'"
    for key in sorted(set(entry) - LAYER_KEYS, key=str):
        problems.add(f"{where}.{key}", f"unknown field; expected one of {', '.join(sorted(LAYER_KEYS))}")

    cores: tuple[int, ...] | None = None
    split_groups: list[Any] = []
    raw_alloc = entry.get("core_allocation")
    if raw_alloc is not None:
        if is_int(raw_alloc):
            raw_alloc = [raw_alloc]
        if not isinstance(raw_alloc, list) or not raw_alloc:
            problems.add(f"{where}.core_allocation", f"expected a list of core ids or [[ids]], got {raw_alloc!r}")
        elif all(is_int(c) for c in raw_alloc):
            cores = tuple(raw_alloc)
        elif all(isinstance(g, list) and g and all(is_int(c) for c in g) for g in raw_alloc):
            if len(raw_alloc) > 1:
                problems.add(
                    f"{where}.core_allocation",
                    f"{len(raw_alloc)} core groups given; exactly one group per layer is supported (as in Stream)",
                )
            cores = tuple(raw_alloc[0])
        else:
            problems.add(
                f"{where}.core_allocation", f"expected a list of integer core ids or [[ids]], got {raw_alloc!r}"
            )
    fixed = entry.get("core_allocation_is_fixed", False)
    if not isinstance(fixed, bool):
        problems.add(f"{where}.core_allocation_is_fixed", f"expected true or false, got {fixed!r}")
        fixed = False

    split: list[tuple[str, int | str]] = []
    raw_split = entry.get("inter_core_tiling", [])
    if raw_split is None:
        raw_split = []
    if isinstance(raw_split, list) and raw_split and all(isinstance(g, list) for g in raw_split):
        if len(raw_split) > 1:
            problems.add(f"{where}.inter_core_tiling", "one list of splits per core group; only one group is supported")
        split_groups = raw_split[0]
    elif isinstance(raw_split, list):
        split_groups = raw_split
    else:
        problems.add(
            f"{where}.inter_core_tiling",
            f"expected a list such as [[{{dim: D6, split: 4}}]], got {type_name(raw_split)}",
        )
    for item in split_groups:
        parsed = _parse_tiling_item(item, "split", f"{where}.inter_core_tiling", problems)
        if parsed is not None:
            split.append(parsed)

    intra: list[tuple[str, int | str]] = []
    raw_intra = entry.get("intra_core_tiling") or []
    if not isinstance(raw_intra, list):
        problems.add(f"{where}.intra_core_tiling", f"expected a list such as ['OY, 8'], got {type_name(raw_intra)}")
        raw_intra = []
    for item in raw_intra:
        parsed = _parse_tiling_item(item, "tiles", f"{where}.intra_core_tiling", problems)
        if parsed is not None:
            intra.append(parsed)

    kernel = _parse_kernel(entry.get("kernel"), f"{where}.kernel", problems)
    hints = tuple((k, _freeze(entry[k])) for k in HINT_KEYS if entry.get(k) is not None)
    legacy = any(isinstance(item, str) for item in [*split_groups, *raw_intra])
    return LayerEntry(name, cores, tuple(split), tuple(intra), kernel, hints, fixed, legacy)


def _parse_kernel(raw: Any, field: str, problems: ProblemCollector) -> Kernel | None:
    """``{name: <kernel>, kwargs: {...}}``, both optional; ``None`` when neither is given."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.add(field, f"expected {{name: <kernel>, kwargs: {{...}}}}, got {raw!r}")
        return None
    for key in sorted(set(raw) - {"name", "kwargs", "utilization"}, key=str):
        problems.add(f"{field}.{key}", "unknown field; expected name, kwargs")
    name, kwargs = raw.get("name"), raw.get("kwargs") or {}
    if "utilization" in raw and isinstance(kwargs, dict):  # Stream's 2025 layout: {name, utilization}
        kwargs = {**kwargs, "utilization": raw["utilization"]}
    if name is not None and (not isinstance(name, str) or not name):
        problems.add(f"{field}.name", f"expected a kernel name (a string), got {name!r}")
        return None
    if not isinstance(kwargs, dict):
        problems.add(f"{field}.kwargs", f"expected a mapping, got {type_name(kwargs)}")
        return None
    return Kernel(name, kwargs) if name is not None or kwargs else None


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _parse_tiling_item(
    item: Any, amount_key: str, field: str, problems: ProblemCollector
) -> tuple[str, int | str] | None:
    """``{dim: D6, split: 4}`` / ``{dim: D0, tile: 1}`` or the legacy string ``"K, 4"`` / ``"K, *"``."""
    if isinstance(item, str):
        match = _LEGACY_TILING.match(item)
        if not match:
            problems.add(field, f"expected '<DIM>, <number>' (or '*' / 'all'), got {item!r}")
            return None
        dim, amount = match.groups()
        return dim, int(amount) if amount.isdigit() else amount
    if isinstance(item, dict) and "dim" in item:
        key = next((k for k in ("split", "tile", "tiles") if k in item), None)
        amount = item.get(key) if key else None
        if amount == "*" or amount == "all":
            return str(item["dim"]), amount
        if not is_int(amount) or amount < 1:
            problems.add(
                field, f"'{key or amount_key}' of dim {item['dim']!r} must be a positive integer, got {amount!r}"
            )
            return None
        return str(item["dim"]), amount
    problems.add(field, f"expected {{dim: <D#>, {amount_key}: <n>}} or a string '<DIM>, <n>', got {item!r}")
    return None


def _parse_groups(raw: Any, problems: ProblemCollector) -> tuple[GroupEntry, ...]:
    if not isinstance(raw, list):
        problems.add("fused_groups", f"expected a list of groups, got {type_name(raw)}")
        return ()
    groups: list[GroupEntry] = []
    for index, entry in enumerate(raw):
        where = f"fused_groups[{index}]"
        if not isinstance(entry, dict):
            problems.add(
                where, f"expected a mapping with 'name', 'layers', 'intra_core_tiling', got {type_name(entry)}"
            )
            continue
        name = str(entry.get("name", f"group_{index}"))
        where = f"fused group '{name}'"
        for key in sorted(set(entry) - GROUP_KEYS, key=str):
            problems.add(f"{where}.{key}", f"unknown field; expected one of {', '.join(sorted(GROUP_KEYS))}")
        layers = entry.get("layers")
        if not isinstance(layers, list) or not layers or not all(isinstance(x, str) for x in layers):
            problems.add(f"{where}.layers", f"expected a non-empty list of layer names, got {layers!r}")
            continue
        tiles: list[tuple[str, str, int]] = []
        for item in entry.get("intra_core_tiling") or []:
            field = f"{where}.intra_core_tiling"
            if isinstance(item, dict) and isinstance(item.get("dim"), str) and "." in item["dim"]:
                node, dim = item["dim"].rsplit(".", 1)
                tile = item.get("tile")
                if not is_int(tile) or tile < 1:
                    problems.add(field, f"'tile' of {item['dim']!r} must be a positive integer, got {tile!r}")
                    continue
                tiles.append((node, dim, tile))
            else:
                problems.add(field, f"expected {{dim: <Layer>.D<n>, tile: <size>}}, got {item!r}")
        groups.append(GroupEntry(name, tuple(layers), tuple(tiles)))
    return tuple(groups)


def load_mapping(path: Path | str, workload: Workload, accelerator: Accelerator) -> Mapping:
    path = Path(path)
    problems = ProblemCollector(str(path))
    parsed = parse_mapping_data(load_yaml(path, expected="a mapping YAML file"), str(path), problems)
    return resolve_mapping(parsed, workload, accelerator, str(path), problems)


def resolve_mapping(
    parsed: MappingFile,
    workload: Workload,
    accelerator: Accelerator,
    file: str | None,
    problems: ProblemCollector | None = None,
) -> Mapping:
    """Apply a parsed mapping file to a workload and accelerator, checking every cross-reference."""
    problems = problems if problems is not None else ProblemCollector(file)
    by_name = {entry.name: entry for entry in parsed.layers}
    node_maps: dict[str, NodeMapping] = {}
    node_tiles: dict[str, dict[str, int]] = {}
    notes: Notes = {}
    legacy = any(entry.legacy or entry.fixed for entry in parsed.layers)
    default = by_name.get("default")
    for node in workload.nodes:
        entry = _entry_for(node, parsed.layers, by_name, legacy, notes)
        if entry is None and node.kind is NodeKind.COMPUTE:
            entry = default
        if entry is None:
            if node.kind is NodeKind.DATA_MOVEMENT and accelerator.offchip_core_id is not None:
                node_maps[node.name] = NodeMapping(node.name, (accelerator.offchip_core_id,))
                continue
            problems.add(
                "layers",
                f"no entry maps node {node.name!r} (op {node.op_type}); add a layer named {node.name!r}, "
                f"{node.op_type!r} or 'default'",
            )
            continue
        resolved = _resolve_node(node, entry, accelerator, problems, notes)
        if resolved is not None:
            node_maps[node.name], node_tiles[node.name] = resolved

    group_notes = _unused_entries(parsed, workload)
    orders: dict[str, tuple[str, ...]] = {}
    groups = _resolve_groups(parsed, workload, node_maps, node_tiles, problems, group_notes, orders)
    problems.raise_if_any()
    group_notes += _uneven_tiles(groups, workload, node_maps)
    groups = _fit_memory(groups, workload, node_maps, accelerator, group_notes)
    node_maps = apply_loop_orders(node_maps, groups, workload, orders)
    return Mapping(
        node_maps, groups, parsed.runtime_args, source=file, notes=parsed.notes + _render(notes) + tuple(group_notes)
    )


def _unused_entries(parsed: MappingFile, workload: Workload) -> list[str]:
    """A note naming the layer entries that match no node or op type of the workload (ignored, as in
    Stream), with the closest node name when one is close (a typo)."""
    known = {n.name for n in workload.nodes} | {n.op_type for n in workload.nodes} | {"default"}
    unused = [entry.name for entry in parsed.layers if entry.name not in known]
    if not unused:
        return []
    described = []
    for name in unused:
        close = difflib.get_close_matches(name, sorted(known), n=1)
        described.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return [
        f"layers {', '.join(described)} name no node or op type of workload {workload.name!r}: ignored, as in Stream"
    ]


def _uneven_tiles(groups: tuple[FusedGroup, ...], workload: Workload, node_maps: dict[str, NodeMapping]) -> list[str]:
    """A note per tile that does not divide its loop: the last tile holds the remainder (Stream 2.1.1
    refuses such a fused-group tile)."""
    notes = []
    for group in groups:
        for name, loop, tile in (*group.tiles, *group.derived):
            mapping = node_maps.get(name)
            part = workload.node(name).sizes[loop] // (mapping.split_factor(loop) if mapping else 1)
            if tile < part and part % tile:
                notes.append(
                    f"fused group '{group.name}': tile {tile} of {name}.{loop} does not divide its size {part}: "
                    f"{-(-part // tile)} tiles, the last of {part % tile} (Stream 2.1.1 refuses a tile that does not "
                    "divide its loop)"
                )
    return notes


def _entry_for(
    node: Node, layers: tuple[LayerEntry, ...], by_name: dict[str, LayerEntry], legacy: bool, notes: Notes
) -> LayerEntry | None:
    """Stream 1.13.14 and 2.1.1 take the first entry naming the node or its op type; Stream's older
    layout took the node's own entry before its op type's."""
    if legacy:
        return by_name.get(node.name) or by_name.get(node.op_type)
    entry = next((e for e in layers if e.name in (node.name, node.op_type)), None)
    if entry is not None and entry.name != node.name and node.name in by_name:
        _note(notes, NOTE_TYPE_FIRST, node.name)
    return entry


def _resolve_node(
    node: Node, entry: LayerEntry, accelerator: Accelerator, problems: ProblemCollector, notes: Notes
) -> tuple[NodeMapping, dict[str, int]] | None:
    where = f"layer '{entry.name}'" + (f" (node {node.name!r})" if entry.name != node.name else "")
    if entry.cores is None:
        cores = tuple(c.id for c in accelerator.compute_cores if c.summary.can_run(node.op_type)) or tuple(
            c.id for c in accelerator.compute_cores
        )
    else:
        cores = entry.cores
        if not _check_cores(node, cores, accelerator, f"{where}.core_allocation", problems):
            return None
    ok = True
    requested, split_field = entry.split, f"{where}.inter_core_tiling"
    fixed_split = entry.fixed and not requested and len(cores) > 1
    if fixed_split:
        split_field = f"{where}.core_allocation_is_fixed"
        if "K" not in node.sizes:
            problems.add(
                split_field,
                f"a fixed allocation to {len(cores)} cores splits the output channels K over them (as Stream "
                f"does), but node {node.name!r} ({node.op_type}) has no K loop (loops: "
                f"{', '.join(node.loop_names)}); give inter_core_tiling",
            )
            return None
        requested = (("K", len(cores)),)
        _note(notes, NOTE_FIXED_SPLIT, entry.name)
    split: list[tuple[str, int]] = []
    uneven: list[tuple[str, int]] = []  # splits that do not divide their loop: not applied
    wildcard = False
    for ref, amount in requested:
        dim = _legacy_dim(node, ref, entry, notes) if entry.legacy else _dim(node, ref, split_field, problems)
        if dim is None:
            ok = ok and entry.legacy
            continue
        size = node.sizes[dim]
        if amount in ("*", "all"):
            wildcard = True
            room = len(cores) // math.prod(f for _, f in split)
            factor = max(d for d in range(1, min(room, size) + 1) if size % d == 0)
        else:
            factor = int(amount)
        if factor > 1 and not _splittable(node, dim, ref, split_field, problems):
            ok = False
            continue
        if size % factor and fixed_split:  # our reading of an older field: one slice per core, or none
            problems.add(
                split_field,
                f"split {factor} of {ref} ({dim}, size {size}) does not divide it; choose a divisor of {size}",
            )
            ok = False
            continue
        if size % factor:
            sentence = (
                f"split {factor} of {ref} ({dim}, size {size}) does not divide it and is not applied; {NOTE_UNEVEN}"
            )
            _note(notes, sentence, node.name)
            uneven.append((dim, factor))
            continue
        split.append((dim, factor))
    parts = math.prod(f for _, f in split)
    listed = parts * math.prod(f for _, f in uneven)
    if wildcard and 1 < listed < len(cores):
        _note(notes, NOTE_WILDCARD, entry.name)
        cores = cores[:listed]
    if listed > 1 and listed != len(cores):
        problems.add(
            f"{where}.inter_core_tiling",
            f"the split makes {listed} parts but core_allocation lists {len(cores)} cores; they must match",
        )
        ok = False
    elif parts > 1 and uneven:
        cores = _first_cores(node, split, uneven, cores)
    if parts == 1 and len(set(cores)) < len(cores):
        _note(notes, NOTE_REPEATED_CANDIDATE, entry.name)
        cores = tuple(dict.fromkeys(cores))
    tiles: dict[str, int] = {}
    for ref, amount in entry.intra:
        field = f"{where}.intra_core_tiling"
        dim = _legacy_dim(node, ref, entry, notes) if entry.legacy else _dim(node, ref, field, problems)
        if dim is None:
            ok = ok and entry.legacy
            continue
        part = node.sizes[dim] // math.prod(f for d, f in split if d == dim)
        tiles[dim] = 1 if amount in ("*", "all") else max(1, -(-part // int(amount)))
        if tiles[dim] < part and not _splittable(node, dim, ref, f"{where}.intra_core_tiling", problems):
            ok = False
    if not ok:
        return None
    return NodeMapping(node.name, cores, split, entry.kernel, entry.hints), tiles


def _first_cores(
    node: Node, split: list[tuple[str, int]], uneven: list[tuple[str, int]], cores: tuple[int, ...]
) -> tuple[int, ...]:
    """The cores of the parts left when the ``uneven`` splits are not applied: of the parts one would
    have made, the first one's (``cores`` lists every part, the node's first loop outermost)."""
    kept = {d: math.prod(f for x, f in split if x == d) for d in node.loop_names}
    dropped = {d: math.prod(f for x, f in uneven if x == d) for d in node.loop_names}
    coords = itertools.product(*(range(kept[d] * dropped[d]) for d in node.loop_names))
    return tuple(
        core
        for core, coord in zip(cores, coords, strict=True)
        if all(i % dropped[d] == 0 for d, i in zip(node.loop_names, coord, strict=True))
    )


def _check_cores(
    node: Node, cores: tuple[int, ...], accelerator: Accelerator, field: str, problems: ProblemCollector
) -> bool:
    """Every listed core exists, computes (for a compute node) and runs the node's op type."""
    ok = True
    for cid in dict.fromkeys(cores):
        core = accelerator.cores.get(cid)
        if core is None:
            problems.add(field, f"core {cid} is not defined in the accelerator {accelerator.name!r}")
        elif node.kind is NodeKind.COMPUTE and not core.is_compute:
            problems.add(field, f"core {cid} is a '{core.type}' core and cannot compute")
        elif node.kind is NodeKind.COMPUTE and not core.summary.can_run(node.op_type):
            allowed = ", ".join(core.summary.operator_types or ())
            problems.add(
                field,
                f"node {node.name!r} is a {node.op_type}, but core {cid} ({core.name}) only runs {allowed} "
                "(its operator_types)",
            )
        else:
            continue
        ok = False
    return ok


def _splittable(node: Node, dim: str, ref: str, field: str, problems: ProblemCollector) -> bool:
    if dim in node.protected_loops:
        problems.add(
            field,
            f"{ref} ({dim}) of node {node.name!r} ({node.op_type}) cannot be split or tiled: every output "
            f"needs its whole extent (protected loops: {', '.join(node.protected_loops)})",
        )
        return False
    return True


def _legacy_dim(node: Node, ref: str, entry: LayerEntry, notes: Notes) -> str | None:
    """A loop named in Stream's older layout: the node's own loop name, else the name Stream gave an
    element-wise loop by position (B, H, D, K of a 4-D tensor; B, H of a 2-D one); a loop the node does
    not have is ignored with a note, as Stream did."""
    try:
        return node.resolve_dim(ref)
    except KeyError:
        pass
    names = LEGACY_ELEMENTWISE_LOOPS.get(len(node.loops), ()) if not node.reduction_dims else ()
    if ref in names:
        return node.loops[names.index(ref)].name
    _note(notes, f"{ref} is not a loop of the node: its tiling is ignored, as Stream's older layout did", entry.name)
    return None


def _dim(node: Node, ref: str, field: str, problems: ProblemCollector) -> str | None:
    try:
        return node.resolve_dim(ref)
    except KeyError:
        loops = ", ".join(f"D{i}={loop.name}" for i, loop in enumerate(node.loops))
        problems.add(field, f"node {node.name!r} ({node.op_type}) has no dimension {ref!r}; its loops are {loops}")
        return None


def _resolve_groups(
    parsed: MappingFile,
    workload: Workload,
    node_maps: dict[str, NodeMapping],
    node_tiles: dict[str, dict[str, int]],
    problems: ProblemCollector,
    notes: list[str],
    orders: dict[str, tuple[str, ...]],
) -> tuple[FusedGroup, ...]:
    """Fused groups as Stream forms them (see the module docstring), in topological order; ``orders``
    gets each node's loop order from its group's entries."""
    order = {node.name: i for i, node in enumerate(workload.nodes)}
    if parsed.groups is None:
        whole = tuple((n, d, t) for n, ts in node_tiles.items() for d, t in ts.items())
        return (FusedGroup("group_0", tuple(order), whole),)
    op_types = {n.op_type for n in workload.nodes}
    for group in parsed.groups:
        for layer in group.layers:
            if layer not in workload and layer not in op_types:
                problems.add(
                    f"fused group '{group.name}'.layers",
                    f"layer {layer!r} is neither a node of the workload nor an op type of one "
                    f"(nodes: {', '.join(list(order)[:8])}{', ...' if len(order) > 8 else ''})",
                )
    by_name = not any(layer not in workload and layer in op_types for group in parsed.groups for layer in group.layers)
    if len(parsed.groups) == 1:
        members = [list(order)]
        layers = set(parsed.groups[0].layers)  # a set: one lookup per node, not a scan of every layer
        listed = {n.name for n in workload.nodes if n.name in layers or n.op_type in layers}
        if len(listed) < len(order):
            notes.append(f"fused group '{parsed.groups[0].name}': {NOTE_ONE_GROUP}")
    elif by_name:
        members = _members_by_name(parsed.groups, workload, problems)
    else:
        positioned = _members_by_position(parsed.groups, workload, problems, notes)
        if positioned is None:
            return ()
        members = positioned
    groups: list[FusedGroup] = []
    for group, names in zip(parsed.groups, members, strict=True):
        where = f"fused group '{group.name}'"
        tiles = {(n, d): t for n in names for d, t in node_tiles.get(n, {}).items()}
        written: list[Written] = []
        for entry, (node_name, ref, tile) in enumerate(group.tiles):
            targets = (
                [node_name]
                if node_name in workload or by_name
                else [n for n in names if workload.node(n).op_type == node_name]
            )
            if not targets or any(n not in names for n in targets):
                problems.add(
                    f"{where}.intra_core_tiling", f"{node_name}.{ref}: node {node_name!r} is not in this group"
                )
                continue
            if targets != [node_name]:
                notes.append(f"{where}.intra_core_tiling: {node_name}.{ref} {NOTE_OP_TYPE_TILE}")
            for name in targets:
                node = workload.node(name)
                field = f"{where}.intra_core_tiling"
                dim = _dim(node, ref, field, problems)
                if dim is not None and (tile >= node.sizes[dim] or _splittable(node, dim, ref, field, problems)):
                    tiles[(name, dim)] = tile
                    written.append(Written(name, dim, tile, f"{node_name}.{ref}", entry, targets != [node_name]))
        ordered = tuple(sorted(names, key=order.__getitem__))
        derived = _derive_tiles(workload, ordered, written, tiles, where, problems, notes)
        orders.update(entry_loop_orders(workload, ordered, [(w.node, w.loop) for w in written]))
        groups.append(FusedGroup(group.name, ordered, tuple((n, d, t) for (n, d), t in tiles.items()), derived))
    grouped = {n for g in groups for n in g.nodes}
    for name in order:
        if name not in grouped and name in node_maps:
            groups.append(FusedGroup(name, (name,), tuple((name, d, t) for d, t in node_tiles.get(name, {}).items())))
    groups = [g for g in groups if g.nodes]
    groups.sort(key=lambda g: order[g.nodes[0]])
    position = {n: i for i, g in enumerate(groups) for n in g.nodes}
    for node in workload.nodes:
        for pred in workload.predecessors(node.name):
            if node.name in position and pred.name in position and position[pred.name] > position[node.name]:
                problems.add(
                    "fused_groups",
                    f"node {node.name!r} (group '{groups[position[node.name]].name}') needs {pred.name!r}, "
                    f"which runs later in group '{groups[position[pred.name]].name}'",
                )
    return tuple(groups)


def _derive_tiles(
    workload: Workload,
    names: tuple[str, ...],
    written: list[Written],
    tiles: dict[tuple[str, str], int],
    where: str,
    problems: ProblemCollector,
    notes: list[str],
) -> tuple[tuple[str, str, int], ...]:
    """Tiles of the loops that are one fused axis with a written ``intra_core_tiling`` entry (Stream
    2.1.1 tiles the axis, so every node of the group along it): ``tile * scale`` of each. Entries
    cutting one axis differently, or a tile not in whole strides of a strided reader, are errors (as
    in Stream); an entry naming an op type (our extension) then tiles only its own nodes, with a note.
    A loop tiled in ``tiles`` keeps that tile; a protected loop stays whole, with a note."""
    axes = fused_axes(workload, names)
    field = f"{where}.intra_core_tiling"
    chosen: dict[tuple[str, str], tuple[int, Written]] = {}  # loop -> its tile, the entry it comes from
    for w in written:
        sizes = [(loop, w.tile * ratio) for loop, ratio in axes.members((w.node, w.loop))]
        issue, own = _axis_issue(w, sizes, chosen) or (None, False)
        if issue is None:
            for member, scaled in sizes:
                chosen.setdefault(member, (int(scaled), w))
        elif w.by_type and own:
            notes.append(f"{field}: {issue}; as {w.label} names an op type, it tiles {w.node}.{w.loop} alone")
        else:
            problems.add(field, issue)
    derived: dict[str, list[str]] = {}
    out: list[tuple[str, str, int]] = []
    position = {n: i for i, n in enumerate(names)}
    for (name, loop), (size, source) in sorted(
        chosen.items(), key=lambda item: (position[item[0][0]], workload.node(item[0][0]).loop_names.index(item[0][1]))
    ):
        node = workload.node(name)
        if (name, loop) in tiles or size >= node.sizes[loop]:
            continue
        if loop in node.protected_loops:
            notes.append(
                f"{field}: {name}.{loop} is one fused axis with {source.label} but every output of {name!r} needs its "
                "whole extent (a protected loop): it stays whole"
            )
            continue
        out.append((name, loop, size))
        derived.setdefault(name, []).append(f"{loop} {size}")
    if derived:
        listed = "; ".join(f"{name} {', '.join(loops)}" for name, loops in derived.items())
        notes.append(
            f"{field}: tiles the loops that are one fused axis with the entries, as Stream 2.1.1 does: {listed}"
        )
    return tuple(out)


def _axis_issue(
    w: Written, sizes: list[tuple[tuple[str, str], Fraction]], chosen: dict[tuple[str, str], tuple[int, Written]]
) -> tuple[str, bool] | None:
    """Why entry ``w`` cannot tile its fused axis (the loops' ``sizes``), and whether the cause is the
    entry itself (not a different entry it disagrees with); ``None`` when it can."""
    for (other, loop), size in sizes:
        if size.denominator != 1:
            return (
                f"tile {w.tile} of {w.label} is not a multiple of {size.denominator}, the stride {other}.{loop} steps "
                f"it by (one fused axis): tile it by whole strides, or tile {other}"
            ), True
        tile, earlier = chosen.get((other, loop), (size, w))
        if tile != size:
            own = earlier.entry == w.entry
            first = f"{w.label} on {w.node} and on {earlier.node}" if own else f"{w.label} and {earlier.label}"
            return (
                f"{first} cut one fused axis differently ({other}.{loop}: {int(size)} against {tile}); entries "
                "naming one fused axis must agree, as in Stream 2.1.1"
            ), own
    return None


def _members_by_name(groups: tuple[GroupEntry, ...], workload: Workload, problems: ProblemCollector) -> list[list[str]]:
    """Groups that name only nodes hold those nodes (a node in two groups is an error)."""
    owner: dict[str, str] = {}
    members: list[list[str]] = []
    for group in groups:
        names: list[str] = []
        for name in (layer for layer in group.layers if layer in workload):
            if name in owner:
                problems.add(
                    f"fused group '{group.name}'.layers", f"node {name!r} is already in fused group '{owner[name]}'"
                )
                continue
            owner[name] = group.name
            names.append(name)
        members.append(names)
    return members


def _members_by_position(
    groups: tuple[GroupEntry, ...], workload: Workload, problems: ProblemCollector, notes: list[str]
) -> list[list[str]] | None:
    """Stream's assignment when groups name op types: the workload is cut at Stream's cut points and the
    i-th segment is the i-th group; when the counts differ, it is cut after each group's last listed
    layer instead. A fusion edge (Flatten, Reshape, ...) is a boundary and a group of its own."""
    segments = _segments(workload, stream_cut_points(workload))
    how = "after each MaxPool and after the Relu ending a residual Add"
    if len(segments) != len(groups):
        ends = [group.layers[-1] for group in groups[:-1]]
        op_types = [f"'{g.name}' ends with {g.layers[-1]!r}" for g in groups[:-1] if g.layers[-1] not in workload]
        if op_types:
            problems.add(
                "fused_groups",
                f"{len(groups)} groups, but Stream's cuts ({how}) make {len(segments)}; Stream then cuts after "
                f"each group's last layer, which must be a node name, but {', '.join(op_types)} (an op type; "
                "Stream 1.13.14 and 2.1.1 stop here too)",
            )
            return None
        segments = _segments(workload, set(ends))
        how = "after each group's last listed layer"
        if len(segments) != len(groups):
            problems.add(
                "fused_groups",
                f"{len(groups)} groups, but cutting {how} makes {len(segments)} (fusion edges such as "
                f"{', '.join(sorted(FUSION_EDGE_OPS))} also end a group)",
            )
            return None
    notes.append(
        f"fused groups list op types; as in Stream, each holds the nodes at its position: the workload is cut {how}"
    )
    return segments


def _segments(workload: Workload, cuts: set[str]) -> list[list[str]]:
    """Nodes in topological order cut after each of ``cuts`` and around each fusion edge (fusion
    edges are left out: each becomes a group of its own)."""
    segments: list[list[str]] = []
    current: list[str] = []
    for node in workload.nodes:
        if node.op_type in FUSION_EDGE_OPS:
            cut = True
        else:
            current.append(node.name)
            cut = node.name in cuts
        if cut and current:
            segments.append(current)
            current = []
    if current:
        segments.append(current)
    return segments


def _fit_memory(
    groups: tuple[FusedGroup, ...],
    workload: Workload,
    node_maps: dict[str, NodeMapping],
    accelerator: Accelerator,
    notes: list[str],
) -> tuple[FusedGroup, ...]:
    """A node whose tiles fit no memory of the cores it may run on (every core it is pinned to, when
    split) is tiled further as the whole-layer mapper tiles a layer that does not fit: the loop whose
    halving shrinks the tile most is halved until its operands take at most half of that memory,
    output loops first and reductions only when those cannot make it fit (as Stream 2.1.1's capacity
    tiler tries them). Each such node gets a note naming the tiling chosen."""
    fitted_groups = []
    for group in groups:
        tiles = {(n, d): t for n, d, t in group.tiles}
        written: dict[str, dict[str, int]] = {}  # group.tile_sizes of every node at once (it scans all tiles)
        for n, d, t in (*group.derived, *group.tiles):
            written.setdefault(n, {})[d] = t
        for name in group.nodes:
            node, mapping = workload.node(name), node_maps[name]
            cores = [accelerator.cores[c] for c in dict.fromkeys(mapping.cores) if accelerator.cores[c].is_compute]
            if not cores:
                continue
            memories = [core.summary.memory_bits for core in cores]
            room = min(memories) if mapping.parts > 1 else max(memories)
            tile = NodeTiling(node, mapping, written.get(name, {})).tile
            need = tile_footprint_bits(node, tile)
            if need <= room:
                continue
            outputs = [d for d in node.loop_names if d not in node.reduction_dims]
            fitted = {**tile, **fit_tiles(node, room // 2, tile, outputs)}
            if tile_footprint_bits(node, fitted) > room // 2:
                fitted = {**fitted, **fit_tiles(node, room // 2, fitted)}
            changed = {d: s for d, s in fitted.items() if s < tile[d]}
            if not changed:
                continue
            tiles.update({(name, d): s for d, s in changed.items()})
            steps = math.prod(-(-tile[d] // s) for d, s in changed.items())
            which = "every core it is split over" if mapping.parts > 1 else "any core it may run on"
            notes.append(
                f"layer {name!r} ({node.op_type}): its tile needs {need} bits, more than the memory of {which} "
                f"({room} bits); tiled further to {', '.join(f'{d} {tile[d]} -> {s}' for d, s in changed.items())} "
                f"({steps}x the tiles), as the whole-layer mapper tiles a layer that does not fit"
            )
        fitted_groups.append(attrs.evolve(group, tiles=tuple((n, d, t) for (n, d), t in tiles.items())))
    return tuple(fitted_groups)
