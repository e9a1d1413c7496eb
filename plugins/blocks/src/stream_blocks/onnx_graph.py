"""An ONNX graph built in memory, and its workload as the installed ONNX parser reads it.

Blocks (and stream-torch's ATen lowering) describe a network as ONNX operators and hand the model to
the workload parser registered for ``.onnx`` files (stream-onnx), so a block, an exported ONNX file
and a ``torch.export`` program of the same network give the same nodes, loops and MACs: the op
semantics live in one place, the ONNX op parsers.

Parameters are value-less initializers (a shape and an element type, no data): the workload needs
their shapes only, so a 4096-wide layer costs no memory to describe. Small constants (shapes, axes,
masks) carry their values, which the ONNX parser folds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir import Workload

#: The opset the graphs import (RMSNormalization is an ONNX op from opset 23).
OPSET = 23

_ELEMENT_TYPES = {
    "float32": TensorProto.FLOAT,
    "float16": TensorProto.FLOAT16,
    "bfloat16": TensorProto.BFLOAT16,
    "float64": TensorProto.DOUBLE,
    "int8": TensorProto.INT8,
    "uint8": TensorProto.UINT8,
    "int16": TensorProto.INT16,
    "int32": TensorProto.INT32,
    "int64": TensorProto.INT64,
    "bool": TensorProto.BOOL,
}


def element_type(dtype: str) -> int:
    """The ONNX element type of a :data:`~stream_core.ir.DTYPE_BITS` name."""
    try:
        return _ELEMENT_TYPES[dtype]
    except KeyError:
        raise ValueError(f"unsupported element type {dtype!r}; supported: {', '.join(_ELEMENT_TYPES)}") from None


class OnnxGraph:
    """Collects graph inputs, parameters, constants and nodes; :meth:`model` returns the ONNX model.

    Tensor names are unique: :meth:`fresh` suffixes ``_<n>`` to a name already taken.
    """

    def __init__(self, name: str):
        self.name = name
        self._inputs: list[onnx.ValueInfoProto] = []
        self._outputs: list[str] = []
        self._initializers: list[onnx.TensorProto] = []
        self._nodes: list[onnx.NodeProto] = []
        self._taken: set[str] = set()

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(v.name for v in self._inputs)

    def fresh(self, name: str) -> str:
        """``name``, or ``name_<n>`` with the smallest ``n`` not taken yet; reserves it."""
        found, index = name, 1
        while found in self._taken:
            found, index = f"{name}_{index}", index + 1
        self._taken.add(found)
        return found

    def input(self, name: str, shape: Sequence[int], dtype: str = "float32") -> str:
        """A graph input carrying data (activations, a KV cache, token ids)."""
        name = self.fresh(name)
        self._inputs.append(helper.make_tensor_value_info(name, element_type(dtype), [int(d) for d in shape]))
        return name

    def param(self, name: str, shape: Sequence[int], dtype: str = "float32") -> str:
        """A parameter (a weight, or a constant such as a mask whose values the workload does not need):
        its shape and type, without values."""
        name = self.fresh(name)
        tensor = TensorProto(name=name, data_type=element_type(dtype), dims=[int(d) for d in shape])
        self._initializers.append(tensor)
        return name

    def const(self, value: Any, name: str = "const", dtype: str | None = None) -> str:
        """A constant with its values (shapes, axes, scales, masks): an ``int64`` array unless the value
        or ``dtype`` says otherwise."""
        array = np.asarray(value, dtype=dtype or (np.int64 if _all_ints(value) else None))
        name = self.fresh(name)
        self._initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], name: str | None = None, **attributes: Any) -> str:
        """A node with one output; returns the output's name."""
        return self.op_n(op_type, inputs, 1, name, **attributes)[0]

    def op_n(
        self, op_type: str, inputs: Sequence[str], outputs: int, name: str | None = None, **attributes: Any
    ) -> list[str]:
        """A node with ``outputs`` outputs; returns their names. Empty strings are absent optional inputs."""
        node_name = self.fresh(name or op_type.lower())
        names = [self.fresh(f"{node_name}_out{i}" if outputs > 1 else f"{node_name}_out") for i in range(outputs)]
        self._nodes.append(helper.make_node(op_type, list(inputs), names, name=node_name, **attributes))
        return names

    def output(self, tensor: str) -> None:
        """Mark ``tensor`` a graph output (its type is inferred)."""
        self._outputs.append(tensor)

    def model(self, opset: int = OPSET) -> onnx.ModelProto:
        """The model of the nodes that contribute to an output (others are dropped, as exporters do)."""
        outputs = [helper.make_empty_tensor_value_info(t) for t in self._outputs]
        graph = helper.make_graph(self._live_nodes(), self.name, self._inputs, outputs, self._initializers)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="stream-blocks")

    def _live_nodes(self) -> list[onnx.NodeProto]:
        needed = set(self._outputs)
        live = []
        for node in reversed(self._nodes):
            if needed.intersection(node.output):
                live.append(node)
                needed.update(node.input)
        return live[::-1]

    def workload(self, context: RunContext, source: str | None = None) -> Workload:
        """The workload of :meth:`model`, named after the graph: see :func:`onnx_workload`."""
        return onnx_workload(self.model(), context, source=source or self.name, name=self.name, data_inputs=self.inputs)


def _all_ints(value: Any) -> bool:
    return bool(np.issubdtype(np.asarray(value).dtype, np.integer))


def onnx_workload(
    model: onnx.ModelProto,
    context: RunContext,
    *,
    source: str,
    name: str | None = None,
    data_inputs: Sequence[str] = (),
) -> Workload:
    """Parse an in-memory ONNX model with the workload parser registered for ``.onnx``.

    ``data_inputs`` are the graph inputs that carry data (the ONNX parser's ``onnx.data_inputs``
    setting); every other input and initializer is a parameter. Problems name ``source`` instead of
    the temporary file the parser read; the workload is ``name`` (default: ``source``'s stem).
    """
    parser = _onnx_parser(context, source)
    settings: Mapping[str, Any] = {**context.options.settings, "onnx.data_inputs": list(data_inputs)}
    inner = attrs.evolve(context, options=attrs.evolve(context.options, settings=dict(settings)))
    with tempfile.TemporaryDirectory(prefix="stream-blocks-") as folder:
        path = Path(folder) / "model.onnx"
        onnx.save_model(model, str(path))
        try:
            workload = parser.parse(path, inner)
        except InputError as exc:
            raise InputError(_renamed(p, str(path), source) for p in exc.problems) from None
    return attrs.evolve(workload, name=name or Path(source).stem, source=source)


def _onnx_parser(context: RunContext, source: str) -> Any:
    for record in context.plugins.registry("workload_parsers"):
        if ".onnx" in record.suffixes:
            return record.load()
    message = (
        "this workload is built as an ONNX model, and no installed workload parser reads ONNX; install stream-onnx"
    )
    raise InputError(Problem(message, file=source))


def _renamed(problem: Problem, temporary: str, source: str) -> Problem:
    file = source if problem.file in (None, temporary) else problem.file
    return attrs.evolve(problem, file=file, message=problem.message.replace(temporary, source))
