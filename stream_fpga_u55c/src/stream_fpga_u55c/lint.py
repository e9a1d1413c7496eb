"""Structural lint of a generated project, from its text alone (shares no code with the generator).

Checks (u55c_platform.md §7.3):

* every stream and stream-of-blocks declared in a top function has exactly one writer task and one
  reader task, and they differ; every stream a task call passes is declared; a task parameter is either
  read or written, never both;
* every ``hls::stream<T, D>`` has a ``#pragma HLS stream variable=... depth=D`` with the same depth, and
  its C-simulation name is its variable name;
* every ``m_axi`` bundle of a kernel appears in an ``sp=<cu>.m_axi_<bundle>:HBM[n]`` line of ``link.cfg``
  and every ``sp`` line names an existing bundle; pseudo-channel indices are within ``0..pcs-1``; ``slr=``
  names ``SLR0..SLR<n-1>``; every CU in ``sp``/``slr`` lines is declared by ``nk=``; no
  ``stream_connect`` connects a CU to itself.
"""

from __future__ import annotations

import re

_TASK = re.compile(r"^static void (\w+)\((.*?)\) \{$", re.M)
_TOP = re.compile(r'^extern "C" void (\w+)\((.*?)\) \{$', re.M)
_STREAM = re.compile(r'^\s*hls::stream<(.+?), (\d+)> (\w+)\("(\w+)"\);$', re.M)
_BLOCKS = re.compile(r'^\s*hls::stream_of_blocks<(\w+), (\d+)> (\w+) CSIM_NAME\("(\w+)"\);$', re.M)
_DEPTH = re.compile(r"^\s*#pragma HLS stream variable=(\w+) depth=(\d+)$", re.M)
_MAXI = re.compile(r"^\s*#pragma HLS interface m_axi port=(\w+) offset=slave bundle=(\w+)", re.M)
_CALL = re.compile(r"^\s*DATAFLOW_TASK\((\w+)\((.*)\)\);$", re.M)
_HBM = re.compile(r"^HBM\[(\d+)(?::(\d+))?\]$")


def _split_top_level(text: str) -> list[str]:
    """Split at commas outside ``<...>`` and ``(...)``."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _param_names(params: str) -> list[str]:
    return [p.rsplit(" ", 1)[-1] for p in _split_top_level(params)]


def _bodies(text: str) -> dict[str, tuple[list[str], str]]:
    """Task name -> (parameter names, body text)."""
    out = {}
    matches = list(_TASK.finditer(text))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        out[m.group(1)] = (_param_names(m.group(2)), text[m.end() : end])
    return out


def _direction(body: str, name: str) -> set[str]:
    n = re.escape(name)
    found = set()
    if re.search(rf"\bread_token<\d+>\({n},|\b{n}\.read\(|read_lock<\w+> \w+\({n}\)", body):
        found.add("read")
    if re.search(rf"\bwrite_token<\d+>\({n},|\b{n}\.write\(|write_lock<\w+> \w+\({n}\)", body):
        found.add("write")
    return found


def lint_kernel_source(name: str, text: str) -> tuple[list[str], dict[str, set[str]]]:
    """Violations of one kernel source file and its top functions' m_axi bundles (top -> bundles)."""
    problems: list[str] = []
    bodies = _bodies(text)
    bundles: dict[str, set[str]] = {}
    for top in _TOP.finditer(text):
        region = text[top.end() :]
        declared: dict[str, str] = {}
        for m in _STREAM.finditer(region):
            declared[m.group(3)] = m.group(2)
            if m.group(4) != m.group(3):
                problems.append(f"{name}: stream {m.group(3)} is named {m.group(4)!r} in C simulation")
        for m in _BLOCKS.finditer(region):
            declared[m.group(3)] = m.group(2)
        pragmas = {m.group(1): m.group(2) for m in _DEPTH.finditer(region)}
        for s, depth in declared.items():
            is_blocks = re.search(rf"stream_of_blocks<\w+, \d+> {re.escape(s)} ", region) is not None
            if not is_blocks and pragmas.get(s) != depth:
                problems.append(
                    f"{name}: stream {s} has template depth {depth} but STREAM pragma depth {pragmas.get(s)}"
                )
        tbundles: dict[str, str] = {}
        for m in _MAXI.finditer(region):
            if m.group(2) in tbundles.values():
                problems.append(f"{name}: bundle {m.group(2)} is shared by several m_axi ports")
            tbundles[m.group(1)] = m.group(2)
        bundles[top.group(1)] = set(tbundles.values())
        writers: dict[str, list[str]] = {s: [] for s in declared}
        readers: dict[str, list[str]] = {s: [] for s in declared}
        port_users: dict[str, int] = {p: 0 for p in tbundles}
        for call in _CALL.finditer(region):
            task, args = call.group(1), _split_top_level(call.group(2))
            if task not in bodies:
                problems.append(f"{name}: task {task} is called but not defined")
                continue
            params, body = bodies[task]
            if len(params) != len(args):
                problems.append(f"{name}: task {task} takes {len(params)} arguments, called with {len(args)}")
                continue
            for param, arg in zip(params, args, strict=True):
                if arg in port_users:
                    port_users[arg] += 1
                    continue
                if arg not in declared:
                    problems.append(f"{name}: task {task} uses {arg}, which is not a declared stream or port")
                    continue
                direction = _direction(body, param)
                if direction == {"read", "write"}:
                    problems.append(f"{name}: task {task} both reads and writes {arg}")
                if "read" in direction:
                    readers[arg].append(task)
                if "write" in direction:
                    writers[arg].append(task)
                if not direction:
                    problems.append(f"{name}: task {task} neither reads nor writes {arg}")
        for s in declared:
            if len(writers[s]) != 1 or len(readers[s]) != 1:
                problems.append(f"{name}: stream {s} has writers {writers[s]} and readers {readers[s]} (need one each)")
            elif writers[s] == readers[s]:
                problems.append(f"{name}: stream {s} is written and read by the same task {writers[s][0]}")
        for port, count in port_users.items():
            if count != 1:
                problems.append(f"{name}: m_axi port {port} is used by {count} tasks (need exactly one)")
    return problems, bundles


def lint_link_config(text: str, bundles: dict[str, set[str]], pcs: int, slrs: int) -> list[str]:
    problems: list[str] = []
    cus: dict[str, str] = {}  # CU -> kernel
    bound: set[tuple[str, str]] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "[")):
            continue
        key, _, value = line.partition("=")
        if key == "nk":
            kernel, _, rest = value.partition(":")
            count, _, names = rest.partition(":")
            if kernel not in bundles:
                problems.append(f"link.cfg: nk names unknown kernel {kernel}")
            cu_names = [n for n in re.split(r"[.,]", names) if n] or [f"{kernel}_{i + 1}" for i in range(int(count))]
            if len(cu_names) != int(count):
                problems.append(f"link.cfg: nk={value} declares {count} CUs but names {len(cu_names)}")
            for cu in cu_names:
                cus[cu] = kernel
        elif key == "sp":
            target, _, memory = value.rpartition(":")
            cu, _, port = target.partition(".")
            m = _HBM.match(memory)
            if cu not in cus:
                problems.append(f"link.cfg: sp={value} names unknown CU {cu}")
                continue
            if not m:
                problems.append(f"link.cfg: sp={value} does not name an HBM pseudo-channel")
            else:
                lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
                if not 0 <= lo <= hi < pcs:
                    problems.append(f"link.cfg: sp={value}: pseudo-channel outside 0..{pcs - 1}")
            bundle = port.removeprefix("m_axi_")
            if not port.startswith("m_axi_") or bundle not in bundles.get(cus[cu], set()):
                problems.append(f"link.cfg: sp={value}: {port} is not an m_axi bundle of {cus[cu]}")
            bound.add((cu, bundle))
        elif key == "slr":
            cu, _, slr = value.partition(":")
            if cu not in cus:
                problems.append(f"link.cfg: slr={value} names unknown CU {cu}")
            if not re.fullmatch(rf"SLR[0-{slrs - 1}]", slr):
                problems.append(f"link.cfg: slr={value}: expected SLR0..SLR{slrs - 1}")
        elif key in ("stream_connect", "sc"):
            source, _, rest = value.partition(":")
            sink = rest.split(":")[0]
            if source.split(".")[0] == sink.split(".")[0]:
                problems.append(f"link.cfg: stream_connect={value} connects a CU to itself")
    for cu, kernel in cus.items():
        for bundle in sorted(bundles.get(kernel, set())):
            if (cu, bundle) not in bound:
                problems.append(f"link.cfg: bundle {bundle} of {cu} has no sp= line")
    return problems


def lint_project(files: dict[str, str], pcs: int = 32, slrs: int = 3) -> list[str]:
    """Every violation found in a project's files (relative path -> text)."""
    problems: list[str] = []
    bundles: dict[str, set[str]] = {}
    for path in sorted(files):
        if path.startswith("src/") and path.endswith(".cpp"):
            found, tops = lint_kernel_source(path, files[path])
            problems += found
            bundles.update(tops)
    if "link.cfg" not in files:
        return [*problems, "link.cfg is missing"]
    return problems + lint_link_config(files["link.cfg"], bundles, pcs, slrs)
