"""The workload as the U55C kernels take it, before any planning or code generation:

1. nodes whose output neither leaves the graph nor reaches a graph output are left out (a warning names
   them): no hardware computes what nothing reads;
2. every node is checked (:func:`stream_fpga_u55c.ops.unsupported`): one ``InputError`` lists each node
   without a kernel, naming the op and why, so nothing is generated for a workload that cannot compile;
3. the weights' values are read, or generated when the model has none (:mod:`stream_fpga_u55c.weights`);
4. a ``BatchNormalization`` whose input is a ``Conv`` output read by nothing else, with constant
   statistics and constant convolution weights, is folded into that convolution, as inference exports
   do: ``W' = W * s``, ``b' = (b - mean) * s + beta`` with ``s = gamma / sqrt(var + eps)`` per output
   channel. Any other BatchNormalization stays a kernel of its own.
"""

from __future__ import annotations

import attrs
import numpy as np

from stream_core.context import RunContext
from stream_core.errors import InputError, Problem
from stream_core.ir import AffineExpr, Node, Operand, OperandRole, TensorSpec, Workload
from stream_fpga_u55c import ops
from stream_fpga_u55c.weights import Weights, load_weights


@attrs.frozen
class Prepared:
    workload: Workload
    weights: Weights
    #: ``(batchnorm, conv)`` pairs folded.
    folded: tuple[tuple[str, str], ...] = ()

    def summary(self) -> str:
        lines = [self.weights.summary()]
        if self.folded:
            pairs = ", ".join(f"{bn} into {conv}" for bn, conv in self.folded)
            lines.append(f"batch normalisation folded into the convolution weights: {pairs}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {**self.weights.to_dict(), "batchnorm_folded": [list(pair) for pair in self.folded]}


def check_supported(workload: Workload) -> None:
    """One error naming every node the U55C kernels cannot compute, and why."""
    problems = []
    for node in workload.nodes:
        reason = ops.unsupported(node)
        if reason:
            problems.append(
                Problem(
                    f"node {node.name!r}: op {node.op_type!r} cannot be compiled for the U55C: {reason}",
                    file=workload.source,
                    field=f"graph.node.{node.name}",
                )
            )
    if problems:
        raise InputError(problems)


def prepare_workload(workload: Workload, context: RunContext) -> Prepared:
    """Check, read or generate the weights, fold batch normalisations (see the module docstring)."""
    workload = _live(workload, context)
    check_supported(workload)
    narrow = sorted({spec.dtype for spec in workload.tensors.values() if spec.dtype != "float32"})
    if narrow:
        context.warn(f"{workload.name}: tensors of type {', '.join(narrow)} are computed and stored as float32")
    names = sorted({op.tensor for n in workload.nodes for op in n.reads if op.tensor in workload.constants})
    weights = load_weights(workload, names, context)
    values = dict(weights.values)
    folded = []
    for bn in [n for n in workload.nodes if n.op_type == "BatchNormalization"]:
        conv = _foldable_conv(workload, bn)
        if conv is None:
            continue
        workload, new_values = _fold(workload, conv, bn, values)
        values.update(new_values)
        folded.append((bn.name, conv.name))
    weights = attrs.evolve(weights, values=values)
    return Prepared(workload, weights, tuple(folded))


def _live(workload: Workload, context: RunContext) -> Workload:
    """``workload`` without the nodes no graph output depends on."""
    needed = set(workload.outputs)
    live = []
    for node in reversed(workload.nodes):
        if node.output.tensor in needed:
            live.append(node)
            needed.update(op.tensor for op in node.reads)
    if len(live) == len(workload.nodes):
        return workload
    dead = [n.name for n in workload.nodes if n not in live]
    context.warn(f"{workload.name}: no graph output depends on node(s) {', '.join(dead)}; they are not compiled")
    return _rebuilt(workload, live[::-1], workload.constants)


def _rebuilt(workload: Workload, nodes: list[Node], constants: set[str] | frozenset[str]) -> Workload:
    """``workload`` with ``nodes``, keeping the tensors and constants they use."""
    used = {op.tensor for n in nodes for op in n.operands}
    return Workload(
        workload.name,
        nodes,
        {k: v for k, v in workload.tensors.items() if k in used or k in workload.inputs},
        workload.inputs,
        workload.outputs,
        {c for c in constants if c in used},
        workload.source,
    )


def _foldable_conv(workload: Workload, bn: Node) -> Node | None:
    x = bn.reads[0].tensor
    conv = workload.producer(x)
    if conv is None or conv.op_type != "Conv":
        return None
    constant = all(op.tensor in workload.constants for op in (*bn.reads[1:], *conv.reads[1:]))
    if workload.consumers(x) != (bn,) or x in workload.outputs or not constant:
        return None
    return conv


def _fresh(workload: Workload, taken: set[str], base: str) -> str:
    name, n = base, 1
    while name in workload.tensors or name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def _fold(
    workload: Workload, conv: Node, bn: Node, values: dict[str, np.ndarray]
) -> tuple[Workload, dict[str, np.ndarray]]:
    gamma, beta, mean, var = (values[op.tensor].astype(np.float64) for op in bn.reads[1:5])
    scale = gamma / np.sqrt(var + float(bn.attribute("epsilon", 1e-5)))
    weight_op = conv.reads[1]
    weight = values[weight_op.tensor].astype(np.float64)
    channels = weight.shape[0]
    bias = values[conv.reads[2].tensor].astype(np.float64) if len(conv.reads) > 2 else np.zeros(channels)
    taken: set[str] = set()
    w_name = _fresh(workload, taken, f"{weight_op.tensor}_bn")
    b_name = _fresh(workload, taken, f"{conv.name}_bn_bias")
    new_values = {
        w_name: (weight * scale.reshape((channels,) + (1,) * (weight.ndim - 1))).astype("<f4"),
        b_name: ((bias - mean) * scale + beta).astype("<f4"),
    }
    out = bn.output
    channel_access: tuple[AffineExpr, ...] = (conv.output.access[1],) if conv.output.access else ()
    operands = [
        conv.reads[0],
        attrs.evolve(weight_op, tensor=w_name),
        Operand(OperandRole.WEIGHT, b_name, 32, channel_access, (channels,), "float32"),
        attrs.evolve(conv.output, tensor=out.tensor, shape=out.shape, dtype=out.dtype),
    ]
    fused = attrs.evolve(conv, operands=tuple(operands))
    nodes = [fused if n.name == conv.name else n for n in workload.nodes if n.name != bn.name]
    extended = attrs.evolve(
        workload,
        tensors={
            **workload.tensors,
            w_name: TensorSpec(w_name, weight.shape, "float32"),
            b_name: TensorSpec(b_name, (channels,), "float32"),
        },
    )
    return _rebuilt(extended, nodes, workload.constants | {w_name, b_name}), new_values
