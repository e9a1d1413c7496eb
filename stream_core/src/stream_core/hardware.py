"""Reader of Stream's accelerator (system) YAML into :class:`~stream_core.ir.Accelerator`.

The file format is Stream's, accepted unmodified: ``name``, ``cores`` (id -> core file or inline
core), ``offchip_core_id``, ``core_connectivity`` (links and buses with ``bandwidth`` in bits/cycle
and optional ``unit_energy_cost``), ``unit_energy_cost``, ``core_coordinates``,
``core_memory_sharing``, plus Stream's optional annotations (``bandwidth``, ``kernel_library``,
``reconfiguration``, ``technology_node``, ``memory_aliases``), which are accepted and kept aside.

Stream's two older layouts are accepted too and normalised to that one first:

* connectivity strings (2024): ``core_connectivity: ["0, 1", "0, 1, 2"]`` (two cores: a link, more:
  a bus) at the top-level ``bandwidth``, and ``offchip_core: <file>``, which gets the next free id
  and one bus to every core at the off-chip memory's port bandwidth;
* a graph (2023): ``cores`` as a list and ``graph: {type: 2d_mesh | bus, nb_rows, nb_cols,
  bandwidth, unit_energy_cost, pooling_core_id, simd_core_id, offchip_core_id}``: a mesh of the
  array cores with links to their N/E/S/W neighbours (or one bus), the pooling and SIMD cores linked
  to every array core, and the off-chip core on one bus with every core.

Each core file goes to the core-type plugin named by its ``type:`` namespace; a bare kind
(``type: compute``) or a missing type means ``zigzag.<kind>``, as in Stream. Every problem found is
reported together, each naming the file and the key path.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from stream_core.errors import InputError, ProblemCollector
from stream_core.ir.accelerator import CORE_KINDS, Accelerator, Core, Link
from stream_core.plugins import Plugins
from stream_core.yamlio import is_int, is_number, load_yaml, type_name

DEFAULT_NAMESPACE = "zigzag"

PROVIDED_BY = "provided_by"  # optional key of any core file: the distribution that reads its type
OFFCHIP_BANDWIDTH = "offchip port bandwidth"  # placeholder resolved once the off-chip core is parsed

#: Accelerator-level blocks kept on :attr:`Accelerator.annotations` for the plugins that read them.
ANNOTATION_KEYS = ("bandwidth", "kernel_library", "reconfiguration", "technology_node", "memory_aliases")

KNOWN_KEYS = {
    "name",
    "cores",
    "offchip_core_id",
    "core_connectivity",
    "unit_energy_cost",
    "core_coordinates",
    "core_memory_sharing",
    "bandwidth",
    "kernel_library",
    "reconfiguration",
    "technology_node",
    "memory_aliases",
    "offchip_core",
    "graph",
}


def is_accelerator_data(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and "cores" in data
        and any(k in data for k in ("core_connectivity", "offchip_core_id", "offchip_core", "graph"))
    )


def normalise_layout(data: dict[str, Any], problems: ProblemCollector) -> dict[str, Any]:
    """Rewrite Stream's older accelerator layouts into the current one (see the module docstring)."""
    data = dict(data)
    if isinstance(data.get("cores"), list):
        data["cores"] = dict(enumerate(data["cores"]))
    graph = data.pop("graph", None)
    if graph is not None:
        _normalise_graph(graph, data, problems)
    if "offchip_core" in data:
        cores = data.get("cores") if isinstance(data.get("cores"), dict) else {}
        ids = [k for k in cores if is_int(k)]
        offchip_id = max(ids, default=-1) + 1
        data["cores"] = {**cores, offchip_id: data.pop("offchip_core")}
        data.setdefault("offchip_core_id", offchip_id)
        connectivity = data.get("core_connectivity") or []
        if isinstance(connectivity, list):
            connectivity = [*connectivity, {"type": "bus", "cores": [*ids, offchip_id], "bandwidth": OFFCHIP_BANDWIDTH}]
        data["core_connectivity"] = connectivity
    connectivity = data.get("core_connectivity")
    if isinstance(connectivity, list) and any(isinstance(e, str) for e in connectivity):
        bandwidth = data.get("bandwidth")
        if not is_number(bandwidth):
            problems.add(
                "bandwidth",
                f"connections written as strings need a top-level numeric 'bandwidth' (bits/cycle), got {bandwidth!r}",
            )
        rewritten = []
        for entry in connectivity:
            if isinstance(entry, str):
                members = _core_list(entry) or []
                rewritten.append(
                    {"type": "link" if len(members) == 2 else "bus", "cores": members, "bandwidth": bandwidth}
                )
            else:
                rewritten.append(entry)
        data["core_connectivity"] = rewritten
        data.pop("bandwidth", None)
    return data


def _normalise_graph(graph: Any, data: dict[str, Any], problems: ProblemCollector) -> None:
    if not isinstance(graph, dict):
        problems.add("graph", f"expected a mapping with 'type', 'bandwidth', ..., got {type_name(graph)}")
        return
    kind = graph.get("type")
    bandwidth = graph.get("bandwidth")
    energy = graph.get("unit_energy_cost", 0)
    data.setdefault("unit_energy_cost", energy)
    if not is_number(bandwidth):
        problems.add("graph.bandwidth", f"expected a number of bits per cycle, got {bandwidth!r}")
    special = {graph.get(k) for k in ("pooling_core_id", "simd_core_id", "offchip_core_id")} - {None}
    cores = sorted(k for k in (data.get("cores") or {}) if is_int(k))
    array = [c for c in cores if c not in special]
    links: list[dict[str, Any]] = []
    if kind in ("2d_mesh", "2d-mesh", "mesh"):
        rows, cols = graph.get("nb_rows"), graph.get("nb_cols")
        if not (is_int(rows) and is_int(cols)) or rows * cols != len(array):
            problems.add("graph", f"nb_rows x nb_cols must equal the {len(array)} array cores, got {rows} x {cols}")
            return
        for r in range(rows):
            for c in range(cols):
                here = array[r * cols + c]
                if c + 1 < cols:
                    links.append({"type": "link", "cores": [here, array[r * cols + c + 1]], "bandwidth": bandwidth})
                if r + 1 < rows:
                    links.append({"type": "link", "cores": [here, array[(r + 1) * cols + c]], "bandwidth": bandwidth})
    elif kind == "bus":
        links.append({"type": "bus", "cores": list(array), "bandwidth": bandwidth})
    else:
        problems.add("graph.type", f"expected '2d_mesh' or 'bus', got {kind!r}")
        return
    for key in ("pooling_core_id", "simd_core_id"):
        extra = graph.get(key)
        if extra is not None:
            links += [{"type": "link", "cores": [a, extra], "bandwidth": bandwidth} for a in array]
    offchip = graph.get("offchip_core_id")
    if offchip is not None:
        data.setdefault("offchip_core_id", offchip)
        others = [c for c in cores if c != offchip]
        links.append({"type": "bus", "cores": [*others, offchip], "bandwidth": OFFCHIP_BANDWIDTH})
    data["core_connectivity"] = [*(data.get("core_connectivity") or []), *links]


def split_core_type(raw: Any) -> tuple[str, str]:
    """``"aie2.compute"`` -> ``("aie2", "compute")``; ``"compute"`` or nothing -> ``("zigzag", kind)``."""
    if raw is None:
        return DEFAULT_NAMESPACE, "compute"
    text = str(raw).strip()
    if "." in text:
        namespace, kind = text.split(".", 1)
        return namespace.lower(), kind.lower()
    return DEFAULT_NAMESPACE, text.lower()


def parse_core_data(data: Any, plugins: Plugins, file: str | None, field_prefix: str = "") -> tuple[str, Any]:
    """Hand one core description (a dict) to its core-type plugin; returns ``(type, description)``.

    The optional key ``provided_by: <distribution>`` belongs to the core, not to the core type: it
    is removed before the plugin sees the data and quoted when no installed plugin reads the type.
    """
    problems = ProblemCollector(file)
    if not isinstance(data, dict):
        problems.add(field_prefix or None, f"expected a mapping describing a core, got {type_name(data)}")
        problems.raise_if_any()
    data = dict(data)
    provided_by = data.pop(PROVIDED_BY, None)
    namespace, kind = split_core_type(data.get("type"))
    type_field = f"{field_prefix}.type" if field_prefix else "type"
    registry = plugins.registry("core_types")
    if namespace not in registry:
        available = ", ".join(f"{n}.*" for n in registry.names()) or "(none)"
        hint = difflib.get_close_matches(namespace, registry.names(), n=1)
        did_you_mean = f" Did you mean '{hint[0]}'?" if hint else ""
        if isinstance(provided_by, str) and provided_by.strip():
            install = f"This core file says the distribution '{provided_by}' provides it: pip install {provided_by}."
        else:
            install = f"Install the plugin package that provides the '{namespace}' core types."
        problems.add(
            type_field,
            f"core type '{namespace}.{kind}' is not provided by any installed plugin.{did_you_mean} "
            f"Installed core types: {available}. {install} (Run 'stream plugins' to see what is installed.)",
        )
        problems.raise_if_any()
    record = registry.get(namespace)
    if kind not in CORE_KINDS or kind not in record.kinds:
        allowed = ", ".join(sorted(record.kinds))
        problems.add(type_field, f"unknown kind '{kind}' for core type '{namespace}'; expected one of: {allowed}")
        problems.raise_if_any()
    description = record.load().parse(data, kind=kind, file=file)
    return f"{namespace}.{kind}", description


def resolve_core_file(reference: str, accelerator_dir: Path) -> tuple[Path | None, list[Path]]:
    """Find a core file as Stream does: a path relative to the accelerator file, else for a bare name
    ``<dir>/cores/<name>`` then ``<dir>/<name>``. Returns the path (or None) and the places tried."""
    ref = Path(reference)
    if ref.is_absolute():
        tried = [ref]
    elif len(ref.parts) > 1:
        tried = [accelerator_dir / ref, Path.cwd() / ref]
    else:
        tried = [accelerator_dir / "cores" / ref, accelerator_dir / ref]
    tried = [c for t in tried for c in ((t, t.with_name(t.name + ".yaml")) if not t.suffix else (t,))]
    for candidate in tried:
        if candidate.is_file():
            return candidate.resolve(), tried
    return None, tried


def load_accelerator(path: Path | str, plugins: Plugins) -> Accelerator:
    """Read and validate an accelerator file; raise :class:`InputError` with every problem found."""
    path = Path(path)
    data = load_yaml(path)
    return accelerator_from_data(data, plugins, file=str(path), base_dir=path.parent)


def accelerator_from_data(data: Any, plugins: Plugins, *, file: str, base_dir: Path) -> Accelerator:
    problems = ProblemCollector(file)
    if not isinstance(data, dict):
        problems.add(None, f"expected a mapping with 'name', 'cores', 'core_connectivity', got {type_name(data)}")
        problems.raise_if_any()

    data = normalise_layout(data, problems)
    for key in sorted(set(data) - KNOWN_KEYS, key=str):
        close = difflib.get_close_matches(str(key), sorted(KNOWN_KEYS), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(sorted(KNOWN_KEYS))}"
        problems.add(str(key), f"unknown key{hint}")

    name = data.get("name")
    if name is None:
        problems.add("name", "missing required field (a string naming the accelerator)")
    elif not isinstance(name, str):
        problems.add("name", f"expected a string, got {type_name(name)}")

    cores = _parse_cores(data.get("cores"), plugins, problems, base_dir)
    raw_cores = data.get("cores")
    core_ids = {k for k in raw_cores if is_int(k)} if isinstance(raw_cores, dict) else set()  # declared, parsed or not

    offchip = data.get("offchip_core_id")
    if offchip is None:
        problems.add("offchip_core_id", "missing required field (the id of the off-chip memory core)")
    elif not is_int(offchip):
        problems.add("offchip_core_id", f"expected an integer core id, got {type_name(offchip)}")
    elif core_ids and offchip not in core_ids:
        problems.add("offchip_core_id", f"core {offchip} is not defined in 'cores' (defined: {_ids(core_ids)})")
    elif offchip in cores and cores[offchip].kind not in ("offchip", "shim"):
        problems.add(
            "offchip_core_id",
            f"core {offchip} has type '{cores[offchip].type}'; the off-chip core must be of kind 'offchip' or 'shim'",
        )

    default_energy = data.get("unit_energy_cost", 0.0)
    if not is_number(default_energy) or default_energy < 0:
        problems.add("unit_energy_cost", f"expected a non-negative number (pJ per bit), got {default_energy!r}")
        default_energy = 0.0

    offchip_bandwidth = cores[offchip].summary.read_bandwidth if is_int(offchip) and offchip in cores else None
    links = _parse_connectivity(
        data.get("core_connectivity"), core_ids, float(default_energy), problems, offchip_bandwidth
    )
    coordinates = _parse_coordinates(data.get("core_coordinates"), core_ids, problems)
    sharing = _parse_memory_sharing(data.get("core_memory_sharing"), cores, problems)

    problems.raise_if_any()
    cores = {
        cid: Core(id=c.id, type=c.type, description=c.description, coordinates=coordinates.get(cid), source=c.source)
        for cid, c in cores.items()
    }
    annotations = {key: data[key] for key in ANNOTATION_KEYS if key in data}
    accelerator = Accelerator(
        name=name,
        cores=cores,
        links=links,
        offchip_core_id=offchip,
        memory_sharing=sharing,
        source=file,
        annotations=annotations,
    )
    _check_reachability(accelerator, problems)
    problems.raise_if_any()
    return accelerator


def _ids(ids: set[int]) -> str:
    return ", ".join(str(i) for i in sorted(ids)) or "none"


def _parse_cores(raw: Any, plugins: Plugins, problems: ProblemCollector, base_dir: Path) -> dict[int, Core]:
    if raw is None:
        problems.add("cores", "missing required field (a mapping from core id to core file or inline core)")
        return {}
    if not isinstance(raw, dict) or not raw:
        problems.add("cores", f"expected a non-empty mapping from core id to core file, got {type_name(raw)}")
        return {}
    cores: dict[int, Core] = {}
    parsed_files: dict[Path, tuple[str, Any]] = {}
    failed_files: set[Path] = set()  # a bad file is reported once, however many cores use it
    for key, value in raw.items():
        field = f"cores.{key}"
        if not is_int(key) or key < 0:
            problems.add(field, f"core ids must be non-negative integers, got {key!r}")
            continue
        try:
            if isinstance(value, str):
                core_path, tried = resolve_core_file(value, base_dir)
                if core_path is None:
                    problems.add(field, f"core file '{value}' not found; looked in: {', '.join(str(t) for t in tried)}")
                    continue
                if core_path in failed_files:
                    continue
                if core_path not in parsed_files:
                    try:
                        parsed_files[core_path] = parse_core_data(load_yaml(core_path), plugins, str(core_path))
                    except InputError:
                        failed_files.add(core_path)
                        raise
                core_type, description = parsed_files[core_path]
                cores[key] = Core(id=key, type=core_type, description=description, source=str(core_path))
            elif isinstance(value, dict):
                core_type, description = parse_core_data(value, plugins, problems.file, field_prefix=field)
                cores[key] = Core(id=key, type=core_type, description=description, source=problems.file)
            else:
                problems.add(field, f"expected a core file name or an inline core mapping, got {type_name(value)}")
        except InputError as exc:
            problems.extend(exc.problems)
    ids = sorted(k for k in raw if is_int(k))
    if ids and ids != list(range(len(ids))):
        problems.add("cores", f"core ids must be contiguous from 0 (0..{len(ids) - 1}), got {ids}")
    return cores


def _core_list(value: Any) -> list[Any] | None:
    """Cores of a connection: a list, or Stream's legacy comma string ``"0, 1"``."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
        return [int(p) if p.isdigit() else p for p in parts]
    return value if isinstance(value, list) else None


def _parse_connectivity(
    raw: Any, core_ids: set[int], default_energy: float, problems: ProblemCollector, offchip_bandwidth: float | None
) -> list[Link]:
    if raw is None:
        problems.add("core_connectivity", "missing required field (a list of links and buses)")
        return []
    if not isinstance(raw, list):
        problems.add("core_connectivity", f"expected a list of links/buses, got {type_name(raw)}")
        return []
    links: list[Link] = []
    for index, entry in enumerate(raw):
        field = f"core_connectivity[{index}]"
        if not isinstance(entry, dict):
            problems.add(field, f"expected a mapping with 'type', 'cores', 'bandwidth', got {type_name(entry)}")
            continue
        for key in sorted(set(entry) - {"type", "cores", "bandwidth", "unit_energy_cost"}, key=str):
            problems.add(f"{field}.{key}", "unknown key; expected type, cores, bandwidth, unit_energy_cost")
        kind = entry.get("type", "link")
        if kind not in ("link", "bus"):
            problems.add(f"{field}.type", f"expected 'link' or 'bus', got {kind!r}")
            continue
        members = _core_list(entry.get("cores"))
        ok = True
        if members is None:
            problems.add(f"{field}.cores", "missing or not a list of core ids")
            ok = False
        else:
            for m in members:
                if not is_int(m):
                    problems.add(f"{field}.cores", f"expected integer core ids, got {m!r}")
                    ok = False
                elif core_ids and m not in core_ids:
                    problems.add(f"{field}.cores", f"core {m} is not defined in 'cores' (defined: {_ids(core_ids)})")
                    ok = False
            if kind == "link" and len(members) != 2:
                problems.add(f"{field}.cores", f"a link connects exactly 2 cores, got {len(members)}; use type: bus")
                ok = False
            if kind == "bus" and len(members) < 2:
                problems.add(f"{field}.cores", f"a bus connects at least 2 cores, got {len(members)}")
                ok = False
            if len(set(members)) != len(members):
                problems.add(f"{field}.cores", f"a core is listed twice: {members}")
                ok = False
        bandwidth = entry.get("bandwidth")
        if bandwidth == OFFCHIP_BANDWIDTH:
            bandwidth = offchip_bandwidth
        if bandwidth is None:
            problems.add(f"{field}.bandwidth", "missing required field (bits per cycle)")
            ok = False
        elif not is_number(bandwidth) or bandwidth <= 0:
            problems.add(f"{field}.bandwidth", f"expected a positive number of bits per cycle, got {bandwidth!r}")
            ok = False
        energy = entry.get("unit_energy_cost", default_energy)
        if not is_number(energy) or energy < 0:
            problems.add(f"{field}.unit_energy_cost", f"expected a non-negative number (pJ per bit), got {energy!r}")
            ok = False
        if ok:
            links.append(
                Link(id=index, kind=kind, cores=members, bandwidth=float(bandwidth), energy_per_bit=float(energy))
            )
    return links


def _parse_coordinates(raw: Any, core_ids: set[int], problems: ProblemCollector) -> dict[int, tuple[int, int]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add("core_coordinates", f"expected a mapping from core id to [col, row], got {type_name(raw)}")
        return {}
    out: dict[int, tuple[int, int]] = {}
    for key, value in raw.items():
        field = f"core_coordinates.{key}"
        if not is_int(key) or (core_ids and key not in core_ids):
            problems.add(field, f"core {key!r} is not defined in 'cores'")
            continue
        if not (isinstance(value, list) and len(value) == 2 and all(is_int(v) for v in value)):
            problems.add(field, f"expected [col, row] (two integers), got {value!r}")
            continue
        out[key] = (value[0], value[1])
    return out


def _parse_memory_sharing(raw: Any, cores: dict[int, Core], problems: ProblemCollector) -> list[frozenset[int]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add("core_memory_sharing", f'expected a list of core groups such as "0, 1", got {type_name(raw)}')
        return []
    groups: list[frozenset[int]] = []
    for index, entry in enumerate(raw):
        field = f"core_memory_sharing[{index}]"
        members = _core_list(entry)
        if not members or len(members) < 2 or not all(is_int(m) for m in members):
            problems.add(field, f'expected at least two core ids such as "0, 1", got {entry!r}')
            continue
        unknown = [m for m in members if m not in cores]
        if unknown:
            problems.add(field, f"cores {unknown} are not defined in 'cores'")
            continue
        sizes = {m: cores[m].summary.memory_bits for m in members}
        if len(set(sizes.values())) > 1:
            problems.add(field, f"cores sharing memory must have equal top-memory capacities, got {sizes} bits")
            continue
        groups.append(frozenset(members))
    return groups


def _check_reachability(accelerator: Accelerator, problems: ProblemCollector) -> None:
    offchip = accelerator.offchip_core_id
    if offchip is None:
        return
    for core in accelerator.compute_cores:
        for src, dst in ((offchip, core.id), (core.id, offchip)):
            try:
                accelerator.path(src, dst)
            except ValueError:
                problems.add(
                    "core_connectivity",
                    f"no link path from core {src} to core {dst}; every compute core must reach the off-chip core",
                )


def load_core_file(path: Path | str, plugins: Plugins) -> Core:
    """Read a single core description file (for ``stream validate`` and tests)."""
    path = Path(path)
    core_type, description = parse_core_data(load_yaml(path), plugins, str(path))
    return Core(id=0, type=core_type, description=description, source=str(path))
