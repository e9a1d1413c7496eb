"""Node by node after onnx's shape inference: fold constant subgraphs and complete missing shapes.

Nodes are visited in graph order. ``Constant`` nodes become constants. A node that onnx left
without a static output shape (an op of a custom domain, a shape input stored as external data, an
op newer than the model's opset...) is inferred on its own with the schema of its op type in the
default domain, fed the values of its small constant inputs; an elementwise op without a schema
(``com.example:Silu``) gets NumPy broadcasting. A node whose outputs need no run-time data and are
small is evaluated with onnx's reference implementation and its outputs become constants: a
``Shape`` of a static tensor, arithmetic on integer constants (``Shape -> Gather -> Concat ->
Reshape`` chains) and whatever derives from such folded values (``1 / Sqrt(Cast(head_dim))``).
Arithmetic on float weights alone is not folded: it stays a workload node.

Values are read only for tensors of at most ``SMALL_TENSOR`` elements, and :func:`read_value` refuses
external data larger than those elements can hold before reading it (a file's size, not its dims,
sets what onnx reads when no ``length`` is given).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.external_data_helper import ExternalDataInfo
from onnx.reference import ReferenceEvaluator

from stream_core.errors import InputError, Problem
from stream_onnx.plugin import ELEMENTWISE_OPS

#: Constants and folded results with at most this many elements have their values read/computed.
SMALL_TENSOR = 4096
#: Bytes an element of a type NumPy does not know is taken to need (the widest ONNX type, complex128).
_WIDEST = 16

_DEFAULT_DOMAINS = ("", "ai.onnx")
_RANDOM_OPS = frozenset({"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Bernoulli"})
_INTEGRAL = frozenset(
    {onnx.TensorProto.BOOL, *(getattr(onnx.TensorProto, f"{s}INT{b}") for s in ("", "U") for b in (8, 16, 32, 64))}
)


def default_domain(domain: str) -> str:
    """``""`` for the default ONNX domain, whichever way a file spells it."""
    return "" if domain in _DEFAULT_DOMAINS else domain


def has_data(tensor: onnx.TensorProto) -> bool:
    """Whether the tensor carries its values (inline or external), not just a type and shape."""
    if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.raw_data:
        return True
    fields = ("float_data", "int32_data", "string_data", "int64_data", "double_data", "uint64_data")
    if any(len(getattr(tensor, f)) for f in fields):
        return True
    return any(d == 0 for d in tensor.dims)  # an empty tensor has nothing to carry


def element_count(dims: Iterable[int]) -> int:
    count = 1
    for d in dims:
        count *= d
    return count


def external_file(tensor: onnx.TensorProto, base_dir: Path) -> Path | None:
    """The file holding an externally stored tensor's data, ``None`` when the data is inline."""
    if tensor.data_location != onnx.TensorProto.EXTERNAL:
        return None
    location = next((e.value for e in tensor.external_data if e.key == "location"), "")
    return base_dir / location


def external_bytes(tensor: onnx.TensorProto, base_dir: Path) -> int:
    """Bytes onnx reads for an externally stored tensor: its ``length``, else the rest of its file
    after ``offset``; 0 for inline data or a description onnx itself refuses."""
    path = external_file(tensor, base_dir)
    if path is None:
        return 0
    try:
        info, size = ExternalDataInfo(tensor), path.stat().st_size
    except (OSError, ValueError):
        return 0
    return info.length if info.length is not None else max(0, size - (info.offset or 0))


def read_value(tensor: onnx.TensorProto, base_dir: Path, file: str, field: str) -> np.ndarray:
    """The value of a constant that carries data; external data more than its dims hold (elements x
    element size) is refused before anything is read or allocated."""
    try:
        itemsize = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
        kind_name = onnx.TensorProto.DataType.Name(tensor.data_type)
    except (KeyError, ValueError):
        itemsize, kind_name = _WIDEST, "its type"
    bound, stored = element_count(tensor.dims) * itemsize, external_bytes(tensor, base_dir)
    if stored > bound:
        message = (
            f"the external data of {tensor.name!r} is {stored:,} bytes, more than its dims {list(tensor.dims)} "
            f"of {kind_name} hold ({bound:,} bytes); refused before reading it: fix the dims, or give the "
            "external data the 'offset' and 'length' of this tensor"
        )
        raise InputError(Problem(message, file=file, field=field))
    try:
        return numpy_helper.to_array(tensor, base_dir=str(base_dir))
    except (OSError, ValueError, onnx.checker.ValidationError) as exc:
        raise InputError(Problem(f"cannot read the value of {tensor.name!r}: {exc}", file=file, field=field)) from exc


def static_shape(info: onnx.TypeProto | None) -> tuple[int, ...] | None:
    """The shape of a tensor type when every dimension has a value."""
    if info is None or not info.HasField("tensor_type") or not info.tensor_type.HasField("shape"):
        return None
    dims = info.tensor_type.shape.dim
    return tuple(d.dim_value for d in dims) if all(d.HasField("dim_value") for d in dims) else None


def tensor_type(tensor: onnx.TensorProto) -> onnx.TypeProto:
    return onnx.helper.make_tensor_type_proto(tensor.data_type, list(tensor.dims))


class Completion:
    """The walk over the nodes; ``types`` and ``constants`` are completed in place."""

    def __init__(
        self,
        types: dict[str, onnx.TypeProto],
        constants: dict[str, onnx.TensorProto],
        opset: int,
        base_dir: Path,
        file: str,
    ):
        self.types = types
        self.constants = constants
        self.opset = opset
        self.base_dir = base_dir
        self.file = file
        self.problems: list[Problem] = []
        self._values: dict[str, np.ndarray] = {}
        self._folded: set[str] = set()
        self._absent: dict[str, Path] = {}  # constants whose external data file is absent

    def run(
        self,
        nodes: Sequence[tuple[onnx.NodeProto, onnx.NodeProto]],
        graph_outputs: Iterable[str],
        recheck: str | None = None,
    ) -> list[onnx.NodeProto]:
        """The nodes left to parse, of ``(original, skeleton)`` pairs (the skeleton node is what onnx
        checks: unknown attributes dropped). ``recheck`` names a node onnx's inference rejected."""
        outputs = frozenset(graph_outputs)
        kept = []
        for original, node in nodes:
            if node.op_type == "Constant" and default_domain(original.domain) == "":
                self._set_constant(constant_value(original, self.file))
                continue
            if node.name == recheck or any(static_shape(self.types.get(t)) is None for t in node.output if t):
                self._infer(original, node)
            if not outputs.intersection(node.output) and self._fold(original, node):
                continue
            kept.append(original)
        return kept

    # -- values ------------------------------------------------------------------------------
    def readable(self, name: str) -> bool:
        """Whether :meth:`value` has a value for ``name`` (nothing is read to tell)."""
        if name in self._values:
            return True
        tensor = self.constants.get(name)
        if tensor is None or not has_data(tensor) or element_count(tensor.dims) > SMALL_TENSOR:
            return False
        path = external_file(tensor, self.base_dir)
        if path is not None and not path.is_file():
            self._absent[name] = path
            return False
        return True

    def value(self, name: str) -> np.ndarray | None:
        """The value of a folded tensor or of a small constant that carries data; ``None`` otherwise."""
        if not self.readable(name):
            return None
        if name not in self._values:
            field = f"graph.initializer.{name}"
            self._values[name] = read_value(self.constants[name], self.base_dir, self.file, field)
        return self._values[name]

    def _set_constant(self, tensor: onnx.TensorProto, folded: bool = False) -> None:
        self.constants[tensor.name] = tensor
        self.types[tensor.name] = tensor_type(tensor)
        if folded:
            self._folded.add(tensor.name)

    # -- shapes ------------------------------------------------------------------------------
    def _infer(self, original: onnx.NodeProto, node: onnx.NodeProto) -> None:
        inputs = [t for t in node.input if t]
        if any(t not in self.types for t in inputs):
            return  # an input without a type: reported when the tensors are checked
        try:
            schema = onnx.defs.get_schema(node.op_type, self.opset, "")
        except onnx.defs.SchemaError:
            if node.op_type in ELEMENTWISE_OPS:
                self._broadcast(original, node)
            return
        plain = onnx.NodeProto()
        plain.CopyFrom(node)
        plain.domain = ""
        data = {t: numpy_helper.from_array(v, t) for t in inputs if (v := self.value(t)) is not None}
        types = {t: self.types[t] for t in inputs}
        try:
            inferred = onnx.shape_inference.infer_node_outputs(schema, plain, types, data)
        except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError) as exc:
            self.problems.append(
                Problem(f"shape inference failed: {exc}", file=self.file, field=f"graph.node.{original.name}")
            )
            return
        for name, info in inferred.items():
            if static_shape(info) is not None or name not in self.types:
                self.types[name] = info
        absent = [t for t in inputs if t in self._absent]
        if absent and any(static_shape(self.types.get(t)) is None for t in node.output if t):
            for name in absent:
                self.problems.append(
                    Problem(
                        f"cannot read the external data of {name!r}: the output shape of node {original.name!r} "
                        f"({original.op_type}) depends on its value, stored in {str(self._absent[name])!r}, "
                        "which is absent",
                        file=self.file,
                        field=f"graph.initializer.{name}",
                    )
                )

    def _broadcast(self, original: onnx.NodeProto, node: onnx.NodeProto) -> None:
        """NumPy broadcasting of the input shapes; the first input's element type."""
        found = [static_shape(self.types[t]) for t in node.input if t]
        shapes = [s for s in found if s is not None]
        if not shapes or len(shapes) < len(found) or not node.output:
            return
        try:
            shape = np.broadcast_shapes(*shapes)
        except ValueError as exc:
            self.problems.append(
                Problem(
                    f"shape inference failed: node {original.name!r} ({original.op_type}): {exc}",
                    file=self.file,
                    field=f"graph.node.{original.name}",
                )
            )
            return
        elem_type = self.types[node.input[0]].tensor_type.elem_type
        self.types[node.output[0]] = onnx.helper.make_tensor_type_proto(elem_type, list(shape))

    # -- folding -----------------------------------------------------------------------------
    def _fold(self, original: onnx.NodeProto, node: onnx.NodeProto) -> bool:
        """Evaluate the node when its outputs are constants worth folding; ``True`` when it was."""
        if default_domain(original.domain) or node.op_type in _RANDOM_OPS or not any(node.input):
            return False
        shapes = [static_shape(self.types.get(t)) for t in node.output if t]
        if any(s is None or element_count(s) > SMALL_TENSOR for s in shapes):
            return False
        feeds = self._feeds(node)
        if feeds is None:
            return False
        derived = node.op_type in ("Shape", "Size") or any(t in self._folded for t in feeds)
        integral = all(self.types[t].tensor_type.elem_type in _INTEGRAL for t in feeds)
        if not (derived or integral):
            return False  # arithmetic on float parameters: the workload computes it
        try:
            results = ReferenceEvaluator(node, opsets={"": self.opset}).run(None, feeds)
        except Exception:  # an op the reference implementation cannot evaluate stays a workload node
            return False
        for name, result in zip(node.output, results, strict=False):
            if name:
                self._set_constant(numpy_helper.from_array(np.asarray(result), name), folded=True)
        return True

    def _feeds(self, node: onnx.NodeProto) -> dict[str, np.ndarray] | None:
        """The input values of ``node``, or ``None`` when one needs run-time data. ``Shape`` and
        ``Size`` read only the static shape (a zero-copy placeholder stands in for the data)."""
        names = [t for t in node.input if t]
        if node.op_type in ("Shape", "Size"):
            shapes = {t: static_shape(self.types.get(t)) for t in names}
            known = {t: s for t, s in shapes.items() if s is not None}
            if len(known) < len(shapes):
                return None
            return {t: np.broadcast_to(np.zeros((), np.float32), s) for t, s in known.items()}
        if not all(map(self.readable, names)):
            return None
        values = {t: self.value(t) for t in names}
        present = {t: v for t, v in values.items() if v is not None}
        return present if len(present) == len(values) else None


def constant_value(node: onnx.NodeProto, file: str) -> onnx.TensorProto:
    """The tensor a Constant node produces (its ``value`` or one of the ``value_*`` forms)."""
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if "value" in attributes:
        tensor = onnx.TensorProto()
        tensor.CopyFrom(attributes["value"])
        tensor.name = node.output[0]
        return tensor
    for kind, dtype in (("float", np.float32), ("int", np.int64)):
        for key in (f"value_{kind}", f"value_{kind}s"):
            if key in attributes:
                return numpy_helper.from_array(np.asarray(attributes[key], dtype=dtype), node.output[0])
    kinds = ", ".join(sorted(attributes)) or "none"
    raise InputError(
        Problem(
            f"Constant node {node.name!r} holds a {kinds} value; only numeric tensors (value, value_float(s), "
            "value_int(s)) can be folded",
            file=file,
            field=f"graph.node.{node.name}",
        )
    )
