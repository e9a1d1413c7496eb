"""Einsum: one loop per letter (result letters first), MACs, and one clear error for what is not supported."""

from __future__ import annotations

import math

import pytest
from onnx import TensorProto, helper

from stream_core.errors import InputError
from stream_core.ir import NodeKind

F32 = TensorProto.FLOAT


def einsum(model, parse, equation, shapes, out_shape):
    names = [f"x{i}" for i in range(len(shapes))]
    node = helper.make_node("Einsum", names, ["y"], name="e", equation=equation)
    inputs = {n: (F32, s) for n, s in zip(names, shapes, strict=True)}
    return parse(model([node], inputs, {"y": (F32, out_shape)}, opset=12)).node("e")


def accesses(node):
    return [[str(e) for e in op.access] for op in node.operands]


@pytest.mark.parametrize(
    ("equation", "shapes", "out_shape", "loops"),
    [
        ("mk,kn->mn", [[4, 8], [8, 5]], [4, 5], {"m": 4, "n": 5, "k": 8}),
        ("bmk,bkn->bmn", [[3, 4, 8], [3, 8, 5]], [3, 4, 5], {"b": 3, "m": 4, "n": 5, "k": 8}),
        ("bhqd,bhkd->bhqk", [[1, 2, 6, 16], [1, 2, 7, 16]], [1, 2, 6, 7], {"b": 1, "h": 2, "q": 6, "k": 7, "d": 16}),
        ("ij,jk", [[4, 8], [8, 5]], [4, 5], {"i": 4, "k": 5, "j": 8}),  # implicit result: letters seen once
    ],
)
def test_two_operand_contractions(model, parse, equation, shapes, out_shape, loops):
    node = einsum(model, parse, equation, shapes, out_shape)
    assert list(node.sizes.items()) == list(loops.items())
    assert node.mac_op and node.macs == math.prod(loops.values())
    terms = equation.replace("->", ",").split(",")
    if "->" not in equation:
        terms.append("ik")
    assert accesses(node) == [list(term) for term in terms]


def test_bilinear_contracts_the_shared_head_dimension(model, parse):
    node = einsum(model, parse, "bhqd,bhkd->bhqk", [[1, 2, 6, 16], [1, 2, 7, 16]], [1, 2, 6, 7])
    assert node.reduction_dims == ("d",) and node.macs == 2 * 6 * 7 * 16


def test_one_operand_transpose_and_reduction(model, parse):
    transpose = einsum(model, parse, "ij->ji", [[3, 5]], [5, 3])
    assert transpose.kind is NodeKind.DATA_MOVEMENT and accesses(transpose) == [["i", "j"], ["j", "i"]]
    total = einsum(model, parse, "ij->i", [[3, 5]], [3])
    assert (total.kind, total.mac_op, total.reduction_dims) == (NodeKind.COMPUTE, False, ("j",))


@pytest.mark.parametrize(
    ("equation", "shapes", "out_shape", "why"),
    [
        ("ii->i", [[3, 3]], [3], "term 'ii' repeats a letter (a diagonal)"),
        ("...ij,...jk->...ik", [[2, 3, 4], [2, 4, 5]], [2, 3, 5], "an ellipsis ('...') is not supported"),
        ("ij,jk,kl->il", [[2, 3], [3, 4], [4, 5]], [2, 5], "3 operands are not supported"),
    ],
)
def test_unsupported_equations_are_one_clear_error(model, parse, equation, shapes, out_shape, why):
    with pytest.raises(InputError) as info:
        einsum(model, parse, equation, shapes, out_shape)
    (problem,) = info.value.problems
    assert problem.field == "graph.node.e.attribute.equation"
    assert problem.message.startswith(f"node 'e' (Einsum): equation {equation!r}: {why}; supported: one or two")
