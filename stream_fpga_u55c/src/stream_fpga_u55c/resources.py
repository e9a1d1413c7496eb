"""Resource estimate of a design per group and per SLR, against the platform's limits.

Memories (each FIFO, each converter block, each kernel buffer is one memory), per Vitis' usual mapping:

* a FIFO of depth <= 32 is a shift register (SRL): ``width x ceil(depth / 32)`` LUTs, no block RAM;
  an array of at most 1 Kb is registers/LUTRAM;
* otherwise BRAM18 in its best aspect ratio (512x36, 1Kx18, 2Kx9, 4Kx4, 8Kx2, 16Kx1):
  ``min over ratios ceil(depth / d) x ceil(width / w)``; a partitioned array is one memory per bank;
  two BRAM18 make one BRAM36 (a group uses ``ceil(BRAM18 / 2)`` BRAM36);
* a memory that would take more than 32 BRAM18 goes to URAM (4K x 72): ``ceil(depth / 4096) x ceil(width / 72)``.

DSPs: every kernel has ``lanes`` parallel copies of its float datapath (the unroll of its innermost loop),
``lanes x sum(dsp_per_op)`` over the operators of one iteration point (the platform file's table).

Placement: groups fill SLR0 first (the HBM controllers are there), then SLR1, SLR2 (first fit on BRAM36,
URAM and DSP). A group that fits no SLR makes the design infeasible.

Fusion (:func:`slr_check`) uses the same rules before the FIFOs are sized: a group's kernel buffers,
DSPs, converter blocks at ping-pong and every FIFO at one token must fit one SLR.
"""

from __future__ import annotations

import math

import attrs
from stream_itensor.api import PING_PONG, GroupCheck, StreamGraph, StreamKernel

from stream_core.errors import InfeasibleError
from stream_core.ir import Workload
from stream_fpga_u55c import ops
from stream_fpga_u55c.design import Design, Group, item_elements, token_items
from stream_fpga_u55c.kernels import kernel_lanes
from stream_fpga_u55c.layout import input_layout, output_layout
from stream_fpga_u55c.platform import Platform

SRL_DEPTH = 32
REGISTER_BITS = 1024
URAM_THRESHOLD_BRAM18 = 32
_BRAM18_RATIOS = ((512, 36), (1024, 18), (2048, 9), (4096, 4), (8192, 2), (16384, 1))


@attrs.frozen
class Memory:
    bram18: int = 0
    uram: int = 0
    luts: int = 0

    @property
    def bram36(self) -> int:
        return -(-self.bram18 // 2)

    def __add__(self, other: Memory) -> Memory:
        return Memory(self.bram18 + other.bram18, self.uram + other.uram, self.luts + other.luts)

    def times(self, n: int) -> Memory:
        return Memory(self.bram18 * n, self.uram * n, self.luts * n)


def fifo_memory(width: int, depth: int) -> Memory:
    """Storage of a FIFO of ``depth`` items of ``width`` bits."""
    if depth <= SRL_DEPTH:
        return Memory(luts=width * math.ceil(depth / SRL_DEPTH))
    return block_memory(width, depth)


def array_memory(elements: int, banks: int = 1, width: int = 32) -> Memory:
    """Storage of an array of ``elements`` words of ``width`` bits split into ``banks`` banks."""
    per_bank = math.ceil(elements / banks)
    if per_bank * width <= REGISTER_BITS:
        return Memory(luts=math.ceil(per_bank * width / 64)).times(banks)
    return block_memory(width, per_bank).times(banks)


def block_memory(width: int, depth: int) -> Memory:
    bram18 = min(math.ceil(depth / d) * math.ceil(width / w) for d, w in _BRAM18_RATIOS)
    if bram18 > URAM_THRESHOLD_BRAM18:
        return Memory(uram=math.ceil(depth / 4096) * math.ceil(width / 72))
    return Memory(bram18=bram18)


@attrs.frozen
class GroupResources:
    group: str
    fifos: Memory
    converters: Memory
    buffers: Memory
    dsp: int
    fifo_bits: int
    converter_bits: int
    buffer_bits: int
    kernels: tuple[tuple[str, int, int], ...]  # (kernel, lanes, dsp)
    kernel_buffers: tuple[tuple[str, int], ...] = ()  # (kernel, its buffer bits)

    @property
    def memory(self) -> Memory:
        return self.fifos + self.converters + self.buffers


@attrs.frozen
class Estimate:
    groups: tuple[GroupResources, ...]
    placement: tuple[tuple[str, int], ...]  # group -> SLR index
    platform: Platform

    def slr_use(self, slr: int) -> tuple[int, int, int]:
        """BRAM36, URAM and DSP used in SLR ``slr``."""
        used = [g for g in self.groups if dict(self.placement).get(g.group) == slr]
        return (
            sum(g.memory.bram36 for g in used),
            sum(g.memory.uram for g in used),
            sum(g.dsp for g in used),
        )

    def slr_of(self, group: str) -> int:
        return dict(self.placement)[group]

    def table(self) -> str:
        lines = [f"{'SLR':<5} {'BRAM36':>17} {'URAM':>17} {'DSP':>18}  groups"]
        for i, slr in enumerate(self.platform.slrs):
            bram, uram, dsp = self.slr_use(i)
            groups = ", ".join(g for g, s in self.placement if s == i) or "-"
            lines.append(
                f"{slr.name:<5} {bram:>5}/{slr.bram36:<4} {_pct(bram, slr.bram36)}"
                f" {uram:>5}/{slr.uram:<4} {_pct(uram, slr.uram)} {dsp:>5}/{slr.dsp:<5} {_pct(dsp, slr.dsp)}  {groups}"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict:
        slrs = []
        for i, slr in enumerate(self.platform.slrs):
            bram, uram, dsp = self.slr_use(i)
            slrs.append(
                {
                    "slr": slr.name,
                    "bram36": {"used": bram, "available": slr.bram36},
                    "uram": {"used": uram, "available": slr.uram},
                    "dsp": {"used": dsp, "available": slr.dsp},
                    "groups": [g for g, s in self.placement if s == i],
                }
            )
        groups = [
            {
                "group": g.group,
                "slr": self.platform.slrs[self.slr_of(g.group)].name,
                "bram36": g.memory.bram36,
                "bram18": g.memory.bram18,
                "uram": g.memory.uram,
                "dsp": g.dsp,
                "srl_luts": g.memory.luts,
                "fifo_bits": g.fifo_bits,
                "converter_bits": g.converter_bits,
                "kernel_buffer_bits": g.buffer_bits,
                "kernels": [{"kernel": k, "lanes": lanes, "dsp": dsp} for k, lanes, dsp in g.kernels],
            }
            for g in self.groups
        ]
        return {"slrs": slrs, "groups": groups, "rules": __doc__.split("Memories", 1)[1].strip()}


def _pct(used: int, available: int) -> str:
    return f"({100 * used / available:5.1f}%)"


@attrs.frozen
class KernelResources:
    """One kernel task: its buffers, their bits, its lanes and DSPs."""

    memory: Memory
    bits: int
    lanes: int
    dsp: int


def kernel_resources(kernel: StreamKernel, workload: Workload, platform: Platform, unroll: int) -> KernelResources:
    """The buffers of the kernel's input and output layouts (partitioned by its lanes) and its DSPs."""
    node = kernel.node
    shape = {op.tensor: workload.tensor(op.tensor).shape for op in node.operands}
    layouts = [input_layout(kernel, port, shape[port.tensor], "buf") for port in kernel.inputs]
    layouts.append(output_layout(kernel, node, shape[node.output.tensor], "acc"))
    lanes = kernel_lanes(kernel, unroll)
    memory, bits = Memory(), 0
    for layout in layouts:
        banks = lanes if lanes > 1 and layout.shape and layout.shape[-1] % lanes == 0 else 1
        memory = memory + array_memory(layout.elements, banks)
        bits += 32 * layout.elements
    return KernelResources(memory, bits, lanes, lanes * sum(platform.dsp(op) for op in ops.op_mix(node)))


def group_resources(design: Design, group: Group) -> GroupResources:
    platform = design.platform
    fifos, converters, buffers = Memory(), Memory(), Memory()
    fifo_bits = converter_bits = buffer_bits = 0
    for s in group.streams:
        if s.kind == "blocks":
            converters = converters + array_memory(s.token_elements).times(s.depth)
            converter_bits += 32 * s.token_elements * s.depth
        else:
            fifos = fifos + fifo_memory(s.bits, s.depth)
            fifo_bits += s.bits * s.depth
    kernels = []
    kernel_buffers = []
    dsp_total = 0
    for task in group.tasks:
        if task.kind != "kernel":
            continue
        own = kernel_resources(design.kernel(task.kernel), design.workload, platform, design.unroll)
        buffers = buffers + own.memory
        buffer_bits += own.bits
        kernel_buffers.append((task.kernel, own.bits))
        kernels.append((task.kernel, own.lanes, own.dsp))
        dsp_total += own.dsp
    return GroupResources(
        group.name,
        fifos,
        converters,
        buffers,
        dsp_total,
        fifo_bits,
        converter_bits,
        buffer_bits,
        tuple(kernels),
        tuple(kernel_buffers),
    )


def slr_check(platform: Platform, unroll: int) -> GroupCheck:
    """A fusion check (:data:`stream_itensor.api.GroupCheck`): the kernels' buffers and DSPs, their
    intra-group converters at ping-pong and FIFOs at one token each must fit some SLR in BRAM36, URAM and DSP
    (see the module docstring); returns ``None`` or the numbers."""
    kernels: dict[str, KernelResources] = {}

    def check(graph: StreamGraph, members: tuple[str, ...]) -> str | None:
        inside = set(members)
        memory, dsp = Memory(), 0
        for name in members:
            if name not in kernels:
                kernels[name] = kernel_resources(graph.kernel(name), graph.workload, platform, unroll)
            memory, dsp = memory + kernels[name].memory, dsp + kernels[name].dsp
        for edge in graph.edges:
            if edge.producer not in inside or edge.consumer not in inside:
                continue
            ends = [edge.source.element_count]
            if edge.converter is not None:
                memory = memory + array_memory(edge.converter.buffer_elements).times(PING_PONG)
                ends.append(edge.target.element_count)
            for elements in ends:
                memory = memory + fifo_memory(32 * item_elements(elements), token_items(elements))
        need = (memory.bram36, memory.uram, dsp)
        if any(all(n <= c for n, c in zip(need, (s.bram36, s.uram, s.dsp), strict=True)) for s in platform.slrs):
            return None
        return f"needs BRAM36 {need[0]}, URAM {need[1]}, DSP {need[2]}; no SLR has that much"

    return check


def split_advice(group: GroupResources, dsp_over: bool) -> str:
    """Which kernel to split: the one with the most DSPs when DSPs overflow, else the one with the largest
    buffers."""
    by_dsp = max(group.kernels, key=lambda k: k[2], default=None)
    buffers = dict(group.kernel_buffers)
    by_memory = max(buffers, key=lambda k: buffers[k], default=None)
    if dsp_over and by_dsp is not None:
        return f"split kernel {by_dsp[0]!r} ({by_dsp[2]} DSP at {by_dsp[1]} lanes) or lower u55c.unroll"
    if by_memory is not None:
        return f"split kernel {by_memory!r} ({buffers[by_memory]} buffer bits) or tile it smaller (u55c.tiles)"
    return "split the group (lower u55c.budget_bytes)"


def estimate(design: Design) -> Estimate:
    """Resources per group and their SLR placement; raises :class:`InfeasibleError` with the numbers when a
    group fits no SLR."""
    platform = design.platform
    groups = tuple(group_resources(design, g) for g in design.groups)
    left = [[s.bram36, s.uram, s.dsp] for s in platform.slrs]
    placement = []
    refused = []
    most_dsp = max(s.dsp for s in platform.slrs)
    for g in groups:
        need = (g.memory.bram36, g.memory.uram, g.dsp)
        slr = next((i for i, cap in enumerate(left) if all(n <= c for n, c in zip(need, cap, strict=True))), None)
        if slr is None:
            refused.append(
                f"{g.group} needs BRAM36 {need[0]}, URAM {need[1]}, DSP {need[2]}; "
                f"{split_advice(g, need[2] > most_dsp)}; free per SLR: "
                + "; ".join(
                    f"{s.name} BRAM36 {c[0]}/{s.bram36}, URAM {c[1]}/{s.uram}, DSP {c[2]}/{s.dsp}"
                    for s, c in zip(platform.slrs, left, strict=True)
                )
            )
            continue
        left[slr] = [c - n for c, n in zip(left[slr], need, strict=True)]
        placement.append((g.group, slr))
    if refused:
        raise InfeasibleError(
            f"the design does not fit the {platform.name} ({len(refused)} group(s) fit no SLR); "
            "split the named kernel, tile it smaller (u55c.tiles), lower u55c.unroll or u55c.budget_bytes",
            refused,
        )
    return Estimate(groups, tuple(placement), platform)
