"""Reading an ONNX file: load, name nodes, validate, fold constants and infer static shapes.

The checker and shape inference run on a *skeleton* of the model in which every initializer that is
large, external or has no data (Stream's example files clear weight values) becomes a typed graph
input. Shapes and types are all they need, so their cost does not grow with the weights, and
weight-less models stay valid. Small initializers (shape and axes tensors) keep their values, which
shape inference's data propagation uses (e.g. for Reshape).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import onnx
from onnx import numpy_helper
from onnx.external_data_helper import load_external_data_for_tensor

from stream_core.errors import InputError, Problem, ProblemCollector

#: Initializers with at most this many elements keep their values in the skeleton.
SMALL_INITIALIZER = 4096

_DEFAULT_DOMAINS = ("", "ai.onnx")


def default_domain(domain: str) -> str:
    """``""`` for the default ONNX domain, whichever way a file spells it."""
    return "" if domain in _DEFAULT_DOMAINS else domain


@attrs.frozen
class LoadedModel:
    """A checked model with inferred types.

    ``nodes``: the nodes to parse (Constant nodes folded away); ``types``: inferred type of every
    tensor that has one; ``constants``: initializers and folded Constant outputs by name.
    """

    path: Path
    nodes: tuple[onnx.NodeProto, ...]
    types: Mapping[str, onnx.TypeProto]
    constants: Mapping[str, onnx.TensorProto]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    opsets: Mapping[str, int]


def read_model(path: Path) -> onnx.ModelProto:
    """Load the protobuf (external weight data is not read) or raise an :class:`InputError`."""
    file = str(path)
    if not path.exists():
        raise InputError(Problem("file not found", file=file))
    if not path.is_file():
        raise InputError(Problem("not a file (expected an .onnx model)", file=file))
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises several types on garbage input
        raise InputError(Problem(f"not an ONNX model: cannot decode the protobuf ({exc})", file=file)) from exc
    if not model.graph.node and not model.graph.output:
        raise InputError(Problem("not an ONNX model: the file decodes to an empty graph", file=file, field="graph"))
    return model


def name_nodes(model: onnx.ModelProto) -> None:
    """Give every node a unique name: its own, else ``<op_type>_<index>``; a repeated name gets ``_<index>``."""
    seen: set[str] = set()
    for index, node in enumerate(model.graph.node):
        name = node.name or f"{node.op_type}_{index}"
        if name in seen:
            name = f"{name}_{index}"
        seen.add(name)
        node.name = name


def analyse(model: onnx.ModelProto, path: Path, dims: Mapping[str, int] | None = None) -> LoadedModel:
    """Check the model, infer shapes and fold Constant nodes. ``dims`` fixes symbolic input dims."""
    file = str(path)
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    _read_small_external_values(initializers.values(), path)
    skeleton = _skeleton(model, initializers)
    if dims:
        _fix_symbolic_dims(skeleton, dims)
    try:
        onnx.checker.check_model(skeleton)
    except onnx.checker.ValidationError as exc:
        raise InputError(Problem(f"invalid ONNX model: {_first_line(exc)}", file=file)) from exc
    try:
        inferred = onnx.shape_inference.infer_shapes(skeleton, check_type=False, strict_mode=True, data_prop=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError) as exc:
        raise InputError(Problem(f"shape inference failed: {exc}", file=file, field=_node_field(str(exc)))) from exc
    types: dict[str, onnx.TypeProto] = {}
    for info in (*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output):
        if info.type.HasField("tensor_type"):
            types[info.name] = info.type
    for tensor in inferred.graph.initializer:
        types[tensor.name] = _tensor_type(tensor)
    constants = dict(initializers)
    nodes = []
    for node in graph.node:
        if node.op_type == "Constant" and default_domain(node.domain) == "":
            value = constants[node.output[0]] = _constant_value(node, file)
            types.setdefault(value.name, _tensor_type(value))
        else:
            nodes.append(node)
    return LoadedModel(
        path=path,
        nodes=tuple(nodes),
        types=types,
        constants=constants,
        inputs=tuple(i.name for i in graph.input if i.name not in initializers),
        outputs=tuple(o.name for o in graph.output),
        opsets={default_domain(o.domain): o.version for o in model.opset_import},
    )


def _skeleton(model: onnx.ModelProto, initializers: Mapping[str, onnx.TensorProto]) -> onnx.ModelProto:
    graph = model.graph
    skeleton = onnx.ModelProto()
    skeleton.ir_version = model.ir_version
    skeleton.opset_import.extend(model.opset_import)
    skeleton.functions.extend(model.functions)
    out = skeleton.graph
    out.name = graph.name
    out.node.extend(graph.node)
    out.output.extend(graph.output)
    out.value_info.extend(graph.value_info)
    listed = {i.name for i in graph.input}
    out.input.extend(graph.input)
    for name, tensor in initializers.items():
        if _keeps_value(tensor):
            out.initializer.append(tensor)
        elif name not in listed:
            out.input.append(onnx.helper.make_tensor_value_info(name, tensor.data_type, list(tensor.dims)))
    if model.ir_version < 4:  # old IR: initializers must also be graph inputs
        listed = {i.name for i in out.input}
        out.input.extend(
            onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
            for t in out.initializer
            if t.name not in listed
        )
    return skeleton


def _is_small(tensor: onnx.TensorProto) -> bool:
    count = 1
    for d in tensor.dims:
        count *= d
    return count <= SMALL_INITIALIZER


def _keeps_value(tensor: onnx.TensorProto) -> bool:
    return tensor.data_location != onnx.TensorProto.EXTERNAL and _is_small(tensor) and has_data(tensor)


def _read_small_external_values(tensors: Iterable[onnx.TensorProto], path: Path) -> None:
    """Load the values of small externally stored tensors (shape-like parameters) into the model."""
    for tensor in tensors:
        if tensor.data_location == onnx.TensorProto.EXTERNAL and _is_small(tensor):
            try:
                load_external_data_for_tensor(tensor, str(path.parent))
            except (OSError, ValueError, onnx.checker.ValidationError) as exc:
                raise InputError(
                    Problem(
                        f"cannot read the external data of {tensor.name!r}: {exc}",
                        file=str(path),
                        field=f"graph.initializer.{tensor.name}",
                    )
                ) from exc
            tensor.data_location = onnx.TensorProto.DEFAULT
            del tensor.external_data[:]


def has_data(tensor: onnx.TensorProto) -> bool:
    """Whether the tensor carries its values (inline or external), not just a type and shape."""
    if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.raw_data:
        return True
    fields = ("float_data", "int32_data", "string_data", "int64_data", "double_data", "uint64_data")
    if any(len(getattr(tensor, f)) for f in fields):
        return True
    return any(d == 0 for d in tensor.dims)  # an empty tensor has nothing to carry


def _fix_symbolic_dims(skeleton: onnx.ModelProto, dims: Mapping[str, int]) -> None:
    for info in (*skeleton.graph.input, *skeleton.graph.output):
        for dim in info.type.tensor_type.shape.dim:
            if dim.HasField("dim_param") and dim.dim_param in dims:
                dim.dim_value = int(dims[dim.dim_param])


def _tensor_type(tensor: onnx.TensorProto) -> onnx.TypeProto:
    return onnx.helper.make_tensor_type_proto(tensor.data_type, list(tensor.dims))


def _constant_value(node: onnx.NodeProto, file: str) -> onnx.TensorProto:
    """The tensor a Constant node produces (its ``value`` or one of the ``value_*`` forms)."""
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    value: Any
    if "value" in attributes:
        tensor = onnx.TensorProto()
        tensor.CopyFrom(attributes["value"])
        tensor.name = node.output[0]
        return tensor
    if "value_float" in attributes or "value_floats" in attributes:
        value = attributes.get("value_float", attributes.get("value_floats"))
        return numpy_helper.from_array(np.asarray(value, dtype=np.float32), node.output[0])
    if "value_int" in attributes or "value_ints" in attributes:
        value = attributes.get("value_int", attributes.get("value_ints"))
        return numpy_helper.from_array(np.asarray(value, dtype=np.int64), node.output[0])
    kinds = ", ".join(sorted(attributes)) or "none"
    raise InputError(
        Problem(
            f"Constant node {node.name!r} holds a {kinds} value; only numeric tensors (value, value_float(s), "
            "value_int(s)) can be folded",
            file=file,
            field=f"graph.node.{node.name}",
        )
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _node_field(message: str) -> str | None:
    found = re.search(r"node name: ([^)]*)\)", message) or re.search(r"node name ([^.\s]+)", message)
    return f"graph.node.{found.group(1)}" if found and found.group(1) else None


def check_dims_setting(value: Any) -> dict[str, int]:
    """Validate the ``onnx.dims`` setting: a mapping of symbolic dimension name to a positive size."""
    problems = ProblemCollector()
    if not isinstance(value, Mapping):
        problems.add("onnx.dims", f"expected a mapping of symbolic dimension names to sizes, got {value!r}")
        problems.raise_if_any()
    out: dict[str, int] = {}
    for key, size in value.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            problems.add(f"onnx.dims.{key}", f"expected a positive integer size, got {size!r}")
        else:
            out[str(key)] = size
    problems.raise_if_any()
    return out
