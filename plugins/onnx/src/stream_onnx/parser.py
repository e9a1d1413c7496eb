"""The ``onnx`` workload parser: ONNX file -> :class:`~stream_core.ir.Workload`.

Steps: load the protobuf; give nodes unique names; check the model, infer static shapes and fold
constant subgraphs (:mod:`stream_onnx.loader`); check that every op left has a parser (all missing
ones in one error); parse each node with the op parser chosen for its ``(domain, op_type)``
(:mod:`stream_onnx.dispatch`), collecting every problem; assemble the workload. Settings:
``onnx.dims`` fixes symbolic input dimensions (``{batch: 1}``); ``onnx.data_inputs`` lists the graph
inputs that carry data rather than parameters (default: the first graph input), which decides
operand roles where the op does not; ``onnx.fold_transpose`` (default true) folds a Transpose into its
readers' access; ``onnx.fold_reshape`` (default true) folds an affine Reshape/Flatten/Squeeze/
Unsqueeze into its readers (:mod:`stream_onnx.reshape_fold`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import onnx

from stream_core.context import RunContext, parse_flag
from stream_core.errors import InputError, Problem
from stream_core.ir import Node, TensorSpec, Workload
from stream_onnx.dispatch import OpParserTable
from stream_onnx.fold import default_domain
from stream_onnx.graph import GraphView
from stream_onnx.loader import LoadedModel, analyse, check_dims_setting, name_nodes, read_model
from stream_onnx.reshape_fold import fold_reshapes


class ONNXWorkloadParser:
    """Reads ``.onnx`` files; see the module docstring."""

    suffixes = (".onnx",)

    def parse(self, path: Path, context: RunContext) -> Workload:
        path = Path(path)
        file = str(path)
        model = read_model(path)
        name_nodes(model)
        dims = context.setting("onnx.dims")
        loaded = analyse(model, path, None if dims is None else check_dims_setting(dims))
        for warning in loaded.warnings:
            context.warn(warning)
        table = OpParserTable(context.plugins.registry("op_parsers"))
        check_supported(loaded.nodes, table, file)
        for warning in by_op_type(loaded.nodes, table):
            context.warn(warning)
        fold = flag_setting(context, "onnx.fold_transpose", True)
        graph = GraphView(loaded, data_inputs(loaded, context.setting("onnx.data_inputs")), fold_transpose=fold)
        check_specs(loaded, graph)
        nodes: list[Node] = []
        problems: list[Problem] = []
        for node in loaded.nodes:
            try:
                nodes.extend(table.lookup(node.domain, node.op_type)(node, graph))
            except InputError as exc:
                problems.extend(exc.problems)
        if problems:
            raise InputError(problems)
        if graph.folded_layouts:
            context.warn(folded_note(loaded, graph))
        if flag_setting(context, "onnx.fold_reshape", True):
            nodes, reshapes = fold_reshapes(nodes, loaded.outputs)
            if reshapes:
                context.warn(reshape_note(reshapes))
        return assemble(path, loaded, graph, nodes)


def folded_note(loaded: LoadedModel, graph: GraphView) -> str:
    """The note naming the layout nodes folded into their readers' access (as Stream 2.1.1 folds them)."""
    folded = [n for n in loaded.nodes if n.output and n.output[0] in graph.folded_layouts]
    listed = ", ".join(f"{n.name} ({n.op_type} perm={list(graph.folded_layouts[n.output[0]])})" for n in folded)
    return (
        f"layout nodes folded into their readers' access (no node or tiles of their own, as Stream 2.1.1 "
        f"does; --set onnx.fold_transpose=false keeps them as nodes): {listed}"
    )


def reshape_note(reshapes: Sequence[Node]) -> str:
    """The note naming the reshapes folded into their readers (:mod:`stream_onnx.reshape_fold`)."""
    listed = ", ".join(f"{n.name} ({n.op_type})" for n in reshapes)
    return (
        "reshapes folded into their readers' access, a reader's loop over a merged axis split into one loop "
        f"per original axis (as Stream 2.1.1 does; --set onnx.fold_reshape=false keeps them as nodes): {listed}"
    )


def check_supported(nodes: Iterable[onnx.NodeProto], table: OpParserTable, file: str) -> None:
    """One :class:`InputError` naming every op without a parser, its node count and nodes, and how to
    add one."""
    missing: dict[tuple[str, str], list[str]] = {}
    for node in nodes:
        if not table.has(node.domain, node.op_type):
            missing.setdefault((default_domain(node.domain), node.op_type), []).append(node.name)
    if not missing:
        return
    problems = []
    for (domain, op_type), names in missing.items():
        shown = ", ".join(repr(n) for n in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        where = "of the default ONNX domain (ai.onnx)" if not domain else f"of the custom domain {domain!r}"
        count = "1 node" if len(names) == 1 else f"{len(names)} nodes"
        problems.append(
            Problem(
                f"no op parser is registered for op {op_type!r} {where}, used by {count}: {shown}",
                file=file,
                field=f"graph.node.{names[0]}",
            )
        )
    problems.append(
        Problem(
            f"ops with a parser: {table.describe()}. A plugin adds or overrides one by yielding "
            "OpParserRecord(domain=..., op_type=..., factory=...) from the hook stream_register_op_parsers "
            "(docs/plugins.md); the parser interface is documented in stream_onnx.api",
            file=file,
        )
    )
    raise InputError(problems)


def by_op_type(nodes: Iterable[onnx.NodeProto], table: OpParserTable) -> list[str]:
    """One warning per custom-domain op parsed by the default domain's parser of its op type."""
    counts: dict[tuple[str, str], int] = {}
    for node in nodes:
        domain = default_domain(node.domain)
        if domain and table.key(domain, node.op_type) == ("", node.op_type):
            counts[domain, node.op_type] = counts.get((domain, node.op_type), 0) + 1
    return [
        f"no op parser is registered for {domain}:{op_type} ({count} node{'s' if count > 1 else ''}): parsed by "
        f"op type with the parser of {op_type} ({table.description(('', op_type)) or 'a plugin'}), as Stream does"
        for (domain, op_type), count in counts.items()
    ]


def flag_setting(context: RunContext, key: str, default: bool) -> bool:
    """A boolean ``--set`` key; an :class:`InputError` naming it when it is not true or false."""
    try:
        return parse_flag(context.setting(key, default))
    except ValueError as exc:
        raise InputError(Problem(str(exc), field=key)) from exc


def data_inputs(loaded: LoadedModel, setting: Any) -> tuple[str, ...]:
    """The graph inputs that carry data: the ``onnx.data_inputs`` setting, else the first graph input."""
    if setting is None:
        return loaded.inputs[:1]
    names = [setting] if isinstance(setting, str) else setting
    if not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names):
        raise InputError(Problem(f"expected a list of graph input names, got {setting!r}", field="onnx.data_inputs"))
    unknown = [n for n in names if n not in loaded.inputs]
    if unknown:
        raise InputError(
            Problem(
                f"{', '.join(map(repr, unknown))} are not graph inputs of {loaded.path}; "
                f"graph inputs: {', '.join(loaded.inputs) or 'none'}",
                field="onnx.data_inputs",
            )
        )
    return tuple(names)


def check_specs(loaded: LoadedModel, graph: GraphView) -> None:
    """Every graph input/output and every tensor the nodes exchange has a static shape and a known dtype."""
    consumed = {t for node in loaded.nodes for t in node.input if t}
    wanted: dict[str, None] = dict.fromkeys((*loaded.inputs, *loaded.outputs))
    for node in loaded.nodes:
        wanted.update(dict.fromkeys(t for t in node.input if t and not graph.is_constant(t)))
        wanted.update(dict.fromkeys(t for t in node.output if t in consumed))
    problems = [p for p in map(graph.spec_problem, wanted) if p is not None]
    if problems:
        raise InputError(problems)


def assemble(path: Path, loaded: LoadedModel, graph: GraphView, nodes: list[Node]) -> Workload:
    """The workload, after checking that every tensor a node reads is an input, a constant or produced."""
    file = str(path)
    tensors: dict[str, TensorSpec] = {t: graph.spec(t) for t in (*loaded.inputs, *loaded.outputs)}
    for node in nodes:
        for operand in node.operands:
            tensors.setdefault(operand.tensor, graph.spec(operand.tensor))
    produced = {node.output.tensor for node in nodes}
    inputs = set(loaded.inputs)
    onnx_producer = {t: n for n in loaded.nodes for t in n.output if t}
    problems = []
    for node in nodes:
        for operand in node.reads:
            tensor = operand.tensor
            if tensor in produced or tensor in inputs or graph.is_constant(tensor):
                continue
            source = onnx_producer.get(tensor)
            origin = (
                f"output of node {source.name!r} ({source.op_type}) that its op parser does not model"
                if source
                else "not defined in the graph"
            )
            problems.append(
                Problem(
                    f"node {node.name!r} reads tensor {tensor!r}, which is {origin}",
                    file=file,
                    field=f"graph.node.{node.name}",
                )
            )
    if problems:
        raise InputError(problems)
    try:
        return Workload(
            name=path.stem,
            nodes=nodes,
            tensors=tensors,
            inputs=loaded.inputs,
            outputs=loaded.outputs,
            constants=frozenset(t for t in tensors if graph.is_constant(t)),
            source=file,
        )
    except ValueError as exc:
        raise InputError(Problem(f"cannot build the workload: {exc}", file=file)) from exc
