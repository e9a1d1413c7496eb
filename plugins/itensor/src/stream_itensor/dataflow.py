"""The token-level dataflow graph of one fusion group: actors, channels, and when tokens move.

This is the only input shared by the FIFO-sizing LP and the simulator.

An :class:`Actor` (a kernel, or one half of a layout converter) performs ``firings`` firings in order,
each at least ``interval`` cycles after the previous one. A :class:`Channel` from one actor to another
holds tokens in slots; per token ``k`` it lists four firings (all lists non-decreasing):

* ``produce_at[k]``: the producer firing that reserves the token's slot (at its start),
* ``ready_at[k]``: the producer firing after which the token is readable (``latency`` cycles after
  that firing starts),
* ``consume_at[k]``: the consumer firing that needs the token (it waits until the token is readable),
* ``release_at[k]``: the consumer firing that frees the slot (at its start).

A *stream* channel is a FIFO: a token is written and read by one firing each
(``ready_at == produce_at``, ``release_at == consume_at``); its depth is what the LP sizes. A *buffer*
channel is a converter's ping-pong memory: one token is one instance buffer, reserved when the converter
starts filling it, readable when the fill ends, needed when the drain starts and freed when the drain
ends; its depth is the number of instance buffers (2 for ping-pong). Timing semantics shared by every
analysis: a firing starts when every token it needs is readable and every slot it reserves is free; a
slot freed at cycle ``t`` can be reserved at ``t`` and a token readable at ``t`` can be read at ``t``.

Kernel firings are tile iterations (:mod:`stream_itensor.derive` says which iterations read or write
which port). A converter with ``m`` instances of ``a`` tokens in and ``b`` tokens out is a *fill* actor
(one firing per source token) and a *drain* actor (one firing per target token) joined by a buffer
channel of ``m`` tokens.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import attrs
import networkx as nx

from stream_itensor.converter import Converter
from stream_itensor.derive import Port
from stream_itensor.fusion import FusionPlan
from stream_itensor.graph import StreamEdge, StreamKernel
from stream_itensor.itype import ITensorType
from stream_itensor.profiles import KernelProfile, check_profiles, converter_interval


@attrs.frozen
class Actor:
    """A kernel or a converter half: ``firings`` firings, ``interval`` cycles apart at the fastest, each
    making its tokens readable ``latency`` cycles after it starts."""

    name: str
    kind: str  # "kernel" or "converter"
    firings: int
    interval: int
    latency: int


def _same_as(other: str) -> Any:
    """An attrs default copying another field (``ready_at`` defaults to ``produce_at``, ...)."""
    return attrs.Factory(lambda self: getattr(self, other), takes_self=True)


@attrs.frozen
class Channel:
    """Tokens of ``token_bits`` bits from ``producer`` to ``consumer`` (see the module docstring)."""

    name: str
    producer: str
    consumer: str
    kind: str  # "stream" (a FIFO) or "buffer" (a converter's instance buffers)
    token_bits: int
    produce_at: tuple[int, ...]
    consume_at: tuple[int, ...]
    #: Name of the :class:`~stream_itensor.graph.StreamEdge` this channel belongs to.
    edge: str
    #: The stream's itensor type (``None`` for a buffer channel).
    itype: ITensorType | None = None
    ready_at: tuple[int, ...] = _same_as("produce_at")
    release_at: tuple[int, ...] = _same_as("consume_at")

    def __attrs_post_init__(self) -> None:
        counts = {len(self.produce_at), len(self.consume_at), len(self.ready_at), len(self.release_at)}
        if len(counts) != 1:
            raise ValueError(f"channel {self.name}: token lists of different lengths")

    @property
    def tokens(self) -> int:
        return len(self.produce_at)

    @property
    def is_stream(self) -> bool:
        return self.kind == "stream"


@attrs.frozen
class DataflowGraph:
    """Actors (topological order) and channels of one fusion group."""

    name: str
    actors: tuple[Actor, ...]
    channels: tuple[Channel, ...]

    def channel(self, name: str) -> Channel:
        return next(c for c in self.channels if c.name == name)

    def to_networkx(self) -> nx.MultiDiGraph[str]:
        graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
        graph.add_nodes_from(a.name for a in self.actors)
        for c in self.channels:
            graph.add_edge(c.producer, c.consumer, key=c.name)
        return graph


def reconvergent_channels(dfg: DataflowGraph) -> frozenset[str]:
    """Channels on a reconvergent path: ``u -> v`` such that some ``a`` (``u`` or an ancestor) reaches
    some ``b`` (``v`` or a descendant) along another path that avoids this channel."""
    graph = dfg.to_networkx()
    out: set[str] = set()
    for c in dfg.channels:
        starts = nx.ancestors(graph, c.producer) | {c.producer}
        ends = nx.descendants(graph, c.consumer) | {c.consumer}
        reached: set[str] = set()
        frontier = list(starts)
        while frontier:  # everything reachable from ``starts`` without using ``c``
            node = frontier.pop()
            for _, succ, key in graph.out_edges(node, keys=True):
                if key != c.name and succ not in reached:
                    reached.add(succ)
                    frontier.append(succ)
        if reached & ends:
            out.add(c.name)
    return frozenset(out)


# -- firing patterns ---------------------------------------------------------------------------------
def _strides(trips: list[int]) -> list[int]:
    strides = [1] * len(trips)
    for i in range(len(trips) - 2, -1, -1):
        strides[i] = strides[i + 1] * trips[i + 1]
    return strides


def output_firings(kernel: StreamKernel, port: Port) -> tuple[int, ...]:
    """Firings that write a token: every accumulating iteration loop is at its last iteration."""
    trips = [loop.tripcount for loop in kernel.iteration_loops]
    strides = _strides(trips)
    fixed = sum((t - 1) * s for i, (t, s) in enumerate(zip(trips, strides, strict=True)) if i not in port.dims)
    ranges = [range(0, trips[i] * strides[i], strides[i]) for i in port.dims]
    return tuple(fixed + sum(p) for p in itertools.product(*ranges))


def input_firings(kernel: StreamKernel, port: Port) -> tuple[int, ...]:
    """Firing that reads each token: the first firing whose (running maximum) need covers it."""
    trips = [loop.tripcount for loop in kernel.iteration_loops]
    n = math.prod(trips)
    if len(port.dims) == len(trips) and not port.lookahead:
        return tuple(range(n))
    token_trips = [trips[i] for i in port.dims]
    token_strides = _strides(token_trips)
    need_of = dict(port.lookahead)
    consume: list[int] = []
    top = -1
    for f, point in enumerate(itertools.product(*(range(t) for t in trips))):
        need = 0
        for k, i in enumerate(port.dims):
            idx = point[i]
            need += (need_of[k][idx] if k in need_of else idx) * token_strides[k]
        while top < need:
            top += 1
            consume.append(f)
    return tuple(consume)


def converter_buffer_tokens(
    conv: Converter,
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """``(produce_at, ready_at, consume_at, release_at)`` of a converter's buffer channel."""
    m, a, b = conv.instances, conv.tokens_in_per_instance, conv.tokens_out_per_instance
    return (
        tuple(j * a for j in range(m)),
        tuple(j * a + a - 1 for j in range(m)),
        tuple(j * b for j in range(m)),
        tuple(j * b + b - 1 for j in range(m)),
    )


def _stream(
    name: str,
    producer: str,
    consumer: str,
    itype: ITensorType,
    writes: tuple[int, ...],
    reads: tuple[int, ...],
    edge: StreamEdge,
) -> Channel:
    return Channel(name, producer, consumer, "stream", itype.token_bits, writes, reads, edge.name, itype)


def converter_name(edge: StreamEdge) -> str:
    """The converter actor's base name (its halves are ``<name>.fill`` and ``<name>.drain``)."""
    suffix = f"_{edge.port}" if edge.multi_port else ""
    return f"cvt_{edge.producer}_{edge.consumer}_{edge.tensor}{suffix}"


def build_dataflow(
    plan: FusionPlan, profiles: Mapping[str, KernelProfile], converter_bits_per_cycle: int = 512
) -> tuple[DataflowGraph, ...]:
    """One dataflow graph per fusion group; converters become actors between their two channels."""
    graph = plan.graph
    check_profiles(graph, profiles)
    out = []
    for group in plan.groups:
        actors: list[Actor] = []
        channels: list[Channel] = []
        for name in group.kernels:
            kernel = graph.kernel(name)
            prof = profiles[name]
            actors.append(Actor(name, "kernel", kernel.iterations, prof.interval, prof.initial_delay))
        for edge in plan.intra_edges(group.name):
            producer, consumer = graph.kernel(edge.producer), graph.kernel(edge.consumer)
            writes = output_firings(producer, producer.output)
            reads = input_firings(consumer, consumer.ports[edge.port])
            conv = edge.converter
            if conv is None:
                channels.append(_stream(edge.name, edge.producer, edge.consumer, edge.source, writes, reads, edge))
                continue
            cname = converter_name(edge)
            fill, drain = f"{cname}.fill", f"{cname}.drain"
            step_in = converter_interval(conv.source.token_bits, converter_bits_per_cycle)
            step_out = converter_interval(conv.target.token_bits, converter_bits_per_cycle)
            actors.append(Actor(fill, "converter", conv.source.num_tokens, step_in, step_in))
            actors.append(Actor(drain, "converter", conv.target.num_tokens, step_out, step_out))
            produce, ready, consume, release = converter_buffer_tokens(conv)
            bits = conv.buffer_elements * conv.element_bits
            fill_all, drain_all = tuple(range(conv.source.num_tokens)), tuple(range(conv.target.num_tokens))
            channels += [
                _stream(
                    f"{edge.producer}->{cname}:{edge.tensor}", edge.producer, fill, edge.source, writes, fill_all, edge
                ),
                Channel(
                    f"{cname}.buffer", fill, drain, "buffer", bits, produce, consume, edge.name, None, ready, release
                ),
                _stream(
                    f"{cname}->{edge.consumer}:{edge.tensor}", drain, edge.consumer, edge.target, drain_all, reads, edge
                ),
            ]
        order = {a.name: i for i, a in enumerate(actors)}
        dag: nx.DiGraph[str] = nx.DiGraph()
        dag.add_nodes_from(order)
        dag.add_edges_from((c.producer, c.consumer) for c in channels)
        ranked = list(nx.lexicographical_topological_sort(dag, key=lambda n: order[n]))
        rank = {n: i for i, n in enumerate(ranked)}
        actors.sort(key=lambda a: rank[a.name])
        channels.sort(key=lambda c: (rank[c.producer], rank[c.consumer], c.name))
        out.append(DataflowGraph(group.name, tuple(actors), tuple(channels)))
    return tuple(out)
