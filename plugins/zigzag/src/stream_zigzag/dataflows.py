"""The spatial unrolling given to ZigZag: the core's ``dataflows`` and the mapping's ``spatial_mapping`` hint,
matched to the node's loop names.

Stream hands ZigZag dataflow entries such as ``K, 16`` for layers whose dimensions are called ``D0..Dn``;
ZigZag then drops them with a log line and runs on an empty unrolling (``cost_models.md`` §4.1). Here
each entry is matched to the node's loops by name (``K``, ``C``, ``OX``, ... as the ONNX parser names
them; a positional ``D<i>`` also works) and translated to the ZigZag dimension name. Rules:

* a mapping hint's entries replace the core's entries for the array dimensions the hint names;
* the unroll factor is ``min(requested, loop size / what earlier array dimensions already unrolled of
  that loop)``, and the entries of one array dimension are cut so their product stays within its size
  (deterministically, in order); ZigZag handles a factor that does not divide the loop (it balances
  the temporal remainder with a fractional unrolling) and may lower a factor to its memory bandwidths;
* an entry naming no loop of the node is reported (the model warns once per core and op type) and
  ignored; an array dimension left without entries is filled by ZigZag's spatial-mapping generator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from stream_core.errors import ProblemCollector
from stream_core.ir import Node
from stream_zigzag.core_schema import parse_unrolling
from stream_zigzag.description import ZigZagCore
from stream_zigzag.translate import Unrolling


@attrs.frozen
class SpatialChoice:
    mapping: Unrolling
    hint: tuple[tuple[str, tuple[str, ...]], ...]
    unmatched: tuple[str, ...]  # "D2: C, 16 (dataflows)"
    problems: tuple[str, ...]  # malformed hint entries


def _pairs(value: Any, key: str, problems: list[str]) -> list[tuple[Any, Any]]:
    """A hint's ``{array dimension: entries}`` (a dict or, as frozen by the mapping reader, pairs)."""
    if isinstance(value, Mapping):
        return list(value.items())
    items = list(value) if isinstance(value, list | tuple) else [value]
    pairs = [(item[0], item[1]) for item in items if isinstance(item, list | tuple) and len(item) == 2]
    if len(pairs) != len(items):
        problems.append(f'{key} must map array dimensions to entries (e.g. {{D1: ["K, 16"]}}), got {value!r}')
    return pairs


def _listify(value: Any) -> Any:
    return [_listify(v) for v in value] if isinstance(value, list | tuple) else value


def choose_spatial(node: Node, names: dict[str, str], core: ZigZagCore, hints: Mapping[str, Any]) -> SpatialChoice:
    """Resolve the core's dataflows and the request's hints against ``node`` (ZigZag names via ``names``)."""
    sizes = core.array_sizes
    wanted: dict[str, tuple[list[tuple[str, int]], str]] = {
        oa: (entries, "dataflows") for oa, entries in core.dataflows
    }
    problems: list[str] = []
    for oa, raw in _pairs(hints.get("spatial_mapping", ()), "spatial_mapping", problems):
        if oa not in sizes:
            problems.append(f"spatial_mapping names {oa!r}, not a dimension of core {core.name!r} ({', '.join(sizes)})")
            continue
        collector = ProblemCollector()
        parsed = parse_unrolling(_listify(raw), f"spatial_mapping.{oa}", collector)
        problems += [str(p) for p in collector.problems]
        wanted[oa] = ([(d, f) for d, f in parsed], "mapping hint")
    used: dict[str, int] = {}
    mapping: list[tuple[str, tuple[tuple[str, int], ...]]] = []
    unmatched: list[str] = []
    for oa, size in sizes.items():
        if oa not in wanted:
            continue
        entries, source = wanted[oa]
        chosen: dict[str, int] = {}
        product = 1
        for ref, factor in entries:
            try:
                loop = node.resolve_dim(ref)
            except KeyError:
                unmatched.append(f"{oa}: {ref}, {factor} ({source})")
                continue
            room = node.sizes[loop] // used.get(loop, 1)
            unroll = max(1, min(factor, room, size // product))
            used[loop] = used.get(loop, 1) * unroll
            product *= unroll
            chosen[names[loop]] = chosen.get(names[loop], 1) * unroll
        if chosen:
            mapping.append((oa, tuple(chosen.items())))
    hint = _mapping_hint(node, names, hints.get("spatial_mapping_hint", ()), sizes, problems)
    return SpatialChoice(mapping=tuple(mapping), hint=hint, unmatched=tuple(unmatched), problems=tuple(problems))


def _mapping_hint(
    node: Node, names: dict[str, str], raw: Any, sizes: dict[str, int], problems: list[str]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """ZigZag's ``spatial_mapping_hint`` (``{D1: [K, C]}``: loops ZigZag may try on D1), translated."""
    out = []
    for oa, refs in _pairs(raw, "spatial_mapping_hint", problems):
        if oa not in sizes:
            problems.append(f"spatial_mapping_hint names {oa!r}, not a dimension of the core ({', '.join(sizes)})")
            continue
        dims = []
        for ref in [refs] if isinstance(refs, str) else refs:
            try:
                dims.append(names[node.resolve_dim(str(ref))])
            except KeyError:
                continue
        if dims:
            out.append((oa, tuple(dims)))
    return tuple(out)
