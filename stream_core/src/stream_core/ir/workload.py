"""Workload IR: a DAG of loop-nest nodes over named tensors.

A compute node is a perfect loop nest: named loop dimensions with sizes (positional ``D0..Dn`` in the
order Stream uses for that ONNX op), and operands that each access one tensor through an affine
relation (per tensor dimension: a sum of ``coefficient * loop`` terms plus an offset, so strides,
dilations and padding of a convolution window are exact). MAC and element counts are derived from the
loop sizes, never stored. Reshape/transpose-like nodes are data-movement nodes.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:  # networkx takes ~0.1 s to import: loaded when a workload is built or its graph first used
    import networkx as nx

#: Bits per element of the tensor element types the framework understands (ONNX names, lower case).
DTYPE_BITS: dict[str, int] = {
    "bool": 8,
    "int4": 4,
    "uint4": 4,
    "int8": 8,
    "uint8": 8,
    "int16": 16,
    "uint16": 16,
    "int32": 32,
    "uint32": 32,
    "int64": 64,
    "uint64": 64,
    "float16": 16,
    "bfloat16": 16,
    "float32": 32,
    "float64": 64,
    "float8e4m3fn": 8,
    "float8e5m2": 8,
}

#: Bits of the element types a core file's ``operand_precision`` may name: Stream's names (stream-dse 2.1.1's
#: ``ELEMENT_BITS``), valid on every core type.
CORE_ELEMENT_BITS: dict[str, int] = {
    "int4": 4,
    "int8": 8,
    "uint8": 8,
    "int16": 16,
    "int24": 24,
    "bf16": 16,
    "fp16": 16,
    "int32": 32,
    "fp32": 32,
}


def _check_dtype(_instance: Any, _attribute: Any, value: str) -> None:
    if value not in DTYPE_BITS:
        raise ValueError(f"unknown dtype {value!r}; expected one of {', '.join(sorted(DTYPE_BITS))}")


def _positive_tuple(value: Iterable[int]) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


@attrs.frozen
class TensorSpec:
    """A named tensor with its static shape and element type."""

    name: str
    shape: tuple[int, ...] = attrs.field(converter=_positive_tuple)
    dtype: str = attrs.field(default="float32", validator=_check_dtype)

    @shape.validator
    def _shape_non_negative(self, _attribute: Any, value: tuple[int, ...]) -> None:
        if any(d < 0 for d in value):
            raise ValueError(f"tensor {self.name!r} has a negative dimension in {value}")

    @property
    def bits_per_element(self) -> int:
        return DTYPE_BITS[self.dtype]

    @property
    def num_elements(self) -> int:
        return math.prod(self.shape)

    @property
    def size_bits(self) -> int:
        return self.num_elements * self.bits_per_element


@attrs.frozen
class AffineExpr:
    """``sum(coeff * loop) + offset``: the index of one tensor dimension as a function of the loops."""

    terms: tuple[tuple[str, int], ...] = attrs.field(
        default=(), converter=lambda ts: tuple((str(d), int(c)) for d, c in ts)
    )
    offset: int = 0

    @classmethod
    def of(cls, dim: str, coeff: int = 1, offset: int = 0) -> AffineExpr:
        return cls(((dim, coeff),), offset)

    @classmethod
    def constant(cls, value: int = 0) -> AffineExpr:
        return cls((), value)

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(d for d, c in self.terms if c != 0)

    def evaluate(self, point: Mapping[str, int]) -> int:
        return self.offset + sum(c * point[d] for d, c in self.terms)

    def interval(self, ranges: Mapping[str, tuple[int, int]]) -> tuple[int, int]:
        """Half-open interval ``[lo, hi)`` of indices reached when each loop ``d`` spans ``ranges[d]``.

        ``ranges[d]`` is itself half-open and non-empty.
        """
        lo = hi = self.offset
        for d, c in self.terms:
            a, b = ranges[d]
            if c >= 0:
                lo += c * a
                hi += c * (b - 1)
            else:
                lo += c * (b - 1)
                hi += c * a
        return lo, hi + 1

    def distinct_count(self, ranges: Mapping[str, tuple[int, int]], bound: tuple[int, int] | None = None) -> int:
        """Exact number of distinct indices reached (optionally clipped to ``bound``), e.g. a strided window.

        The reached set is a sum of arithmetic progressions. When it has no holes (the usual case:
        stride <= dilated window) the count is arithmetic; otherwise the set is enumerated.
        """
        lo, hi = self.interval(ranges)
        if bound is not None:
            lo, hi = max(lo, bound[0]), min(hi, bound[1])
        if hi <= lo:
            return 0
        base = self.offset
        active: list[tuple[int, int]] = []  # (|coefficient|, trip count)
        for d, c in self.terms:
            a, b = ranges[d]
            base += c * a if c >= 0 else c * (b - 1)
            if c != 0 and b - a > 1:
                active.append((abs(c), b - a))
        if not active:
            return int(lo <= base < hi)
        step = math.gcd(*(c for c, _ in active))
        reach = 0  # the set so far is {base + k*step : 0 <= k*step <= reach} while it stays dense
        for c, n in sorted(active):
            if c > reach + step:
                break
            reach += c * (n - 1)
        else:
            first = base + -(-(lo - base) // step) * step  # smallest reached value >= lo
            last = min(base + reach, hi - 1)
            return 0 if last < first else (last - first) // step + 1
        values = {base}
        for c, n in active:
            values = {v + c * k for v in values for k in range(n)}
        return sum(1 for v in values if lo <= v < hi)

    def __str__(self) -> str:
        parts = [d if c == 1 else f"{c}*{d}" for d, c in self.terms if c != 0]
        if self.offset or not parts:
            parts.append(str(self.offset))
        return " + ".join(parts).replace("+ -", "- ")


class OperandRole(enum.StrEnum):
    INPUT = "input"
    WEIGHT = "weight"
    OUTPUT = "output"


@attrs.frozen
class Operand:
    """One tensor a node reads or writes, its precision in bits, and how the loops index it.

    ``access`` has one affine expression per tensor dimension, or is ``None`` when the relation is not
    affine (e.g. a reshape): the node then depends on the whole tensor.
    """

    role: OperandRole = attrs.field(converter=OperandRole)
    tensor: str
    precision: int
    access: tuple[AffineExpr, ...] | None = None
    #: Shape and element type of the whole tensor; a :class:`Workload` fills them in from its tensors, so
    #: a node on its own (e.g. in a cost request) knows how much data a non-affine access touches and
    #: whether 16 bits mean bfloat16, float16 or int16.
    shape: tuple[int, ...] | None = attrs.field(default=None, converter=lambda v: None if v is None else tuple(v))
    dtype: str | None = None

    @property
    def dims(self) -> tuple[str, ...]:
        """Loop dimensions that index this operand (its *relevant* loops)."""
        if self.access is None:
            return ()
        seen: dict[str, None] = {}
        for expr in self.access:
            for d in expr.dims:
                seen[d] = None
        return tuple(seen)


@attrs.frozen
class LoopDim:
    name: str
    size: int = attrs.field()

    @size.validator
    def _positive(self, _attribute: Any, value: int) -> None:
        if value < 1:
            raise ValueError(f"loop {self.name!r} must have a size >= 1, got {value}")


#: Node attributes of the nodes :mod:`stream_core.reductions` makes: the node they were made from, and
#: their role (``part``: a slice of a split reduction; ``add``: an addition of two partial sums).
SPLIT_REDUCTION_OF = "split_reduction_of"
SPLIT_REDUCTION_ROLE = "split_reduction_role"


class NodeKind(enum.StrEnum):
    COMPUTE = "compute"
    DATA_MOVEMENT = "data_movement"


def _freeze_attributes(value: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), _freeze(v)) for k, v in items))


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return _freeze_attributes(value)
    return value


@attrs.frozen
class Node:
    """One operator as a loop nest.

    ``loops`` are positional: ``D<i>`` in a Stream mapping file names ``loops[i]``. ``mac_op`` says
    that every iteration point is one multiply-accumulate (Conv, Gemm, MatMul). ``protected_loops``
    are loops a mapper must neither split across cores nor tile (non-linear reductions such as the
    normalised axis of a softmax, sequential carries): every output needs their whole extent.
    """

    name: str
    op_type: str
    loops: tuple[LoopDim, ...] = attrs.field(converter=tuple[LoopDim, ...])
    operands: tuple[Operand, ...] = attrs.field(converter=tuple[Operand, ...])
    kind: NodeKind = attrs.field(default=NodeKind.COMPUTE, converter=NodeKind)
    domain: str = ""
    mac_op: bool = False
    attributes: tuple[tuple[str, Any], ...] = attrs.field(default=(), converter=_freeze_attributes)
    protected_loops: tuple[str, ...] = attrs.field(default=(), converter=tuple[str, ...])

    def __attrs_post_init__(self) -> None:
        names = [loop.name for loop in self.loops]
        if len(set(names)) != len(names):
            raise ValueError(f"node {self.name!r}: loop names must be unique, got {names}")
        unknown_protected = [d for d in self.protected_loops if d not in names]
        if unknown_protected:
            raise ValueError(f"node {self.name!r}: protected loops {unknown_protected} are not loops of the node")
        if not any(op.role is OperandRole.OUTPUT for op in self.operands):
            raise ValueError(f"node {self.name!r} has no output operand")
        for op in self.operands:
            unknown = [d for d in op.dims if d not in names]
            if unknown:
                raise ValueError(f"node {self.name!r}: operand {op.tensor!r} indexes unknown loops {unknown}")

    # -- loops -------------------------------------------------------------------------------
    @property
    def sizes(self) -> dict[str, int]:
        return {loop.name: loop.size for loop in self.loops}

    @property
    def loop_names(self) -> tuple[str, ...]:
        return tuple(loop.name for loop in self.loops)

    def resolve_dim(self, ref: str) -> str:
        """Name of the loop a reference means: a loop name (``K``) or a positional ``D<i>``."""
        if ref in self.sizes:
            return ref
        if len(ref) > 1 and ref[0] == "D" and ref[1:].isdigit():
            index = int(ref[1:])
            if index < len(self.loops):
                return self.loops[index].name
        raise KeyError(ref)

    @property
    def iteration_points(self) -> int:
        return math.prod(loop.size for loop in self.loops)

    @property
    def macs(self) -> int:
        """Multiply-accumulates (0 for non-MAC ops)."""
        return self.iteration_points if self.mac_op else 0

    @property
    def reduction_dims(self) -> tuple[str, ...]:
        """Loops that do not index the output: their iterations accumulate into the same element."""
        out = set(self.output.dims)
        if self.output.access is None:
            return ()
        return tuple(n for n in self.loop_names if n not in out)

    # -- operands ----------------------------------------------------------------------------
    @property
    def inputs(self) -> tuple[Operand, ...]:
        return tuple(op for op in self.operands if op.role is OperandRole.INPUT)

    @property
    def weights(self) -> tuple[Operand, ...]:
        return tuple(op for op in self.operands if op.role is OperandRole.WEIGHT)

    @property
    def reads(self) -> tuple[Operand, ...]:
        return tuple(op for op in self.operands if op.role is not OperandRole.OUTPUT)

    @property
    def output(self) -> Operand:
        return next(op for op in self.operands if op.role is OperandRole.OUTPUT)

    def attribute(self, name: str, default: Any = None) -> Any:
        for key, value in self.attributes:
            if key == name:
                return value
        return default

    @property
    def adds_partial_sums(self) -> bool:
        """Whether :mod:`stream_core.reductions` made this node to add two partial sums of a split reduction."""
        return self.attribute(SPLIT_REDUCTION_ROLE) == "add"

    # -- tiles -------------------------------------------------------------------------------
    def with_sizes(self, sizes: Mapping[str, int]) -> Node:
        """The same node with some loops resized (a tile); access relations are unchanged."""
        unknown = set(sizes) - set(self.sizes)
        if unknown:
            raise KeyError(f"node {self.name!r} has no loops {sorted(unknown)}")
        loops = tuple(LoopDim(loop.name, int(sizes.get(loop.name, loop.size))) for loop in self.loops)
        return attrs.evolve(self, loops=loops)

    def footprint_elements(self, operand: Operand, tensor: TensorSpec | None = None) -> int:
        """Distinct elements of ``operand`` the whole nest touches.

        Clipped to ``tensor``'s bounds when it is given (a whole layer); without it the count is not
        clipped, which is exact for an interior tile and conservative at borders. A non-affine access
        touches the whole tensor.
        """
        if operand.access is None:
            shape = tensor.shape if tensor is not None else operand.shape
            if shape is None:
                raise ValueError(f"node {self.name!r}: operand {operand.tensor!r} has no affine access and no shape")
            return math.prod(shape)
        ranges = {loop.name: (0, loop.size) for loop in self.loops}
        count = 1
        for axis, expr in enumerate(operand.access):
            bound = (0, tensor.shape[axis]) if tensor is not None else None
            count *= expr.distinct_count(ranges, bound)
        return count

    def footprint_bits(self, operand: Operand, tensor: TensorSpec | None = None) -> int:
        return self.footprint_elements(operand, tensor) * operand.precision

    def signature(self) -> str:
        """Stable content hash of what a cost model sees: op, loops, precisions, access relations.

        Tensor and node names are excluded, so equal tiles of different nodes share one cost.
        """
        parts = [self.domain, self.op_type, str(self.mac_op), self.kind.value]
        parts += [f"{loop.name}={loop.size}" for loop in self.loops]
        for op in self.operands:
            access = f"opaque{op.shape}" if op.access is None else ",".join(str(e) for e in op.access)
            parts.append(f"{op.role.value}:{op.precision}:{op.dtype}:[{access}]")
        parts += [f"{k}={v!r}" for k, v in self.attributes]
        parts.append(f"protected={self.protected_loops}")
        return hashlib.blake2b("|".join(parts).encode(), digest_size=16).hexdigest()


def _tensor_table(tensors: Mapping[str, TensorSpec]) -> dict[str, TensorSpec]:
    return dict(tensors)


def _name_set(names: Iterable[str]) -> frozenset[str]:
    return frozenset(names)


@attrs.define(frozen=True, eq=False)
class Workload:
    """A DAG of :class:`Node` connected through tensors.

    ``inputs`` are the graph inputs, ``constants`` the tensors with known values (weights), and
    ``outputs`` the graph outputs. Edges go from the producer of a tensor to each of its readers and
    carry the tensor name.
    """

    name: str
    nodes: tuple[Node, ...] = attrs.field(converter=tuple[Node, ...])
    tensors: Mapping[str, TensorSpec] = attrs.field(converter=_tensor_table)
    inputs: tuple[str, ...] = attrs.field(default=(), converter=tuple[str, ...])
    outputs: tuple[str, ...] = attrs.field(default=(), converter=tuple[str, ...])
    constants: frozenset[str] = attrs.field(default=frozenset(), converter=_name_set)
    source: str | None = None
    _by_name: dict[str, Node] = attrs.field(init=False, repr=False)
    _producers: dict[str, str] = attrs.field(init=False, repr=False)
    #: The node names in the order given (before the topological sort), from which :attr:`graph` is built.
    _given_order: tuple[str, ...] = attrs.field(init=False, repr=False)
    #: Each node's producers and readers (names, in the dependency graph's order), kept as plain data so
    #: a workload read back from a cache answers :meth:`predecessors` without networkx.
    _neighbours: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        by_name: dict[str, Node] = {}
        producers: dict[str, str] = {}
        for node in self.nodes:
            if node.name in by_name:
                raise ValueError(f"duplicate node name {node.name!r}")
            by_name[node.name] = node
            for op in node.operands:
                if op.tensor not in self.tensors:
                    raise ValueError(f"node {node.name!r} uses unknown tensor {op.tensor!r}")
            out = node.output.tensor
            if out in producers:
                raise ValueError(f"tensor {out!r} is produced by both {producers[out]!r} and {node.name!r}")
            if out in self.constants or out in self.inputs:
                raise ValueError(f"tensor {out!r} is a graph input or constant but node {node.name!r} writes it")
            producers[out] = node.name
        nodes = tuple(self._with_shapes(node) for node in self.nodes)
        object.__setattr__(self, "nodes", nodes)
        by_name = {node.name: node for node in nodes}
        import networkx as nx

        graph = _dependency_graph(nodes, producers)
        if not nx.is_directed_acyclic_graph(graph):
            cycle = nx.find_cycle(graph)
            raise ValueError(f"workload {self.name!r} has a cycle: {cycle}")
        for t in self.outputs:
            if t not in producers:
                raise ValueError(f"graph output {t!r} is not produced by any node")
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "_given_order", tuple(node.name for node in nodes))
        neighbours = {n: (tuple(graph.predecessors(n)), tuple(graph.successors(n))) for n in graph}
        object.__setattr__(self, "_neighbours", neighbours)
        object.__setattr__(self, "_producers", producers)
        order = tuple(
            by_name[n] for n in nx.lexicographical_topological_sort(graph, key=lambda n: graph.nodes[n]["index"])
        )
        object.__setattr__(self, "nodes", order)

    @functools.cached_property
    def graph(self) -> nx.DiGraph[str]:
        """Producer -> reader edges (``tensors``: what flows), each node with its ``index`` in the order the
        nodes were given. Built on first use (not kept in pickles), so a run that needs no graph never imports
        networkx; the same graph (edge order included) as the one checked when the workload was made."""
        return _dependency_graph([self._by_name[name] for name in self._given_order], self._producers)

    def _with_shapes(self, node: Node) -> Node:
        def filled(op: Operand) -> Operand:
            if op.shape is not None and op.dtype is not None:
                return op
            spec = self.tensors[op.tensor]
            return attrs.evolve(op, shape=spec.shape, dtype=spec.dtype)

        operands = tuple(filled(op) for op in node.operands)
        return node if operands == node.operands else attrs.evolve(node, operands=operands)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def node(self, name: str) -> Node:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def producer(self, tensor: str) -> Node | None:
        name = self._producers.get(tensor)
        return None if name is None else self._by_name[name]

    def consumers(self, tensor: str) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if any(op.tensor == tensor for op in n.reads))

    def transfer_roles(self, tensor: str, consumer: str | None = None) -> tuple[OperandRole, OperandRole]:
        """The operand roles whose top memories a transfer of ``tensor`` reads at its source and writes at
        its destination, as Stream 2.1.1 prices memory ports: the producer's output when a node produces
        the tensor, else the reader's role; at the destination the role ``consumer`` (default: the first
        node reading it) reads it in, or output for a tensor no node reads."""
        readers = self.consumers(tensor) if consumer is None else (self._by_name[consumer],)
        reader = next((op.role for n in readers for op in n.reads if op.tensor == tensor), OperandRole.OUTPUT)
        return (OperandRole.OUTPUT if tensor in self._producers else reader), reader

    def predecessors(self, node: str) -> tuple[Node, ...]:
        return tuple(self._by_name[p] for p in self._neighbours[node][0])

    def successors(self, node: str) -> tuple[Node, ...]:
        return tuple(self._by_name[s] for s in self._neighbours[node][1])

    @functools.cached_property
    def partial_sum_tensors(self) -> frozenset[str]:
        """Tensors of partial sums a split reduction moves between its parts and adds (made by
        :mod:`stream_core.reductions`): produced by such a node and read only by its adds."""
        out = set()
        for node in self.nodes:
            if node.attribute(SPLIT_REDUCTION_ROLE) is None:
                continue
            readers = self.successors(node.name)
            if readers and all(r.adds_partial_sums for r in readers):
                out.add(node.output.tensor)
        return frozenset(out)

    @property
    def compute_nodes(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.kind is NodeKind.COMPUTE)

    @property
    def macs(self) -> int:
        return sum(n.macs for n in self.nodes)

    def tensor(self, name: str) -> TensorSpec:
        return self.tensors[name]


def _dependency_graph(nodes: Sequence[Node], producers: Mapping[str, str]) -> nx.DiGraph[str]:
    """Edges from the producer of each tensor to each node reading it (``tensors``: those it reads), nodes
    carrying their ``index`` in ``nodes`` (edges are added in that order)."""
    import networkx as nx

    graph: nx.DiGraph[str] = nx.DiGraph()
    for index, node in enumerate(nodes):
        graph.add_node(node.name, index=index)
    for node in nodes:
        for op in node.reads:
            producer = producers.get(op.tensor)
            if producer is not None:
                if graph.has_edge(producer, node.name):
                    graph.edges[producer, node.name]["tensors"] += (op.tensor,)
                else:
                    graph.add_edge(producer, node.name, tensors=(op.tensor,))
    return graph
