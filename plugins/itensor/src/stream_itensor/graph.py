"""The typed stream graph of a workload: kernels with itensor ports, edges with optional converters.

Every node of a :class:`~stream_core.ir.Workload` becomes a :class:`StreamKernel`; every
producer-to-consumer use of a tensor becomes a :class:`StreamEdge` from the producer's output port to
the consumer's operand port:

* the two types describe the same stream (:meth:`ITensorType.same_stream`): a plain FIFO;
* different but castable: a :class:`~stream_itensor.converter.Converter` with its minimal buffer;
* not castable (different full shape or element type, or a producer that writes only part of the
  tensor): :class:`~stream_core.errors.InputError` naming the edge (producer, consumer, tensor), with
  every bad edge of the workload listed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping as MappingABC

import attrs

from stream_core.errors import InputError, Problem
from stream_core.ir import Node, Workload
from stream_itensor.converter import Converter, NotCastableError, infer_converter
from stream_itensor.derive import Port, derive_port, iteration_loops, local_buffer_bits, writes_whole_tensor
from stream_itensor.itype import ITensorType
from stream_itensor.tiling import IterLoop, KernelTiling, resolve_loops


@attrs.frozen
class StreamKernel:
    """One workload node as a dataflow kernel: its tile loops, its ports and its local buffer."""

    node: Node
    loops: tuple[IterLoop, ...]
    #: One port per operand of the node, in operand order.
    ports: tuple[Port, ...]
    local_bits: int

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def iteration_loops(self) -> tuple[IterLoop, ...]:
        """Tile loops with more than one iteration, outermost first."""
        return iteration_loops(self.loops)

    @property
    def iterations(self) -> int:
        return math.prod(loop.tripcount for loop in self.loops)

    @property
    def output(self) -> Port:
        return next(p for p in self.ports if p.is_output)

    @property
    def inputs(self) -> tuple[Port, ...]:
        return tuple(p for p in self.ports if not p.is_output)

    @property
    def tile_sizes(self) -> dict[str, int]:
        return {loop.name: loop.tile for loop in self.loops}


@attrs.frozen
class StreamEdge:
    """Tensor ``tensor`` from ``producer``'s output to operand ``port`` of ``consumer``."""

    producer: str
    consumer: str
    tensor: str
    port: int
    source: ITensorType
    target: ITensorType
    converter: Converter | None = None
    #: The consumer reads the tensor through several operands: the name then carries the port.
    multi_port: bool = False

    @property
    def name(self) -> str:
        return f"{self.producer}->{self.consumer}:{self.tensor}" + (f"#{self.port}" if self.multi_port else "")

    @property
    def direct(self) -> bool:
        return self.converter is None


@attrs.frozen
class StreamGraph:
    """Kernels in topological order and the edges between them."""

    workload: Workload
    kernels: tuple[StreamKernel, ...]
    edges: tuple[StreamEdge, ...]
    _by_name: dict[str, StreamKernel] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {k.name: k for k in self.kernels})

    def kernel(self, name: str) -> StreamKernel:
        return self._by_name[name]

    def in_edges(self, kernel: str) -> tuple[StreamEdge, ...]:
        return tuple(e for e in self.edges if e.consumer == kernel)


def connect(
    producer: str,
    consumer: str,
    tensor: str,
    source: ITensorType,
    target: ITensorType,
    port: int = 0,
    *,
    multi_port: bool = False,
    file: str | None = None,
) -> StreamEdge:
    """The edge from a ``source`` stream to a ``target`` stream: direct, through a converter, or an
    :class:`InputError` naming the edge (producer, consumer, tensor) when the types are not castable."""
    converter = None
    if not source.same_stream(target):
        try:
            converter = infer_converter(source, target)
        except NotCastableError as exc:
            raise InputError(
                Problem(
                    f"edge {producer} -> {consumer} (tensor {tensor!r}): producer stream {source} and consumer "
                    f"stream {target} are not castable: {exc}",
                    file=file,
                    field=f"edges.{producer}->{consumer}.{tensor}",
                )
            ) from None
    return StreamEdge(producer, consumer, tensor, port, source, target, converter, multi_port)


def build_stream_graph(
    workload: Workload,
    tilings: MappingABC[str, KernelTiling] | None = None,
    default: KernelTiling | None = None,
) -> StreamGraph:
    """Type every kernel and edge of ``workload``.

    ``tilings`` gives per-node tilings (unknown loop names are errors); ``default`` applies to the other
    nodes and ignores loops a node does not have (a uniform table such as ``{"oy": 1}``). Without
    either, every kernel is whole-layer. Raises :class:`InputError` with every problem found.
    """
    tilings = dict(tilings or {})
    file = workload.source
    problems: list[Problem] = []
    unknown = sorted(set(tilings) - {n.name for n in workload.nodes})
    problems += [
        Problem(f"no node named {n!r} in workload {workload.name!r}", file=file, field=f"tiling.{n}") for n in unknown
    ]
    kernels: list[StreamKernel] = []
    for node in workload.nodes:
        explicit = node.name in tilings
        loops, found = resolve_loops(node, tilings[node.name] if explicit else default, strict=explicit, file=file)
        problems += found
        if found:
            continue
        ports = tuple(derive_port(node, i, workload.tensor(op.tensor), loops) for i, op in enumerate(node.operands))
        output = next(p for p in ports if p.is_output)
        local = local_buffer_bits(node, loops, output.dims, dict(workload.tensors))
        kernels.append(StreamKernel(node, loops, ports, local))
    if problems:
        raise InputError(problems)
    by_name = {k.name: k for k in kernels}
    edges: list[StreamEdge] = []
    for kernel in kernels:
        uses: dict[tuple[str, str], int] = {}
        for port in kernel.inputs:
            producer = workload.producer(port.tensor)
            if producer is not None:
                uses[(producer.name, port.tensor)] = uses.get((producer.name, port.tensor), 0) + 1
        for port in kernel.inputs:
            producer = workload.producer(port.tensor)
            if producer is None:
                continue
            source = by_name[producer.name].output
            if not writes_whole_tensor(producer, workload.tensor(port.tensor)):
                field = f"edges.{producer.name}->{kernel.name}.{port.tensor}"
                where = f"edge {producer.name} -> {kernel.name} (tensor {port.tensor!r})"
                problems.append(Problem(f"{where}: the producer writes only part of it", file=file, field=field))
                continue
            multi_port = uses[(producer.name, port.tensor)] > 1
            try:
                edges.append(
                    connect(
                        producer.name,
                        kernel.name,
                        port.tensor,
                        source.itype,
                        port.itype,
                        port.operand,
                        multi_port=multi_port,
                        file=file,
                    )
                )
            except InputError as exc:
                problems += exc.problems
    if problems:
        raise InputError(problems)
    return StreamGraph(workload, tuple(kernels), tuple(edges))
