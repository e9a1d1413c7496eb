"""The hardware design of a planned workload: per fusion group, its tasks, streams and HBM ports.

Built from a :class:`stream_itensor.api.StreamPlan` (public API only):

* every itensor fusion group becomes one Vitis kernel (a top function with ``#pragma HLS dataflow``);
* every kernel of the group is one task; a converter on an intra-group edge is two tasks (``fill`` and
  ``drain``) joined by an ``hls::stream_of_blocks`` with the LP's number of instance buffers (2 = ping-pong);
* intra-group edges are FIFOs carrying itensor tokens, with the LP depths;
* an operand that does not come from the group (graph input, weight, tensor of an earlier group) gets its
  own ``load`` task reading HBM through its own ``m_axi`` port in the operand's itensor order (weights are
  re-streamed for every repetition of a repeated stream); a tensor that leaves the group (graph output,
  read by a later group) gets a ``store`` task. These DMA streams carry 512-bit words (16 floats) and
  keep the Vitis default depth 2: each feeds exactly one task, so their depth cannot cause a deadlock;
* every HBM tensor lives in one pseudo-channel (round-robin over the PCs in order of first use), and every
  ``m_axi`` port touching it is bound to that PC, so a buffer written by one group is readable by the next.
"""

from __future__ import annotations

import math
from typing import TypedDict

import attrs
from stream_itensor.api import StreamEdge, StreamKernel, StreamPlan

from stream_core.errors import InputError, Problem
from stream_core.ir import Workload
from stream_fpga_u55c.cpp import Namer
from stream_fpga_u55c.platform import Platform

WORD_ELEMENTS = 16  # floats per 512-bit HBM word: the widest stream item
DMA_DEPTH = 2  # items: a DMA stream feeds one task, its depth cannot cause a deadlock


def item_elements(token_elements: int) -> int:
    """Floats per stream item for tokens of ``token_elements`` floats."""
    return min(token_elements, WORD_ELEMENTS)


def token_items(token_elements: int) -> int:
    """Stream items per token."""
    return -(-token_elements // item_elements(token_elements))


@attrs.frozen
class HbmTensor:
    name: str
    ident: str
    shape: tuple[int, ...]
    role: str  # "input" | "weight" | "output" | "intermediate"
    pc: int

    @property
    def elements(self) -> int:
        return math.prod(self.shape)

    @property
    def bytes(self) -> int:
        return 4 * self.elements


class FifoDepth(TypedDict):
    """A FIFO's depth as :class:`Stream` fields."""

    tokens: int
    lp_depth: int


@attrs.frozen
class Stream:
    """A channel of a dataflow region. Streams carry tokens of ``token_elements`` floats as items of
    ``elements`` floats; a FIFO's depth is ``tokens`` tokens (``depth`` items), a DMA stream's is
    :data:`DMA_DEPTH` items, and a stream of blocks holds ``tokens`` = ``depth`` blocks of ``elements`` floats."""

    name: str
    kind: str  # "fifo" (itensor FIFO, LP depth) | "dma" (to or from HBM) | "blocks" (converter buffers)
    token_elements: int
    tokens: int
    writer: str
    reader: str
    itype: str = ""
    edge: str = ""
    block_shape: tuple[int, ...] = ()
    #: The LP's depth in tokens before capping at the stream's token count (FIFOs only).
    lp_depth: int = 0

    @property
    def elements(self) -> int:
        """Floats per item."""
        return self.token_elements if self.kind == "blocks" else item_elements(self.token_elements)

    @property
    def depth(self) -> int:
        """Capacity in items (the template argument)."""
        if self.kind == "blocks":
            return self.tokens
        if self.kind == "dma":
            return DMA_DEPTH
        return self.tokens * token_items(self.token_elements)

    @property
    def bits(self) -> int:
        """Bits per item."""
        return 32 * self.elements


@attrs.frozen
class Arg:
    """One ``m_axi`` argument of a group's top function."""

    name: str
    tensor: str  # HbmTensor.ident
    output: bool
    bundle: str
    pc: int
    elements: int


@attrs.frozen
class Task:
    name: str
    kind: str  # "load" | "kernel" | "fill" | "drain" | "store"
    ins: tuple[str, ...]
    outs: tuple[str, ...]
    kernel: str = ""  # node name (kernel, load: the consumer, store: the producer)
    port: int = -1  # operand index of a load
    edge: str = ""  # itensor edge of a converter half
    arg: str = ""  # m_axi argument of a load/store


@attrs.frozen
class Group:
    name: str
    itensor_group: str
    kernels: tuple[str, ...]
    tasks: tuple[Task, ...]
    streams: tuple[Stream, ...]
    args: tuple[Arg, ...]
    period: int

    def stream(self, name: str) -> Stream:
        return next(s for s in self.streams if s.name == name)


@attrs.frozen
class Design:
    name: str
    workload: Workload
    plan: StreamPlan
    platform: Platform
    tensors: tuple[HbmTensor, ...]
    groups: tuple[Group, ...]
    unroll: int

    def tensor(self, ident: str) -> HbmTensor:
        return next(t for t in self.tensors if t.ident == ident)

    def edge(self, name: str) -> StreamEdge:
        return next(e for e in self.plan.graph.edges if e.name == name)

    def kernel(self, name: str) -> StreamKernel:
        return self.plan.graph.kernel(name)


def _role(workload: Workload, tensor: str) -> str:
    if tensor in workload.inputs:
        return "input"
    if tensor in workload.constants:
        return "weight"
    if tensor in workload.outputs:
        return "output"
    return "intermediate"


class _Builder:
    def __init__(self, plan: StreamPlan, platform: Platform, unroll: int) -> None:
        self.plan = plan
        self.workload = plan.graph.workload
        self.platform = platform
        self.unroll = unroll
        self.names = Namer()
        self.tensor_ids = Namer()
        self.tensors: dict[str, HbmTensor] = {}

    def hbm(self, tensor: str) -> HbmTensor:
        if tensor not in self.tensors:
            spec = self.workload.tensor(tensor)
            pc = len(self.tensors) % self.platform.hbm_pcs
            self.tensors[tensor] = HbmTensor(
                tensor, self.tensor_ids.name(tensor, tensor), spec.shape, _role(self.workload, tensor), pc
            )
        return self.tensors[tensor]

    def build(self) -> Design:
        groups = tuple(self.group(i, g.name) for i, g in enumerate(self.plan.fusion.groups))
        self.check_capacity()
        return Design(
            self.workload.name,
            self.workload,
            self.plan,
            self.platform,
            tuple(self.tensors.values()),
            groups,
            self.unroll,
        )

    def check_capacity(self) -> None:
        used: dict[int, int] = {}
        for t in self.tensors.values():
            used[t.pc] = used.get(t.pc, 0) + t.bytes
        problems = [
            Problem(f"HBM[{pc}] would hold {b} bytes, more than its {self.platform.pc_bytes} bytes")
            for pc, b in sorted(used.items())
            if b > self.platform.pc_bytes
        ]
        if problems:
            raise InputError(problems)

    def group(self, index: int, itensor_group: str) -> Group:
        plan, graph = self.plan, self.plan.graph
        fusion_group = next(g for g in plan.fusion.groups if g.name == itensor_group)
        members = set(fusion_group.kernels)
        sizing = plan.sizing(itensor_group)
        intra = plan.fusion.intra_edges(itensor_group)
        # A kernel run processes one frame: a FIFO never holds more than the tokens it carries in a run,
        # while the LP sizes for back-to-back frames; the depth is capped at the token count.
        fifo_depth = {(f.edge, f.producer, f.consumer): (max(1, min(f.depth, f.tokens)), f.depth) for f in sizing.fifos}
        buffers = {c.edge: c.buffers for c in sizing.converters}
        gname = self.names.name(("group", index), f"group{index}")
        tasks: list[Task] = []
        streams: list[Stream] = []
        args: list[Arg] = []
        kernel_task = {k: self.names.name(("kernel", k), f"k_{k}") for k in fusion_group.kernels}
        outgoing: dict[str, list[str]] = {k: [] for k in fusion_group.kernels}

        def depth_of(edge: StreamEdge, producer_side: bool) -> FifoDepth:
            for (name, producer, consumer), (depth, lp) in fifo_depth.items():
                if name != edge.name:
                    continue
                if edge.converter is None or (
                    producer == edge.producer if producer_side else consumer == edge.consumer
                ):
                    return {"tokens": depth, "lp_depth": lp}
            raise AssertionError(f"no FIFO depth for edge {edge.name}")

        def tag(edge: StreamEdge) -> str:
            return f"_p{edge.port}" if edge.multi_port else ""

        store_of: dict[str, str] = {}
        for kname in fusion_group.kernels:
            kernel = graph.kernel(kname)
            ins: list[str] = []
            for port in kernel.inputs:
                edge = next((e for e in intra if e.consumer == kname and e.port == port.operand), None)
                if edge is None:
                    tensor = self.hbm(port.tensor)
                    load = self.names.name(("load", kname, port.operand), f"load_{tensor.ident}_to_{kname}")
                    arg = Arg(
                        self.names.name(("arg", kname, port.operand), f"{tensor.ident}_{kname}"),
                        tensor.ident,
                        False,
                        f"gmem{len(args)}",
                        tensor.pc,
                        tensor.elements,
                    )
                    args.append(arg)
                    sname = self.names.name(("dma", kname, port.operand), f"{tensor.ident}__hbm_to_{kname}")
                    streams.append(
                        Stream(sname, "dma", port.itype.element_count, 0, load, kernel_task[kname], str(port.itype))
                    )
                    tasks.append(Task(load, "load", (), (sname,), kname, port.operand, arg=arg.name))
                    ins.append(sname)
                    continue
                base = self.names.name(("edge", edge.name), f"{edge.tensor}__{edge.producer}_to_{kname}{tag(edge)}")
                if edge.converter is None:
                    streams.append(
                        Stream(
                            base,
                            "fifo",
                            edge.source.element_count,
                            writer=kernel_task[edge.producer],
                            reader=kernel_task[kname],
                            itype=str(edge.source),
                            edge=edge.name,
                            **depth_of(edge, True),
                        )
                    )
                    outgoing[edge.producer].append(base)
                    ins.append(base)
                    continue
                conv = edge.converter
                fill = self.names.name(
                    ("fill", edge.name), f"cvt_{edge.tensor}_{edge.producer}_to_{kname}{tag(edge)}_fill"
                )
                drain = self.names.name(("drain", edge.name), fill[: -len("_fill")] + "_drain")
                to_fill = self.names.name(
                    ("to_fill", edge.name), f"{edge.tensor}__{edge.producer}_to_cvt_{kname}{tag(edge)}"
                )
                blocks = self.names.name(("blocks", edge.name), f"{edge.tensor}__cvt_buffers_{kname}{tag(edge)}")
                from_drain = base
                streams.append(
                    Stream(
                        to_fill,
                        "fifo",
                        edge.source.element_count,
                        writer=kernel_task[edge.producer],
                        reader=fill,
                        itype=str(edge.source),
                        edge=edge.name,
                        **depth_of(edge, True),
                    )
                )
                streams.append(
                    Stream(
                        blocks,
                        "blocks",
                        conv.buffer_elements,
                        buffers[edge.name],
                        fill,
                        drain,
                        edge=edge.name,
                        block_shape=conv.buffer_shape,
                    )
                )
                streams.append(
                    Stream(
                        from_drain,
                        "fifo",
                        edge.target.element_count,
                        writer=drain,
                        reader=kernel_task[kname],
                        itype=str(edge.target),
                        edge=edge.name,
                        **depth_of(edge, False),
                    )
                )
                tasks.append(Task(fill, "fill", (to_fill,), (blocks,), edge=edge.name))
                tasks.append(Task(drain, "drain", (blocks,), (from_drain,), edge=edge.name))
                outgoing[edge.producer].append(to_fill)
                ins.append(from_drain)
            tasks.append(Task(kernel_task[kname], "kernel", tuple(ins), (), kname))
            leaves = kernel.output.tensor in self.workload.outputs or any(
                e.consumer not in members for e in graph.edges if e.producer == kname
            )
            if leaves:
                tensor = self.hbm(kernel.output.tensor)
                store = self.names.name(("store", kname), f"store_{tensor.ident}")
                sname = self.names.name(("dma_out", kname), f"{tensor.ident}__{kname}_to_hbm")
                arg = Arg(
                    self.names.name(("arg_out", kname), tensor.ident),
                    tensor.ident,
                    True,
                    "",
                    tensor.pc,
                    tensor.elements,
                )
                streams.append(
                    Stream(
                        sname,
                        "dma",
                        kernel.output.itype.element_count,
                        0,
                        kernel_task[kname],
                        store,
                        str(kernel.output.itype),
                    )
                )
                store_of[kname] = sname
                tasks.append(Task(store, "store", (sname,), (), kname, arg=arg.name))
                args.append(arg)
        # kernel outputs: intra-group FIFOs first (in edge order), then the store stream
        final_tasks = []
        for task in tasks:
            if task.kind == "kernel":
                outs = tuple(outgoing[task.kernel]) + ((store_of[task.kernel],) if task.kernel in store_of else ())
                task = attrs.evolve(task, outs=outs)
            final_tasks.append(task)
        args = [attrs.evolve(a, bundle=f"gmem{i}") for i, a in enumerate(args)]
        return Group(
            gname, itensor_group, fusion_group.kernels, tuple(final_tasks), tuple(streams), tuple(args), sizing.period
        )


def build_design(plan: StreamPlan, platform: Platform, unroll: int) -> Design:
    """Tasks, streams, ports and HBM placement of ``plan`` (see the module docstring)."""
    return _Builder(plan, platform, unroll).build()
