"""Test helpers for plugin authors (opt in with ``pytest_plugins = ["stream_core.testing"]``).

The ``stream_plugins`` fixture gives a fresh plugin set (built-ins plus installed plugins) so a test
can register a plugin object in-process, without installing anything::

    def test_my_cost_model(stream_plugins):
        stream_plugins.register(my_plugin_module, name="my-plugin")
        outcome = stream_core.run(model, hardware, plugins=stream_plugins, options=RunOptions(cost_model="mine"))
        assert check_schedule(outcome.result, outcome.problem) == []

:func:`check_schedule` verifies any allocator's result independently of the allocator's code.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest

from stream_core.ir import DTYPE_BITS, AffineExpr, LoopDim, Node, Operand, TensorSpec, Workload, link_directions
from stream_core.plugins import Plugins


def make_plugins(*extra: tuple[str, object], entry_points: bool = True) -> Plugins:
    """A new plugin set with the built-ins, the installed plugins (optionally) and ``extra``
    ``(name, plugin object)`` pairs registered in-process."""
    plugins = Plugins.discover(entry_points=entry_points, disabled=())
    for name, plugin in extra:
        plugins.register(plugin, name=name)
    return plugins


@pytest.fixture
def stream_plugins() -> Iterator[Plugins]:
    """A fresh plugin set for one test; register plugin objects with ``.register(obj, name=...)``."""
    yield make_plugins()


def check_schedule(result: Any, problem: Any) -> list[str]:
    """Independent checks of any allocator's :class:`~stream_core.ir.Result` (shares no code with
    the allocators). Returns the violations found (empty when the schedule is valid):

    * every tile of every node is scheduled exactly once, on a core it may use, for the duration of
      its cost (compute latency of the core it runs on);
    * precedence: a tile starts after every producer tile whose output box overlaps its input box;
      fused groups do not overlap and run in mapping order;
    * no core runs two tiles at once; a transfer's links lead (a route, or a multicast tree) from the
      core where its source reaches the links to the one where its destination does (a core without
      links of its own uses the owner of the memory it shares), or there are none between cores
      sharing a memory; it lasts at least ``ceil(bits / narrowest link bandwidth)``, and at least
      ``ceil(bits / (contiguous x efficiency))`` where an end core has a measured bandwidth (the whole
      transfer one contiguous run); one without links or bits takes no time;
    * links: a transfer moves its bits at an even rate, ``bits / duration`` per cycle, over each of
      its links; transfers may share a link, but at no time do their rates add up to more than its
      bandwidth, counted per direction on a point-to-point link (full duplex; a transfer crosses a
      link in the direction met walking its links outward from its source) and as one on a bus;
    * memory occupancy never exceeds a memory's capacity, cores sharing one counted together
      (off-chip cores excepted);
    * a group ends no earlier than its last tile plus its results' drain (``AllocationProblem.drain``);
    * totals: latency = the last end of an activity or group; energy = the sum of tile, transfer and
      memory parts.
    """
    violations: list[str] = []
    acc, workload = problem.accelerator, problem.workload
    seen: dict[tuple[str, int], Any] = {}
    for t in result.tiles:
        key = (t.node, t.index)
        if key in seen:
            violations.append(f"tile {key} scheduled twice")
        seen[key] = t
    group_of = {n: g.name for g in problem.mapping.groups for n in g.nodes}
    specs = {name: tiling.tiles() for name, tiling in problem.tilings.items()}
    for name, tiles in specs.items():
        for spec in tiles:
            t = seen.get((name, spec.index))
            if t is None:
                violations.append(f"tile ({name!r}, {spec.index}) is never scheduled")
                continue
            tiling = problem.tilings[name]
            pinned = tiling.core_of_part(spec.part)
            allowed = (pinned,) if pinned is not None else tiling.mapping.cores
            if t.core not in allowed:
                violations.append(f"tile {name}[{spec.index}] runs on core {t.core}, not one of {allowed}")
                continue
            cost = problem.costs.get(name, t.core, spec.shape)
            if t.end - t.start != cost.latency:
                violations.append(
                    f"tile {name}[{spec.index}] lasts {t.end - t.start} cycles; "
                    f"its cost on core {t.core} is {cost.latency}"
                )
    # precedence between overlapping producer/consumer tiles
    for name, tiles in specs.items():
        node = workload.node(name)
        for operand in node.reads:
            producer = workload.producer(operand.tensor)
            if producer is None or producer.name not in specs:
                continue
            tensor = workload.tensor(operand.tensor)
            pboxes = [(p, _box(producer.output, p.range_map, tensor)) for p in specs[producer.name]]
            for spec in tiles:
                box = _box(operand, spec.range_map, tensor)
                consumer = seen.get((name, spec.index))
                for p, pbox in pboxes:
                    before = seen.get((producer.name, p.index))
                    if consumer and before and _overlap(box, pbox) and consumer.start < before.end:
                        violations.append(
                            f"{name}[{spec.index}] starts at {consumer.start} before its producer "
                            f"{producer.name}[{p.index}] ends at {before.end}"
                        )
    # groups in order, not overlapping
    for g1, g2 in zip(result.groups, result.groups[1:], strict=False):
        if g2.start < g1.end:
            violations.append(f"group {g2.name} starts at {g2.start} before group {g1.name} ends at {g1.end}")
    for t in result.tiles:
        g = next((g for g in result.groups if g.name == group_of.get(t.node)), None)
        if g is not None and not (g.start <= t.start and t.end <= g.end):
            violations.append(
                f"tile {t.node}[{t.index}] [{t.start},{t.end}) lies outside its group {g.name} [{g.start},{g.end})"
            )
    # exclusive resources
    by_core: dict[int, list[tuple[int, int, str]]] = {}
    for t in result.tiles:
        by_core.setdefault(t.core, []).append((t.start, t.end, f"{t.node}[{t.index}]"))
    by_link: dict[tuple[int, bool], list[tuple[int, int, int]]] = {}  # (link id, from its second core)
    owner = {core: group[0] for group in acc.memory_sharing for core in group}
    for tr in result.transfers:
        route = [acc.link(i) for i in tr.links]
        in_place = owner.get(tr.src, tr.src) == owner.get(tr.dst, tr.dst)
        if not route and not in_place:
            violations.append(f"transfer of {tr.tensor} {tr.src}->{tr.dst} has no route")
            continue
        if route and not _connects(route, acc.anchor(tr.src), acc.anchor(tr.dst)):
            violations.append(f"transfer of {tr.tensor} {tr.src}->{tr.dst}: links {tr.links} do not form a route")
        least = _transfer_cycles(acc, tr, route)
        if tr.end - tr.start < least or (least == 0 and tr.end != tr.start):
            violations.append(
                f"transfer of {tr.tensor} {tr.src}->{tr.dst} lasts {tr.end - tr.start} cycles, expected {least}"
            )
        if tr.bits and tr.end > tr.start:
            for key in link_directions(route, acc.anchor(tr.src)).items():
                by_link.setdefault(key, []).append((tr.start, tr.end, tr.bits))
    for c, items in by_core.items():
        items = sorted(x for x in items if x[1] > x[0])
        for (s1, e1, n1), (s2, e2, n2) in itertools.pairwise(items):
            if s2 < e1:
                violations.append(f"core {c} double-booked: {n1} [{s1},{e1}) and {n2} [{s2},{e2})")
    for (link_id, back), transfers in sorted(by_link.items()):
        violations += _link_overloads(acc.link(link_id), back, transfers)
    # memory: the occupancy of the cores sharing a memory adds up
    changes: dict[int, dict[int, int]] = {}
    for core_id, steps in result.memory.items():
        if acc.cores[core_id].kind == "offchip":
            continue
        deltas = changes.setdefault(owner.get(core_id, core_id), {})
        for (when, bits), (_, before) in zip(steps, [(0, 0), *steps], strict=False):
            deltas[when] = deltas.get(when, 0) + bits - before
    for memory_id, deltas in sorted(changes.items()):
        peak = max(itertools.accumulate(delta for _, delta in sorted(deltas.items())), default=0)
        capacity = acc.cores[memory_id].summary.memory_bits
        if peak > capacity:
            violations.append(f"memory of core {memory_id} holds {peak} bits at its peak; capacity is {capacity}")
    # totals
    last_tile: dict[str, int] = {}
    for t in result.tiles:
        name = group_of.get(t.node)
        if name is not None:
            last_tile[name] = max(last_tile.get(name, t.end), t.end)
    specs = {group.name: group for group in problem.mapping.groups}
    for g in result.groups:
        if g.name in specs and g.name in last_tile:
            drain = problem.drain(specs[g.name])
            if g.end < last_tile[g.name] + drain:
                violations.append(
                    f"group {g.name} ends at {g.end}, before its results drain: last tile end "
                    f"{last_tile[g.name]} + {drain} drain cycles"
                )
    last = max([t.end for t in result.tiles] + [t.end for t in result.transfers] + [g.end for g in result.groups] + [0])
    if result.totals.latency != last:
        violations.append(f"latency {result.totals.latency} != last activity or group end {last}")
    compute = sum(t.energy_pj for t in result.tiles)
    transfer = sum(t.energy_pj for t in result.transfers)
    if not math.isclose(result.totals.compute_energy_pj, compute, rel_tol=1e-9, abs_tol=1e-9):
        violations.append(f"compute energy {result.totals.compute_energy_pj} != sum of tiles {compute}")
    if not math.isclose(result.totals.transfer_energy_pj, transfer, rel_tol=1e-9, abs_tol=1e-9):
        violations.append(f"transfer energy {result.totals.transfer_energy_pj} != sum of transfers {transfer}")
    parts = result.totals.compute_energy_pj + result.totals.transfer_energy_pj + result.totals.memory_energy_pj
    if not math.isclose(result.totals.energy_pj, parts, rel_tol=1e-9, abs_tol=1e-9):
        violations.append("total energy is not the sum of its parts")
    return violations


def _connects(links: list[Any], src: int, dst: int) -> bool:
    """Whether ``links`` (a route, or a multicast tree of routes) lead from core ``src`` to core ``dst``."""
    reached, frontier = {src}, [src]
    while frontier:
        core = frontier.pop()
        for link in links:
            if core in link.cores:
                new = set(link.cores) - reached
                reached |= new
                frontier.extend(new)
    return dst in reached


def _link_overloads(link: Any, back: bool, transfers: list[tuple[int, int, int]]) -> list[str]:
    """Where transfers sharing ``link`` in one direction (``back``: from its second core to its first;
    ``(start, end, bits)``, each at ``bits / (end - start)`` bits per cycle, exact fractions) move more
    bits per cycle than its bandwidth: one line per such interval. A lone transfer too fast for it is
    a duration violation, reported as such."""
    name = f"link {link.id}"
    if link.duplex:
        a, b = reversed(link.cores) if back else link.cores
        name += f" {a}->{b}"

    rates: dict[int, Fraction] = {}
    counts: dict[int, int] = {}
    for start, end, bits in transfers:
        for when, sign in ((start, 1), (end, -1)):
            rates[when] = rates.get(when, Fraction(0)) + sign * Fraction(bits, end - start)
            counts[when] = counts.get(when, 0) + sign
    out: list[str] = []
    limit, rate, count, peak, since = Fraction(link.bandwidth), Fraction(0), 0, Fraction(0), None
    for when in sorted(rates):
        rate, count = rate + rates[when], count + counts[when]
        if rate > limit and count > 1:
            since = when if since is None else since
            peak = max(peak, rate)
        elif since is not None:
            out.append(f"{name} carries {float(peak):g} bits/cycle in [{since},{when}); bandwidth {link.bandwidth:g}")
            since, peak = None, Fraction(0)
    return out


def _transfer_cycles(acc: Any, tr: Any, route: list[Any]) -> int:
    """The least duration a transfer may have: 0 without links or bits, else the narrowest link's time
    or, where ``tr.src`` (read) or ``tr.dst`` (written) has a measured bandwidth, that end's time if longer."""
    if not route or not tr.bits:
        return 0
    cycles = math.ceil(tr.bits / min(link.bandwidth for link in route))
    for core, direction in ((tr.src, "read"), (tr.dst, "write")):
        model = acc.core_bandwidth.get(core)
        if model is not None:
            rate = model.contiguous * model.efficiency(tr.bits / 8, direction)
            cycles = max(cycles, math.ceil(tr.bits / rate))
    return cycles


def _box(operand: Any, ranges: dict[str, tuple[int, int]], tensor: Any) -> list[tuple[int, int]] | None:
    if operand.access is None:
        return None
    out = []
    for axis, expr in enumerate(operand.access):
        lo = hi = expr.offset
        for d, c in expr.terms:
            a, b = ranges[d]
            lo, hi = (lo + c * a, hi + c * (b - 1)) if c >= 0 else (lo + c * (b - 1), hi + c * a)
        out.append((max(lo, 0), min(hi + 1, tensor.shape[axis])))
    return out


def _overlap(a: list[tuple[int, int]] | None, b: list[tuple[int, int]] | None) -> bool:
    if a is None or b is None:
        return True
    return all(x1 < y2 and x2 < y1 for (x1, y1), (x2, y2) in zip(a, b, strict=True))


# -- small IR builders for tests (loop names and orders as the ONNX plugin gives them) ---------------


def conv_node(
    name: str = "conv",
    *,
    b: int = 1,
    c: int = 8,
    k: int = 16,
    oy: int = 16,
    ox: int = 16,
    fy: int = 3,
    fx: int = 3,
    stride: int = 1,
    pad: int = 1,
    bits: int = 8,
    tensors: tuple[str, str, str] = ("x", "w", "y"),
) -> Node:
    """A 2-D convolution node: loops B, OX, OY, FX, FY, C, K (Stream's D0..D6); the input is indexed
    ``stride * O + F - pad`` on both spatial axes."""
    x, w, y = tensors
    window = (AffineExpr((("OY", stride), ("FY", 1)), -pad), AffineExpr((("OX", stride), ("FX", 1)), -pad))
    loops = [("B", b), ("OX", ox), ("OY", oy), ("FX", fx), ("FY", fy), ("C", c), ("K", k)]
    return Node(
        name,
        "Conv",
        [LoopDim(n, size) for n, size in loops],
        [
            Operand("input", x, bits, (AffineExpr.of("B"), AffineExpr.of("C"), *window)),
            Operand("weight", w, bits, tuple(AffineExpr.of(d) for d in ("K", "C", "FY", "FX"))),
            Operand("output", y, bits, tuple(AffineExpr.of(d) for d in ("B", "K", "OY", "OX"))),
        ],
        mac_op=True,
    )


def matmul_workload(m: int, k: int, n: int, dtype: str = "int8") -> Workload:
    """One Gemm node ``mm``: ``y[m, n] = a[m, k] @ w[k, n]`` with loops D (rows), C (reduction), K (columns)."""
    bits = DTYPE_BITS[dtype]
    tensors = {
        "a": TensorSpec("a", (m, k), dtype),
        "w": TensorSpec("w", (k, n), dtype),
        "y": TensorSpec("y", (m, n), dtype),
    }
    of = AffineExpr.of
    node = Node(
        "mm",
        "Gemm",
        [LoopDim("D", m), LoopDim("C", k), LoopDim("K", n)],
        [
            Operand("input", "a", bits, (of("D"), of("C"))),
            Operand("weight", "w", bits, (of("C"), of("K"))),
            Operand("output", "y", bits, (of("D"), of("K"))),
        ],
        mac_op=True,
    )
    return Workload("matmul", [node], tensors, inputs=["a", "w"], outputs=["y"])


def relu_chain(n: int = 8, dtype: str = "int8", length: int = 1) -> Workload:
    """``t0 -> relu_0 -> t1 -> ... -> t<length>``, element-wise over ``n`` elements."""
    bits = DTYPE_BITS[dtype]
    tensors = {f"t{i}": TensorSpec(f"t{i}", (n,), dtype) for i in range(length + 1)}
    of = AffineExpr.of
    nodes = [
        Node(
            f"relu_{i}",
            "Relu",
            [LoopDim("D0", n)],
            [Operand("input", f"t{i}", bits, (of("D0"),)), Operand("output", f"t{i + 1}", bits, (of("D0"),))],
        )
        for i in range(length)
    ]
    return Workload("relu_chain", nodes, tensors, inputs=["t0"], outputs=[f"t{length}"])
