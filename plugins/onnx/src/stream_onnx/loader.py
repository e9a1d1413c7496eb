"""Reading an ONNX file: load, name nodes, validate, fold constants and infer static shapes.

The checker and shape inference run on a *skeleton* of the model in which every initializer that is
large, external or has no data (Stream's example files clear weight values) becomes a typed graph
input. Shapes and types are all they need, so their cost does not grow with the weights, weight-less
models stay valid and weight files may be absent. Small inline initializers (shape and axes tensors)
keep their values, which shape inference's data propagation uses (e.g. for Reshape). The checker is
lenient where Stream is: attributes an op's schema does not define are a warning, and ops onnx has no
schema for are left to :mod:`stream_onnx.fold`, as are the shapes onnx's inference leaves open.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import onnx

from stream_core.errors import InputError, Problem, ProblemCollector
from stream_onnx.fold import (
    SMALL_TENSOR,
    Completion,
    default_domain,
    element_count,
    external_file,
    has_data,
    tensor_type,
)

#: The domain the skeleton gives default-domain ops that onnx has no schema for (onnx skips it).
_UNCHECKED = "stream_onnx.unchecked"

#: Elements of one tensor beyond which a shape is absurd (2**40: 4 TiB of fp32), refused before use.
MAX_ELEMENTS = 2**40


@attrs.frozen
class LoadedModel:
    """A checked model with inferred types.

    ``nodes``: the nodes to parse (Constant nodes and constant subgraphs folded away); ``types``:
    inferred type of every tensor that has one; ``constants``: initializers and folded outputs by
    name; ``warnings``: what was accepted leniently (absent weight files, unknown attributes).
    """

    path: Path
    nodes: tuple[onnx.NodeProto, ...]
    types: Mapping[str, onnx.TypeProto]
    constants: Mapping[str, onnx.TensorProto]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    opsets: Mapping[str, int]
    warnings: tuple[str, ...] = ()


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
    """Check the model, infer shapes, fold constants (:mod:`stream_onnx.fold`). ``dims`` fixes symbolic
    input dims. Weight values are never read; an absent external data file is a warning."""
    file = str(path)
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    warnings = []
    absent = sorted({str(p) for t in initializers.values() if (p := external_file(t, path.parent)) and not p.is_file()})
    if absent:
        warnings.append(
            f"{file}: external data {', '.join(map(repr, absent))} not found: weight values were not read "
            "(parsing needs only their shapes)"
        )
    skeleton, lenient = _skeleton(model, initializers)
    warnings += [f"{file}: {warning}" for warning in lenient]
    if dims:
        _fix_symbolic_dims(skeleton, dims)
    try:
        onnx.checker.check_model(skeleton)
    except onnx.checker.ValidationError as exc:
        raise InputError(Problem(f"invalid ONNX model: {_first_line(exc)}", file=file)) from exc
    recheck = None
    try:
        inferred = onnx.shape_inference.infer_shapes(skeleton, check_type=False, strict_mode=True, data_prop=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError) as exc:
        recheck = _node_name(str(exc))
        if recheck is None:
            raise InputError(Problem(f"shape inference failed: {exc}", file=file)) from exc
        inferred = onnx.shape_inference.infer_shapes(skeleton, check_type=False, data_prop=True)
    types: dict[str, onnx.TypeProto] = {}
    for info in (*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output):
        if info.type.HasField("tensor_type"):
            types[info.name] = info.type
    for tensor in inferred.graph.initializer:
        types[tensor.name] = tensor_type(tensor)
    declared = {
        **{i.name: "graph.input" for i in graph.input},
        **{t.name: "graph.initializer" for t in graph.initializer},
        **{o.name: "graph.output" for o in graph.output},
    }
    absurd = [
        Problem(why, file=file, field=f"{declared.get(name, 'graph.value_info')}.{name}")
        for name, info in types.items()
        if (why := shape_problem(name, [d.dim_value for d in info.tensor_type.shape.dim if d.HasField("dim_value")]))
    ]
    if absurd:
        raise InputError(absurd)
    constants = dict(initializers)
    opsets = {default_domain(o.domain): o.version for o in model.opset_import}
    completion = Completion(types, constants, opsets.get("", 0), path.parent, file)
    outputs = tuple(o.name for o in graph.output)
    nodes = completion.run(list(zip(graph.node, skeleton.graph.node, strict=True)), outputs, recheck)
    if completion.problems:
        raise InputError(completion.problems)
    return LoadedModel(
        path=path,
        nodes=tuple(nodes),
        types=types,
        constants=constants,
        inputs=tuple(i.name for i in graph.input if i.name not in initializers),
        outputs=outputs,
        opsets=opsets,
        warnings=tuple(warnings),
    )


def _skeleton(
    model: onnx.ModelProto, initializers: Mapping[str, onnx.TensorProto]
) -> tuple[onnx.ModelProto, list[str]]:
    """The model onnx checks and infers, and a warning per op type whose nodes carry attributes its
    schema does not define (those attributes are left out). Nodes of the default domain that onnx has
    no schema for at the model's opset (``Gelu`` before opset 20, Stream's ``Silu``) move to a private
    domain, which onnx skips; :mod:`stream_onnx.fold` infers them."""
    graph = model.graph
    skeleton = onnx.ModelProto()
    skeleton.ir_version = model.ir_version
    skeleton.opset_import.extend(model.opset_import)
    skeleton.opset_import.append(onnx.helper.make_opsetid(_UNCHECKED, 1))
    skeleton.functions.extend(model.functions)
    out = skeleton.graph
    out.name = graph.name
    out.node.extend(graph.node)
    opset = next((o.version for o in model.opset_import if default_domain(o.domain) == ""), 0)
    warnings = _relax(out.node, opset)
    out.output.extend(o for o in graph.output if o.type.tensor_type.HasField("shape"))  # others: inferred
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
    return skeleton, warnings


def shape_problem(tensor: str, dims: Sequence[int]) -> str | None:
    """Why the static ``dims`` of ``tensor`` cannot be a workload's (a negative size, more than
    :data:`MAX_ELEMENTS` elements), or ``None``; checked before anything is allocated for it."""
    negative = [axis for axis, size in enumerate(dims) if size < 0]
    if negative:
        return f"tensor {tensor!r} has a negative size at axis {negative[0]} (shape {tuple(dims)})"
    count = math.prod(dims)
    if count > MAX_ELEMENTS:
        return (
            f"tensor {tensor!r} has {count:.3g} elements (shape {tuple(dims)}), more than the 2**40 accepted; "
            "check its dimensions"
        )
    return None


def _relax(nodes: Iterable[onnx.NodeProto], opset: int) -> list[str]:
    """Make the default-domain ``nodes`` acceptable to onnx, in place: drop attributes their schema
    does not define; move ops onnx has no schema for to a private domain. One warning per op type."""
    unknown: dict[str, tuple[set[str], list[str]]] = {}
    unchecked: dict[str, list[str]] = {}
    for node in nodes:
        if default_domain(node.domain):
            continue
        try:
            known = set(onnx.defs.get_schema(node.op_type, opset, "").attributes)
        except onnx.defs.SchemaError:
            node.domain = _UNCHECKED
            unchecked.setdefault(node.op_type, []).append(node.name)
            continue
        extra = [a for a in node.attribute if a.name not in known]
        if extra:
            names, named = unknown.setdefault(node.op_type, (set(), []))
            names.update(a.name for a in extra)
            named.append(node.name)
            for attribute in extra:
                node.attribute.remove(attribute)
    warnings = [
        f"{_nodes(named, op)} {'carry' if len(named) > 1 else 'carries'} attributes that ONNX {op} "
        f"(opset {opset}) does not define: {', '.join(sorted(names))}; they are ignored"
        for op, (names, named) in unknown.items()
    ]
    warnings += [
        f"{_nodes(named, op)}: ONNX defines no {op} at opset {opset}; not checked by onnx"
        for op, named in unchecked.items()
    ]
    return warnings


def _nodes(names: list[str], op_type: str) -> str:
    """``2 Gemm nodes ('a', 'b')``, at most three names shown."""
    shown = ", ".join(map(repr, names[:3])) + (", ..." if len(names) > 3 else "")
    return f"{len(names)} {op_type} node{'s' if len(names) > 1 else ''} ({shown})"


def _keeps_value(tensor: onnx.TensorProto) -> bool:
    small = element_count(tensor.dims) <= SMALL_TENSOR
    return tensor.data_location != onnx.TensorProto.EXTERNAL and small and has_data(tensor)


def _fix_symbolic_dims(skeleton: onnx.ModelProto, dims: Mapping[str, int]) -> None:
    for info in (*skeleton.graph.input, *skeleton.graph.output):
        for dim in info.type.tensor_type.shape.dim:
            if dim.HasField("dim_param") and dim.dim_param in dims:
                dim.dim_value = int(dims[dim.dim_param])


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _node_name(message: str) -> str | None:
    """The node an onnx inference error names, if any."""
    found = re.search(r"node name: ([^)]*)\)", message) or re.search(r"node name ([^.\s]+)", message)
    return found.group(1) if found and found.group(1) else None


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
