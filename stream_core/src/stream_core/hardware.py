"""Reader of Stream's accelerator (system) YAML into :class:`~stream_core.ir.Accelerator`.

The file format is Stream's, accepted unmodified: ``name``, ``cores`` (id -> core file or inline
core), ``offchip_core_id``, ``core_connectivity`` (links and buses with ``bandwidth`` in bits/cycle
and optional ``unit_energy_cost`` in pJ per cycle of link use, as Stream reads it: a transfer costs
``unit_energy_cost / bandwidth`` pJ per bit), ``unit_energy_cost``, ``core_coordinates``,
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
(``type: compute``) or a missing type means ``zigzag.<kind>``, as in Stream. Core files and the
kernel library are found as :func:`~stream_core.yamlio.find_input_file` says. Every problem found
is reported together, each naming the file and the key path.

Stream 2.1.1's accelerator-level blocks, with their meaning:

* ``bandwidth``: a core id -> measured rate model (:class:`~stream_core.ir.accelerator.BandwidthModel`),
  which bounds every transfer from or to that core; ``"<core>.<memory>.<port>"`` keys are kept
  (port rates are not modelled);
* ``core_memory_sharing``: ``"a, b, ..."``, the first core owns the memory; members need no link;
* ``kernel_library`` (resolved to an existing file), ``reconfiguration``, ``memory_aliases`` and
  ``technology_node``: validated and kept in :attr:`Accelerator.annotations`.

What is accepted but not (fully) modelled, the core files' own notes, and core files found only by
the fallback search become :attr:`Accelerator.notes`.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from stream_core.errors import InputError, Problem, ProblemCollector
from stream_core.ir.accelerator import CORE_KINDS, Accelerator, BandwidthModel, Core, Link
from stream_core.plugins import Plugins
from stream_core.yamlio import find_input_file, is_int, is_number, load_yaml, type_name

DEFAULT_NAMESPACE = "zigzag"

PROVIDED_BY = "provided_by"  # optional key of any core file: the distribution that reads its type
CORE_FILE = "a core description (YAML)"
CORE_MARKERS = ("name", "type", "memories", "memory")  # a core file has at least one of these keys
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

PORT_KEY = re.compile(r"^([0-9]{1,9})\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$")  # bandwidth key "<core>.<memory>.<port>"
MEMORY_REF = re.compile(r"^([0-9]{1,9})\.[A-Za-z0-9_\-]+$")  # memory_aliases entry "<core>.<memory>"
RATE_MODEL_KEYS = ("ceiling", "contiguous", "strided", "burst")


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
        cores: dict[Any, Any] = data["cores"] if isinstance(data.get("cores"), dict) else {}
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
    special = {v for k in ("pooling_core_id", "simd_core_id", "offchip_core_id") if is_int(v := graph.get(k))}
    cores = sorted(k for k in data["cores"] if is_int(k)) if isinstance(data.get("cores"), dict) else []
    array = [c for c in cores if c not in special]
    links: list[dict[str, Any]] = []
    if kind in ("2d_mesh", "2d-mesh", "mesh"):
        rows, cols = graph.get("nb_rows"), graph.get("nb_cols")
        if not (is_int(rows) and is_int(cols) and rows > 0 and cols > 0) or rows * cols != len(array):
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


def load_accelerator(path: Path | str, plugins: Plugins) -> Accelerator:
    """Read and validate an accelerator file; raise :class:`InputError` with every problem found."""
    path = Path(path)
    data = load_yaml(path, expected="an accelerator YAML file")
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

    notes: list[str] = []
    cores = _parse_cores(data.get("cores"), plugins, problems, base_dir, notes)
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
        problems.add(
            "unit_energy_cost", f"expected a non-negative number (pJ per cycle of link use), got {default_energy!r}"
        )
        default_energy = 0.0

    offchip_bandwidth = cores[offchip].summary.read_bandwidth if is_int(offchip) and offchip in cores else None
    links = _parse_connectivity(
        data.get("core_connectivity"), core_ids, float(default_energy), problems, offchip_bandwidth
    )
    notes += _parallel_links(links)
    coordinates = _parse_coordinates(data.get("core_coordinates"), core_ids, problems)
    sharing = _parse_memory_sharing(data.get("core_memory_sharing"), core_ids, cores, links, problems)
    core_bandwidth = _parse_bandwidth(data.get("bandwidth"), core_ids, problems, notes)
    kernel_library = _resolve_kernel_library(data.get("kernel_library"), base_dir, problems)
    _check_reconfiguration(data.get("reconfiguration"), problems, notes)
    _check_memory_aliases(data.get("memory_aliases"), core_ids, problems, notes)
    _check_technology_node(data.get("technology_node"), problems, notes)

    problems.raise_if_any()
    cores = {
        cid: Core(id=c.id, type=c.type, description=c.description, coordinates=coordinates.get(cid), source=c.source)
        for cid, c in cores.items()
    }
    annotations = {key: data[key] for key in ANNOTATION_KEYS if key in data}
    if kernel_library is not None:
        annotations["kernel_library"] = kernel_library
    accelerator = Accelerator(
        name=name,
        cores=cores,
        links=links,
        offchip_core_id=offchip,
        memory_sharing=sharing,
        source=file,
        core_bandwidth=core_bandwidth,
        annotations=annotations,
        notes=notes,
    )
    _check_reachability(accelerator, problems)
    problems.raise_if_any()
    return accelerator


def _ids(ids: set[int]) -> str:
    return ", ".join(str(i) for i in sorted(ids)) or "none"


def _parse_cores(
    raw: Any, plugins: Plugins, problems: ProblemCollector, base_dir: Path, notes: list[str]
) -> dict[int, Core]:
    """Parse every core; each core file's own notes (and how a searched-for file was found) go to ``notes``."""
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
            if isinstance(value, str) and value.strip():
                found = find_input_file(value, base_dir, bare_in="cores", default_suffix=".yaml", search_hardware=True)
                core_path = found.path
                if core_path is None:
                    problems.add(field, f"core file '{value}' not found; looked in: {', '.join(found.tried)}")
                    continue
                if core_path in failed_files:
                    continue
                if core_path not in parsed_files:
                    if found.searched is not None:
                        notes.append(
                            f"{field}: core file '{value}' is not beside the accelerator; using {core_path}, found "
                            f"by searching the hardware folders of {found.searched} (Stream's fallback)"
                        )
                    label = _shown(core_path, base_dir)
                    try:
                        core_type, description, data = _read_core_file(core_path, plugins)
                    except InputError:
                        failed_files.add(core_path)
                        raise
                    parsed_files[core_path] = core_type, description
                    notes += _core_notes(description, label) + _untyped(data, label)
                core_type, description = parsed_files[core_path]
                cores[key] = Core(id=key, type=core_type, description=description, source=str(core_path))
            elif isinstance(value, dict):
                core_type, description = parse_core_data(value, plugins, problems.file, field_prefix=field)
                label = f"{Path(problems.file or '').name} {field}"
                notes += _core_notes(description, label) + _untyped(value, label)
                cores[key] = Core(id=key, type=core_type, description=description, source=problems.file)
            else:
                got = repr(value) if isinstance(value, str) else type_name(value)
                problems.add(field, f"expected a core file name or an inline core mapping, got {got}")
        except InputError as exc:
            problems.extend(exc.problems)
    ids = sorted(k for k in raw if is_int(k))
    if ids and ids != list(range(len(ids))):
        problems.add("cores", f"core ids must be contiguous from 0 (0..{len(ids) - 1}), got {ids}")
    return cores


def _read_core_file(path: Path, plugins: Plugins) -> tuple[str, Any, dict[str, Any]]:
    """Parse a core file an accelerator names: ``(type, description, data)``. A path that is not a YAML
    core description is refused without echoing its content (an accelerator may name any file)."""
    file = str(path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise InputError(
            Problem(f"a core file must be a YAML core description (.yaml or .yml); expected {CORE_FILE}", file=file)
        )
    data = load_yaml(path, expected=CORE_FILE)
    if not isinstance(data, dict) or not any(key in data for key in CORE_MARKERS):
        raise InputError(
            Problem(
                f"not a core description: expected a mapping with {', '.join(CORE_MARKERS)} (its content is not shown)",
                file=file,
            )
        )
    return (*parse_core_data(data, plugins, file), data)


def _untyped(data: dict[str, Any], label: str) -> list[str]:
    """A note for a core without ``type``: it means ``zigzag.compute``, as in Stream."""
    if "type" in data:
        return []
    return [f"{label}: gives no 'type'; read as {DEFAULT_NAMESPACE}.compute, as Stream does"]


def _core_notes(description: Any, label: str) -> list[str]:
    """A core description's optional ``notes`` (sentences about its own file), prefixed by ``label``."""
    return [f"{label}: {note}" for note in getattr(description, "notes", ())]


def _shown(path: Path, base_dir: Path) -> str:
    """A core file as notes name it: relative to the accelerator's folder when inside it."""
    try:
        return path.relative_to(base_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


def _core_list(value: Any) -> list[Any] | None:
    """Cores of a connection: a list, or Stream's legacy comma string ``"0, 1"``."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
        return [int(p) if p.isascii() and p.isdigit() and len(p) < 10 else p for p in parts]
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
            if ok and len(set(members)) != len(members):
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
            problems.add(
                f"{field}.unit_energy_cost",
                f"expected a non-negative number (pJ per cycle of link use), got {energy!r}",
            )
            ok = False
        if ok and members is not None and is_number(bandwidth) and is_number(energy):
            # Stream's unit: pJ per cycle the link is busy (one bandwidth-wide word), so per bit it is
            # unit_energy_cost / bandwidth (stream-dse 2.1.1's energy family; 1.13.14 charged it per cycle).
            per_bit = float(energy) / float(bandwidth)
            links.append(Link(id=index, kind=kind, cores=members, bandwidth=float(bandwidth), energy_per_bit=per_bit))
    return links


def _parallel_links(links: list[Link]) -> list[str]:
    """A note per link (or bus) joining the same cores as an earlier one: both carry data here, as
    parallel channels, where Stream keeps only the last of them."""
    first: dict[tuple[str, frozenset[int]], int] = {}
    notes = []
    for link in links:
        key = (link.kind, frozenset(link.cores))
        if key in first:
            notes.append(
                f"core_connectivity[{link.id}]: the same {link.kind} as core_connectivity[{first[key]}] (cores "
                f"{', '.join(map(str, link.cores))}); both are used, as parallel channels (Stream keeps only the last)"
            )
        first.setdefault(key, link.id)
    return notes


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


def _parse_memory_sharing(
    raw: Any, core_ids: set[int], cores: dict[int, Core], links: list[Link], problems: ProblemCollector
) -> list[tuple[int, ...]]:
    """Groups ``"a, b, ..."`` of cores sharing the top memory of the first (Stream 2.1.1): members need
    no link of their own, must not be linked to each other, and have equal top-memory capacities
    (Stream's factory checks that too)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add("core_memory_sharing", f'expected a list of core groups such as "0, 1", got {type_name(raw)}')
        return []
    groups: list[tuple[int, ...]] = []
    group_of: dict[int, int] = {}
    for index, entry in enumerate(raw):
        field = f"core_memory_sharing[{index}]"
        members = _core_list(entry)
        if not members or len(members) < 2 or not all(is_int(m) for m in members) or len(set(members)) < len(members):
            problems.add(field, f'expected at least two distinct core ids such as "0, 1", got {entry!r}')
            continue
        unknown = [m for m in members if m not in core_ids]
        if unknown:
            problems.add(field, f"cores {unknown} are not defined in 'cores' (defined: {_ids(core_ids)})")
            continue
        again = [m for m in members if m in group_of]
        if again:
            problems.add(field, f"cores {again} already share a memory in core_memory_sharing[{group_of[again[0]]}]")
            continue
        group_of.update(dict.fromkeys(members, index))
        if all(m in cores for m in members):  # a core that failed to parse is reported already
            sizes = {m: cores[m].summary.memory_bits for m in members}
            if len(set(sizes.values())) > 1:
                problems.add(field, f"cores sharing memory must have equal top-memory capacities, got {sizes} bits")
                continue
        for link in links:
            inside = [m for m in members if m in link.cores]
            if len(inside) > 1:
                problems.add(
                    f"core_connectivity[{link.id}].cores",
                    f"cores {inside} share a memory ({field}); Stream forbids linking them: "
                    "their data stays in place, and a member without links is reached through the first core",
                )
        groups.append(tuple(members))
    return groups


def _parse_bandwidth(
    raw: Any, core_ids: set[int], problems: ProblemCollector, notes: list[str]
) -> dict[int, BandwidthModel]:
    """Stream 2.1.1's ``bandwidth`` map: a core id or ``"<core>.<memory>.<port>"`` -> rate model."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add(
            "bandwidth",
            f"expected a mapping from a core id or '<core>.<memory>.<port>' to a rate model, got {type_name(raw)}",
        )
        return {}
    models: dict[int, BandwidthModel] = {}
    measured_cores = {key for key in raw if is_int(key)}
    for key, value in raw.items():
        field = f"bandwidth.{key}"
        port = PORT_KEY.match(key) if isinstance(key, str) else None
        if is_int(key):
            core = key
        elif port is not None:
            core = int(port[1])
        else:
            problems.add(field, f"expected a core id or '<core id>.<memory>.<port>' as key, got {key!r}")
            continue
        if core_ids and core not in core_ids:
            problems.add(field, f"core {core} is not defined in 'cores' (defined: {_ids(core_ids)})")
            continue
        if port is not None and core in measured_cores:
            problems.add(field, f"core {core} already has a measured core bandwidth (bandwidth.{core}); use one kind")
            continue
        model = _rate_model(value, field, problems)
        if model is None:
            continue
        if port is not None:
            notes.append(f"{field}: port rates not modelled; link bandwidths apply")
            continue
        models[core] = model
        notes.append(
            f"{field}: each transfer from or to core {core} takes at least bits / (contiguous x efficiency); "
            "the ceiling that concurrent transfers share is not modelled"
        )
    return models


def _rate_model(value: Any, field: str, problems: ProblemCollector) -> BandwidthModel | None:
    """One ``{ceiling, contiguous, strided: {read/write: {span_bytes: rate}}, burst}`` entry, bits/cycle."""
    if not isinstance(value, dict):
        problems.add(field, f"expected a mapping with ceiling, contiguous, strided, burst, got {type_name(value)}")
        return None
    before = len(problems.problems)
    for key in sorted(set(value) - set(RATE_MODEL_KEYS), key=str):
        problems.add(f"{field}.{key}", f"unknown key; expected one of {', '.join(RATE_MODEL_KEYS)}")
    for rate in ("ceiling", "contiguous"):
        if rate not in value:
            problems.add(f"{field}.{rate}", "missing required field (a positive number of bits per cycle)")
        elif not is_number(value[rate]) or value[rate] <= 0:
            problems.add(f"{field}.{rate}", f"expected a positive number of bits per cycle, got {value[rate]!r}")
    strided = value.get("strided") or {}
    if not isinstance(strided, dict):
        problems.add(f"{field}.strided", f"expected a mapping of read and write to rates per span, got {strided!r}")
        strided = {}
    for direction, table in strided.items():
        where = f"{field}.strided.{direction}"
        if direction not in ("read", "write"):
            problems.add(where, "unknown direction; expected read or write")
        elif not isinstance(table, dict):
            problems.add(where, f"expected a mapping from a span in bytes to bits per cycle, got {type_name(table)}")
        else:
            for span, rate in table.items():
                if not is_int(span) or span <= 0:
                    problems.add(f"{where}.{span}", "a span must be a positive whole number of bytes")
                elif not is_number(rate) or rate <= 0:
                    problems.add(f"{where}.{span}", f"expected a positive number of bits per cycle, got {rate!r}")
    burst = value.get("burst")
    if "burst" in value and (not is_int(burst) or burst <= 0):
        problems.add(f"{field}.burst", f"expected a positive whole number of bytes, got {burst!r}")
    if len(problems.problems) > before:
        return None
    return BandwidthModel(
        ceiling=float(value["ceiling"]),
        contiguous=float(value["contiguous"]),
        strided={d: {span: float(rate) for span, rate in t.items()} for d, t in strided.items()},
        burst=burst,
    )


def _resolve_kernel_library(raw: Any, base_dir: Path, problems: ProblemCollector) -> Path | None:
    """The kernel library file, relative to the accelerator file; it must exist (as Stream requires)."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        problems.add("kernel_library", f"expected the path of a kernel library file, got {raw!r}")
        return None
    found = find_input_file(raw, base_dir)
    if found.path is None:
        problems.add("kernel_library", f"kernel library '{raw}' not found; looked in: {', '.join(found.tried)}")
    return found.path


def _check_reconfiguration(raw: Any, problems: ProblemCollector, notes: list[str]) -> None:
    if raw is None:
        return
    if not isinstance(raw, dict):
        problems.add("reconfiguration", f"expected a mapping (cycles_per_column, reset_cycles), got {type_name(raw)}")
        return
    for key in ("cycles_per_column", "reset_cycles"):
        if key in raw and (not is_int(raw[key]) or raw[key] < 0):
            problems.add(f"reconfiguration.{key}", f"expected a non-negative whole number of cycles, got {raw[key]!r}")
    notes.append("reconfiguration: not modelled (Stream 2.1.1 adds it between fused groups on aie2)")


def _check_memory_aliases(raw: Any, core_ids: set[int], problems: ProblemCollector, notes: list[str]) -> None:
    if raw is None:
        return
    if not isinstance(raw, list):
        problems.add("memory_aliases", f"expected a list of groups of '<core id>.<memory>', got {type_name(raw)}")
        return
    for index, group in enumerate(raw):
        field = f"memory_aliases[{index}]"
        if not isinstance(group, list) or len(group) < 2:
            problems.add(field, f"expected a list of at least two '<core id>.<memory>' names, got {group!r}")
            continue
        for position, ref in enumerate(group):
            match = MEMORY_REF.match(ref) if isinstance(ref, str) else None
            if match is None:
                problems.add(f"{field}[{position}]", f"expected '<core id>.<memory>', got {ref!r}")
            elif core_ids and int(match[1]) not in core_ids:
                problems.add(
                    f"{field}[{position}]", f"core {match[1]} is not defined in 'cores' (defined: {_ids(core_ids)})"
                )
    if raw:
        notes.append(
            "memory_aliases: kept, not modelled (Stream 2.1.1 uses them for its hardware cost report and "
            "merges the aliases' ports); memory names are not checked against the core files"
        )


def _check_technology_node(raw: Any, problems: ProblemCollector, notes: list[str]) -> None:
    if raw is None:
        return
    if not isinstance(raw, str):
        problems.add("technology_node", f"expected a process node name such as 'n3', got {type_name(raw)}")
        return
    notes.append("technology_node: kept, not modelled (Stream uses it only for its hardware cost report)")


def _check_reachability(accelerator: Accelerator, problems: ProblemCollector) -> None:
    offchip = accelerator.offchip_core_id
    if offchip is None:
        return
    for core in accelerator.compute_cores:
        if not accelerator.connected(offchip, core.id):
            for src, dst in ((offchip, core.id), (core.id, offchip)):
                problems.add(
                    "core_connectivity",
                    f"no link path from core {src} to core {dst}; every compute core must reach the off-chip core",
                )


def load_core_file(path: Path | str, plugins: Plugins) -> Core:
    """Read a single core description file (for ``stream validate`` and tests)."""
    path = Path(path)
    core_type, description = parse_core_data(load_yaml(path, expected=CORE_FILE), plugins, str(path))
    return Core(id=0, type=core_type, description=description, source=str(path))
