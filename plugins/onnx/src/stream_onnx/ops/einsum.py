"""Einsum over one or two operands, explicit index letters (Stream's loop order).

One loop per index letter, named by the letter: the result's letters first, then the contracted
ones in order of appearance. Each operand is indexed by its letters' loops. Two operands: one MAC per
iteration point (matmul-like ``mk,kn->mn``, batched ``bmk,bkn->bmn``, bilinear
``bhqd,bhkd->bhqk``). One operand: a sum over the letters it drops, or data movement when it only
reorders its axes.
"""

from __future__ import annotations

import onnx

from stream_core.ir import AffineExpr, Node, NodeKind, OperandRole
from stream_onnx.access import make_loops
from stream_onnx.graph import GraphView

_SUPPORTED = (
    "supported: one or two operands, one letter per axis (no '...', no letter repeated within an "
    "operand), result letters taken from the operands"
)


def einsum_terms(equation: str, operands: int) -> tuple[list[str], str]:
    """The index letters of each operand and of the result (implicit: the letters that appear once,
    in alphabetical order); a ``ValueError`` saying why an equation is not supported."""
    equation = equation.replace(" ", "")
    if "..." in equation:
        raise ValueError("an ellipsis ('...') is not supported")
    inputs, arrow, result = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != operands:
        raise ValueError(f"it names {len(terms)} operands but the node has {operands} inputs")
    if not 1 <= operands <= 2:
        raise ValueError(f"{operands} operands are not supported")
    letters = "".join(terms)
    if not arrow:
        result = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    for term in (*terms, result):
        if not term.isalpha() and term:
            raise ValueError(f"term {term!r} has characters other than letters")
        if len(set(term)) != len(term):
            raise ValueError(f"term {term!r} repeats a letter (a diagonal)")
    unknown = sorted(set(result) - set(letters))
    if unknown:
        raise ValueError(f"result letters {', '.join(unknown)} index no operand")
    return terms, result


def parse_einsum(node: onnx.NodeProto, graph: GraphView) -> list[Node]:
    """Loops: result letters, then contracted letters; each operand accessed by its letters."""
    equation = str(graph.attributes(node).get("equation", ""))
    try:
        terms, result = einsum_terms(equation, len(node.input))
    except ValueError as exc:
        raise graph.error(node, f"equation {equation!r}: {exc}; {_SUPPORTED}", attribute="equation") from exc
    sizes: dict[str, int] = {}
    for term, tensor in zip(terms, node.input, strict=True):
        shape = graph.shape(tensor)
        if len(shape) != len(term):
            raise graph.error(node, f"term {term!r} has {len(term)} letters but {tensor!r} has shape {list(shape)}")
        for letter, size in zip(term, shape, strict=True):
            if sizes.setdefault(letter, size) != size:
                raise graph.error(node, f"letter {letter!r} indexes axes of sizes {sizes[letter]} and {size}")
    order = [*result, *(c for c in dict.fromkeys("".join(terms)) if c not in result)]
    operands = [
        graph.operand(t, graph.role(t), [AffineExpr.of(c) for c in term])
        for term, t in zip(terms, node.input, strict=True)
    ]
    operands.append(graph.operand(node.output[0], OperandRole.OUTPUT, [AffineExpr.of(c) for c in result]))
    permutation = len(terms) == 1 and sorted(terms[0]) == sorted(result)
    return [
        graph.make_node(
            node,
            make_loops(order, [sizes[c] for c in order]),
            operands,
            kind=NodeKind.DATA_MOVEMENT if permutation else NodeKind.COMPUTE,
            mac_op=len(terms) == 2,
            attributes={"equation": f"{','.join(terms)}->{result}"},
        )
    ]
