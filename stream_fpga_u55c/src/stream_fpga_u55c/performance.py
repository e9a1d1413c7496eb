"""Performance model of the generated design: per task its firings and cycles, per FIFO its depth, and an
event-driven simulation of each dataflow region (stream-itensor's simulator) with the design's depths.

Cycles per firing, from the loop nests the tasks emit (every innermost loop is ``pipeline II=1``, and a
kernel's read, compute and write phases run one after the other inside a firing):

* reads: one cycle per stream item of every input token (16 floats per item); a port fed from HBM
  waits for the pseudo-channel instead: ``64 bytes / (PC bandwidth / clock)`` cycles per item;
* compute: ``passes x ceil(tile points / lanes)`` plus :data:`PIPELINE_DEPTH` cycles to drain the float
  pipeline; ``passes`` is 3 for softmax and normalisations (max or mean, sum or variance, scale), else 1;
  ``lanes`` is the kernel's unroll (:func:`~stream_fpga_u55c.kernels.kernel_lanes`, bounded by the DSPs);
* writes: one cycle per item of the output token per destination stream, at the HBM rate for a store;
* a converter's fill and drain: one cycle per item of their token.

A kernel's interval and latency per firing are the sum (no overlap between firings of one task); the same
numbers are the kernel timing the FIFO sizing LP plans with (:func:`design_timing`, the target's ``timing``). The
simulation runs one frame (latency) and back-to-back frames with the design's depths and with unbounded
FIFOs (steady-state interval; the ratio says whether the depths cost throughput). A kernel call carries one
frame, so its FIFOs are capped at a frame's tokens; the back-to-back runs use the LP's depths. Groups run one after
the other (the host calls them in order), so the workload's latency is the sum over groups and its
throughput is bounded by the slowest group. A deadlock in the model names the FIFOs that are full.
"""

from __future__ import annotations

import math

import attrs
from stream_itensor.api import DataflowGraph, FusionPlan, KernelProfile, StreamGraph, StreamKernel, Timing, simulate

from stream_core.errors import InfeasibleError
from stream_fpga_u55c import ops
from stream_fpga_u55c.design import Design, Group, token_items
from stream_fpga_u55c.kernels import kernel_lanes
from stream_fpga_u55c.platform import Platform

PIPELINE_DEPTH = 8  # cycles to fill/drain a float add/multiply pipeline (Vitis fadd ~ 4-7 cycles); unverified
MULTI_PASS = {"softmax": 3, "norm": 3}
FRAMES = 3
WORD_BYTES = 64


@attrs.frozen
class TaskTiming:
    task: str
    kind: str
    firings: int
    cycles: int  # per firing
    lanes: int = 1
    loops: tuple[tuple[str, int, int], ...] = ()  # (loop, trip count, tile)


@attrs.frozen
class GroupPerformance:
    group: str
    tasks: tuple[TaskTiming, ...]
    depths: tuple[tuple[str, int], ...]  # design stream -> depth in tokens
    latency: int  # cycles of one frame
    interval: int  # steady-state cycles per frame with the design's depths
    unbounded_interval: int


@attrs.frozen
class Performance:
    groups: tuple[GroupPerformance, ...]
    clock_mhz: float

    @property
    def latency_cycles(self) -> int:
        return sum(g.latency for g in self.groups)

    @property
    def latency_s(self) -> float:
        return self.latency_cycles / (self.clock_mhz * 1e6)

    @property
    def interval_cycles(self) -> int:
        return max((g.interval for g in self.groups), default=0)

    @property
    def throughput_ratio(self) -> float:
        """Steady-state throughput with the design's depths over that with unbounded FIFOs (<= 1)."""
        bounded = max((g.interval for g in self.groups), default=1)
        free = max((g.unbounded_interval for g in self.groups), default=1)
        return free / max(1, bounded)

    @property
    def frames_per_s(self) -> float:
        return self.clock_mhz * 1e6 / max(1, self.interval_cycles)

    def table(self) -> str:
        lines = [
            f"performance ESTIMATE (model of the generated design at {self.clock_mhz:g} MHz, unverified clock):",
            f"  latency {self.latency_cycles} cycles = {1e3 * self.latency_s:.3f} ms per frame; steady state "
            f"{self.interval_cycles} cycles per frame = {self.frames_per_s:.1f} frames/s "
            f"({100 * self.throughput_ratio:.1f}% of the same design with unbounded FIFOs)",
        ]
        for g in self.groups:
            slow = max(g.tasks, key=lambda t: t.firings * t.cycles)
            lines.append(
                f"  {g.group}: latency {g.latency} cycles, interval {g.interval} (unbounded {g.unbounded_interval}); "
                f"slowest task {slow.task}: {slow.firings} firings x {slow.cycles} cycles"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "label": "ESTIMATE from a model of the generated code, not a measurement",
            "clock_mhz": self.clock_mhz,
            "latency_cycles": self.latency_cycles,
            "latency_ms": round(1e3 * self.latency_s, 6),
            "interval_cycles": self.interval_cycles,
            "frames_per_s": round(self.frames_per_s, 3),
            "throughput_vs_unbounded": round(self.throughput_ratio, 4),
            "rules": __doc__.split("Cycles per firing", 1)[1].strip(),
            "groups": [
                {
                    "group": g.group,
                    "latency_cycles": g.latency,
                    "interval_cycles": g.interval,
                    "unbounded_interval_cycles": g.unbounded_interval,
                    "fifo_depths_tokens": dict(g.depths),
                    "tasks": [
                        {
                            "task": t.task,
                            "kind": t.kind,
                            "firings": t.firings,
                            "cycles_per_firing": t.cycles,
                            "ii": t.cycles,
                            "lanes": t.lanes,
                            "loops": [{"loop": n, "trips": trips, "tile": tile} for n, trips, tile in t.loops],
                        }
                        for t in g.tasks
                    ],
                }
                for g in self.groups
            ],
        }


def hbm_cycles(platform: Platform) -> float:
    """Cycles one 512-bit word takes from or to a pseudo-channel (at least one)."""
    return max(1.0, WORD_BYTES / (platform.pc_bandwidth_gbps * 1e3 / platform.clock_mhz))


def _items(token_elements: int, hbm: float | None) -> int:
    """Cycles to move one token: one per item, or the HBM rate (``hbm``) for a load or store."""
    items = token_items(token_elements)
    return math.ceil(items * hbm) if hbm is not None else items


def kernel_cycles(kernel: StreamKernel, graph: StreamGraph, fusion: FusionPlan, platform: Platform, unroll: int) -> int:
    """Cycles per firing of ``kernel`` in the design of ``graph`` fused as ``fusion``: reads (an operand from
    outside its group is loaded from HBM), compute, writes (one per stream out of the kernel: every
    intra-group edge, plus a store when the tensor leaves the group)."""
    group = fusion.group_of(kernel.name)
    intra = fusion.intra_edges(group.name)
    hbm = hbm_cycles(platform)
    fed = {e.port: e for e in intra if e.consumer == kernel.name}
    reads = sum(
        _items(fed[p.operand].target.element_count, None) if p.operand in fed else _items(p.itype.element_count, hbm)
        for p in kernel.inputs
    )
    writes = sum(_items(e.source.element_count, None) for e in intra if e.producer == kernel.name)
    leaves = kernel.output.tensor in graph.workload.outputs or any(
        e.consumer not in group.kernels for e in graph.edges if e.producer == kernel.name
    )
    if leaves:
        writes += _items(kernel.output.itype.element_count, hbm)
    points = math.prod(loop.tile for loop in kernel.loops)
    passes = MULTI_PASS.get(ops.family(kernel.node) or "", 1)
    return reads + passes * math.ceil(points / kernel_lanes(kernel, unroll)) + PIPELINE_DEPTH + writes


def design_timing(platform: Platform, unroll: int) -> Timing:
    """The kernel timing of the designs this backend emits (:func:`kernel_cycles` as interval and initial
    delay), for stream-itensor's FIFO sizing."""

    def timing(graph: StreamGraph, fusion: FusionPlan) -> dict[str, KernelProfile]:
        out = {}
        for k in graph.kernels:
            cycles = kernel_cycles(k, graph, fusion, platform, unroll)
            out[k.name] = KernelProfile(cycles, cycles)
        return out

    return timing


def task_timings(design: Design, group: Group) -> tuple[TaskTiming, ...]:
    """Firings and cycles per firing of every kernel and converter task (see the module docstring)."""
    graph, fusion = design.plan.graph, design.plan.fusion
    out = []
    for task in group.tasks:
        if task.kind == "kernel":
            kernel = design.kernel(task.kernel)
            cycles = kernel_cycles(kernel, graph, fusion, design.platform, design.unroll)
            loops = tuple((lp.name, lp.tripcount, lp.tile) for lp in kernel.loops)
            lanes = kernel_lanes(kernel, design.unroll)
            out.append(TaskTiming(task.name, "kernel", kernel.iterations, cycles, lanes, loops))
        elif task.kind in ("fill", "drain"):
            edge = design.edge(task.edge)
            assert edge.converter is not None
            itype = edge.converter.source if task.kind == "fill" else edge.converter.target
            out.append(TaskTiming(task.name, task.kind, itype.num_tokens, token_items(itype.element_count)))
    return tuple(out)


def _channel_streams(design: Design, group: Group) -> dict[str, str]:
    """Dataflow channel -> the design stream that implements it."""
    sizing = design.plan.sizing(group.itensor_group)
    out = {}
    for s in group.streams:
        if s.kind == "blocks":
            out[next(c.channel for c in sizing.converters if c.edge == s.edge)] = s.name
        elif s.kind == "fifo":
            edge = design.edge(s.edge)
            feeds_converter = any(t.name == s.reader and t.kind == "fill" for t in group.tasks)
            fifo = next(
                f
                for f in sizing.fifos
                if f.edge == s.edge
                and (
                    edge.converter is None
                    or (f.producer == edge.producer if feeds_converter else f.consumer == edge.consumer)
                )
            )
            out[fifo.channel] = s.name
    return out


def design_dataflow(design: Design, group: Group) -> tuple[DataflowGraph, dict[str, int], dict[str, str]]:
    """The group's dataflow graph with the design's task timings, its depths by channel, and channel names."""
    dfg = next(d for d in design.plan.dataflows if d.name == group.itensor_group)
    timing = {t.kind + ":" + (t.task): t for t in task_timings(design, group)}
    by_actor: dict[str, TaskTiming] = {}
    for task in group.tasks:
        t = timing.get(task.kind + ":" + task.name)
        if t is None:
            continue
        if task.kind == "kernel":
            by_actor[task.kernel] = t
        else:
            by_actor[f"{_converter_actor(dfg, task.edge)}.{task.kind}"] = t
    actors = tuple(
        attrs.evolve(a, interval=by_actor[a.name].cycles, latency=by_actor[a.name].cycles) for a in dfg.actors
    )
    names = _channel_streams(design, group)
    depths = {channel: group.stream(stream).tokens for channel, stream in names.items()}
    return DataflowGraph(dfg.name, actors, dfg.channels), depths, names


def _converter_actor(dfg: DataflowGraph, edge: str) -> str:
    channel = next(c for c in dfg.channels if c.kind == "buffer" and c.edge == edge)
    return channel.producer.removesuffix(".fill")


def predict(design: Design) -> Performance:
    """Simulate every group of ``design``; raises :class:`InfeasibleError` naming the full FIFOs when the
    design deadlocks in the model."""
    groups = []
    for group in design.groups:
        dfg, depths, names = design_dataflow(design, group)
        one = simulate(dfg, depths, 1)
        if one.deadlock:
            blocked = [f"{names.get(b.channel, b.channel)} ({b.state}, task of {b.actor})" for b in one.blocked]
            full = [names.get(c, c) for c in one.full]
            raise InfeasibleError(
                f"the design of {design.name} deadlocks in {group.name}: FIFO(s) too shallow: {', '.join(full)}",
                blocked,
            )
        lp = {c: group.stream(names[c]).lp_depth or d for c, d in depths.items()}
        many = simulate(dfg, lp, FRAMES)
        free = simulate(dfg, {c: d for c, d in depths.items() if names[c] in _blocks(group)}, FRAMES)
        tasks = task_timings(design, group)
        groups.append(
            GroupPerformance(
                group.name,
                tasks,
                tuple((names[c], d) for c, d in depths.items() if names[c] not in _blocks(group)),
                one.time,
                many.interval or one.time,
                free.interval or free.time,
            )
        )
    return Performance(tuple(groups), design.platform.clock_mhz)


def _blocks(group: Group) -> set[str]:
    return {s.name for s in group.streams if s.kind == "blocks"}
