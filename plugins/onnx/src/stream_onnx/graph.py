"""The graph view op parsers read: static tensor specs, constant values, attributes, roles, folding."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import onnx

from stream_core.errors import InputError, Problem
from stream_core.ir import DTYPE_BITS, AffineExpr, LoopDim, Node, NodeKind, Operand, OperandRole, TensorSpec
from stream_onnx.fold import default_domain, external_file, has_data, read_value
from stream_onnx.loader import LoadedModel, shape_problem

_RENAMED_DTYPES = {"float": "float32", "double": "float64"}


def dtype_name(elem_type: int) -> str | None:
    """The :data:`~stream_core.ir.DTYPE_BITS` name of an ONNX element type, ``None`` if unsupported."""
    try:
        name = onnx.TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        return None
    name = _RENAMED_DTYPES.get(name, name)
    return name if name in DTYPE_BITS else None


class GraphView:
    """What an op parser may ask about the model being parsed (after shape inference).

    Tensors: :meth:`spec` / :meth:`shape` / :meth:`precision` (static, checked), :meth:`value` of
    constants (initializers and folded ``Constant`` nodes) as NumPy arrays, and the role rule
    :meth:`is_parameter` / :meth:`role`. Nodes: :meth:`attributes`, :meth:`ints` (an attribute or a
    constant input, for ops whose parameters moved from attributes to inputs), :meth:`opset`,
    :meth:`error`, :meth:`fold` and :meth:`make_node`.
    """

    def __init__(self, loaded: LoadedModel, data_inputs: Iterable[str], fold_transpose: bool = False):
        self._loaded = loaded
        self.fold_transpose = fold_transpose
        self.file = str(loaded.path)
        self._inputs = frozenset(loaded.inputs)
        self._outputs = frozenset(loaded.outputs)
        self._data_inputs = frozenset(data_inputs)
        self._specs: dict[str, TensorSpec] = {}
        self._values: dict[str, np.ndarray] = {}
        self._aliases: dict[str, tuple[str, tuple[int, ...] | None]] = {}
        #: folded layout nodes' outputs -> the permutation their readers read through
        self.folded_layouts: dict[str, tuple[int, ...]] = {}

    # -- tensors ---------------------------------------------------------------------------
    def spec_problem(self, tensor: str) -> Problem | None:
        """Why ``tensor`` has no usable static spec, or ``None`` when it has one."""
        info = self._loaded.types.get(tensor)
        field = self.tensor_field(tensor)
        if info is None or not info.tensor_type.HasField("shape"):
            what = "no type" if info is None else "an unknown rank"
            return Problem(
                f"tensor {tensor!r} has {what} after shape inference; give the producing op's output shape in "
                "value_info or export the model with static shapes",
                file=self.file,
                field=field,
            )
        ttype = info.tensor_type
        if dtype_name(ttype.elem_type) is None:
            kind = onnx.TensorProto.DataType.Name(ttype.elem_type) if ttype.elem_type else "undefined"
            return Problem(
                f"tensor {tensor!r} has element type {kind}, which is not supported; "
                f"supported: {', '.join(DTYPE_BITS)}",
                file=self.file,
                field=field,
            )
        for axis, dim in enumerate(ttype.shape.dim):
            if not dim.HasField("dim_value"):
                symbolic = dim.dim_param and not dim.dim_param.startswith("unk__")  # unk__: made by inference
                hint = (
                    f" ({dim.dim_param!r}); set it with --set 'onnx.dims={{{dim.dim_param}: <size>}}'"
                    if symbolic
                    else " (shape inference could not determine it)"
                )
                return Problem(
                    f"tensor {tensor!r} has no static size at axis {axis}{hint}", file=self.file, field=field
                )
            if dim.dim_value == 0:
                return Problem(f"tensor {tensor!r} is empty (axis {axis} has size 0)", file=self.file, field=field)
        why = shape_problem(tensor, [dim.dim_value for dim in ttype.shape.dim])
        return None if why is None else Problem(why, file=self.file, field=field)

    def spec(self, tensor: str) -> TensorSpec:
        """Static name, shape and dtype of ``tensor`` (a folded permuted name keeps its own shape); an
        :class:`InputError` when it has none."""
        while tensor in self._aliases and self._aliases[tensor][1] is None:
            tensor = self._aliases[tensor][0]
        found = self._specs.get(tensor)
        if found is None:
            problem = self.spec_problem(tensor)
            if problem is not None:
                raise InputError(problem)
            ttype = self._loaded.types[tensor].tensor_type
            dtype = dtype_name(ttype.elem_type)
            assert dtype is not None
            found = TensorSpec(tensor, tuple(d.dim_value for d in ttype.shape.dim), dtype)
            self._specs[tensor] = found
        return found

    def shape(self, tensor: str) -> tuple[int, ...]:
        return self.spec(tensor).shape

    def precision(self, tensor: str) -> int:
        """Bits per element of ``tensor``."""
        return self.spec(tensor).bits_per_element

    def tensor_field(self, tensor: str) -> str:
        """The key path of a tensor's declaration, for error messages."""
        if tensor in self._inputs:
            return f"graph.input.{tensor}"
        if tensor in self._outputs:
            return f"graph.output.{tensor}"
        if tensor in self._loaded.constants:
            return f"graph.initializer.{tensor}"
        return f"graph.value_info.{tensor}"

    def is_constant(self, tensor: str) -> bool:
        """An initializer or the output of a folded ``Constant`` node."""
        return self.resolve(tensor) in self._loaded.constants

    def value(self, tensor: str, node: onnx.NodeProto | None = None) -> np.ndarray:
        """The value of a constant tensor (read once, external data included): only for parameters
        an op's structure depends on (e.g. Gather's constant indices), never for weights."""
        tensor = self.resolve(tensor)
        found = self._values.get(tensor)
        if found is not None:
            return found
        proto = self._loaded.constants.get(tensor)
        needed = f" (needed by node {node.name!r})" if node is not None else ""
        if proto is None:
            raise InputError(
                Problem(
                    f"tensor {tensor!r} must be a constant{needed}", file=self.file, field=self.tensor_field(tensor)
                )
            )
        if not has_data(proto):
            raise InputError(
                Problem(
                    f"the value of {tensor!r} is needed{needed} but the file keeps only its type and shape",
                    file=self.file,
                    field=self.tensor_field(tensor),
                )
            )
        path = external_file(proto, self._loaded.path.parent)
        if path is not None and not path.is_file():
            raise InputError(
                Problem(
                    f"the value of {tensor!r}{needed} is in the external data file {str(path)!r}, which is absent",
                    file=self.file,
                    field=self.tensor_field(tensor),
                )
            )
        found = read_value(proto, self._loaded.path.parent, self.file, self.tensor_field(tensor))
        self._values[tensor] = found
        return found

    def is_graph_output(self, tensor: str) -> bool:
        return tensor in self._outputs

    def is_parameter(self, tensor: str) -> bool:
        """The role rule: a constant, or a graph input that is not a data input, holds parameters.

        Data inputs are the ``onnx.data_inputs`` setting, by default the first graph input that is
        not an initializer.
        """
        tensor = self.resolve(tensor)
        return tensor in self._loaded.constants or (tensor in self._inputs and tensor not in self._data_inputs)

    def role(self, tensor: str) -> OperandRole:
        """``WEIGHT`` for a parameter (:meth:`is_parameter`), else ``INPUT``: for operand slots whose
        meaning the op does not fix (MatMul, elementwise, Concat...)."""
        return OperandRole.WEIGHT if self.is_parameter(tensor) else OperandRole.INPUT

    def operand(self, tensor: str, role: OperandRole, access: Sequence[AffineExpr] | None) -> Operand:
        """An operand of ``tensor`` with its dtype's precision. A folded name is read through its source:
        the access of output axis ``i`` of a folded permutation becomes that of source axis ``perm[i]``."""
        exprs = None if access is None else tuple(access)
        while tensor in self._aliases:
            tensor, perm = self._aliases[tensor]
            if perm is not None and exprs is not None:
                composed = list(exprs)
                for axis, source in enumerate(perm):
                    composed[source] = exprs[axis]
                exprs = tuple(composed)
        return Operand(role, tensor, self.precision(tensor), exprs)

    # -- nodes -----------------------------------------------------------------------------
    def attributes(self, node: onnx.NodeProto) -> dict[str, Any]:
        """The node's attributes as Python values (strings decoded)."""
        return {a.name: _decode(onnx.helper.get_attribute_value(a)) for a in node.attribute}

    def input(self, node: onnx.NodeProto, index: int) -> str | None:
        """Name of input ``index``, ``None`` when the optional input is absent."""
        return node.input[index] if index < len(node.input) and node.input[index] else None

    def ints(self, node: onnx.NodeProto, attribute: str, index: int | None = None) -> list[int] | None:
        """Integers given as the attribute ``attribute`` or (newer opsets) as constant input ``index``."""
        attributes = self.attributes(node)
        if attribute in attributes:
            value = attributes[attribute]
            return [int(v) for v in value] if isinstance(value, list | tuple) else [int(value)]
        tensor = self.input(node, index) if index is not None else None
        if tensor is None:
            return None
        if not self.is_constant(tensor):
            raise self.error(
                node, f"input {index} ({attribute}) must be a constant; {tensor!r} is computed at run time"
            )
        return [int(v) for v in self.value(tensor, node).reshape(-1)]

    def opset(self, domain: str = "") -> int:
        """The opset version the model imports for ``domain`` (0 if none)."""
        return self._loaded.opsets.get(default_domain(domain), 0)

    def error(self, node: onnx.NodeProto, message: str, attribute: str | None = None) -> InputError:
        """An :class:`InputError` about ``node`` (to ``raise``), pointing at the attribute if given."""
        field = f"graph.node.{node.name}" + (f".attribute.{attribute}" if attribute else "")
        return InputError(Problem(f"node {node.name!r} ({node.op_type}): {message}", file=self.file, field=field))

    def fold(self, output: str, into: str, access: Sequence[int] | None = None) -> None:
        """Make ``output`` another name of ``into``: the same tensor (an op that only forwards its input,
        e.g. Identity) or, with ``access``, a view whose axis ``i`` is axis ``access[i]`` of ``into`` (a
        Transpose's ``perm``); readers then read ``into`` through the permuted access (:meth:`operand`)."""
        if output in self._outputs:
            raise ValueError(f"graph output {output!r} cannot be folded away")
        perm = None if access is None else tuple(access)
        self._aliases[output] = (into, perm)
        if perm is not None:
            self.folded_layouts[output] = perm

    def resolve(self, tensor: str) -> str:
        """The tensor a (possibly folded) name stands for."""
        while tensor in self._aliases:
            tensor = self._aliases[tensor][0]
        return tensor

    def make_node(
        self,
        node: onnx.NodeProto,
        loops: Sequence[LoopDim],
        operands: Sequence[Operand],
        *,
        name: str | None = None,
        kind: NodeKind = NodeKind.COMPUTE,
        mac_op: bool = False,
        attributes: Mapping[str, Any] | None = None,
        protected_loops: Sequence[str] = (),
    ) -> Node:
        """A workload node for ``node`` (its name, op type and domain unless given)."""
        return Node(
            name=name or node.name,
            op_type=node.op_type,
            domain=default_domain(node.domain),
            loops=tuple(loops),
            operands=tuple(operands),
            kind=kind,
            mac_op=mac_op,
            attributes=dict(attributes or {}),
            protected_loops=tuple(protected_loops),
        )


def _decode(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value
