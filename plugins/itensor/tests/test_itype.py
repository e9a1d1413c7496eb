"""The itensor type: the lecture's worked examples (a), (b), (c), the quiz, parsing and predicates."""

from __future__ import annotations

import pytest
from stream_itensor.api import AffineMap, AffineResult, ITensorType, parse_itensor

from stream_core.errors import InputError

A = "itensor<2x2xf32, iter_space: [4,4]*[2,2], iter_map: (d0,d1)->(d0,d1)>"
B = "itensor<4x2xf32, iter_space: [4,2]*[2,4], iter_map: (d0,d1)->(d1,d0)>"
C = "itensor<4x2xf32, iter_space: [4,2,2]*[2,1,4], iter_map: (d0,d1,d2)->(d2,d0)>"


def quiz(element: str) -> ITensorType:
    return parse_itensor(f"itensor<{element}xf32, iter_space: [4,2]*[2,4], iter_map: (d0,d1)->(d1,d0)>")


@pytest.mark.parametrize("text", [A, B, C])
def test_round_trip(text: str) -> None:
    assert str(parse_itensor(text)) == text


def test_example_a_row_major_tiles() -> None:
    t = parse_itensor(A)
    assert t.data_shape == (8, 8)
    points = list(t.iteration_points())
    assert points[:6] == [(0, 0), (0, 2), (0, 4), (0, 6), (2, 0), (2, 2)]
    assert list(t.offsets()) == [(2 * i, 2 * j) for i in range(4) for j in range(4)]
    assert t.is_regular and t.num_tokens == 16 and t.token_bits == 4 * 32


def test_example_b_transposed() -> None:
    t = parse_itensor(B)
    assert t.data_shape == (8, 8)
    assert list(t.iteration_points()) == [(0, 0), (0, 4), (2, 0), (2, 4), (4, 0), (4, 4), (6, 0), (6, 4)]
    assert list(t.offsets()) == [(0, 0), (4, 0), (0, 2), (4, 2), (0, 4), (4, 4), (0, 6), (4, 6)]
    assert t.is_regular and t.repeat_dims == ()


def test_example_c_transposed_and_repeated() -> None:
    t = parse_itensor(C)
    assert t.data_shape == (8, 8)
    points = list(t.iteration_points())
    assert points[:6] == [(0, 0, 0), (0, 0, 4), (0, 1, 0), (0, 1, 4), (2, 0, 0), (2, 0, 4)]
    offsets = list(t.offsets())
    assert offsets[:6] == [(0, 0), (4, 0), (0, 0), (4, 0), (0, 2), (4, 2)]
    # every 2-column block is streamed twice: 16 tokens covering 8 distinct tiles
    assert len(offsets) == 16 and len(set(offsets)) == 8
    assert t.repeat_dims == (1,)
    assert t.is_regular


def test_all_three_examples_are_castable_views_of_one_8x8_tensor() -> None:
    a, b, c = (parse_itensor(x) for x in (A, B, C))
    assert a.castable_to(b) and b.castable_to(c) and c.castable_to(a)
    assert not a.same_stream(b) and not b.same_stream(c)


@pytest.mark.parametrize(
    ("element", "shape", "regular", "covers"),
    [
        ("4x4", (8, 10), False, True),
        ("4x2", (8, 8), True, True),
        ("2x2", (6, 8), False, False),
        ("2x1", (6, 7), False, False),
    ],
)
def test_quiz(element: str, shape: tuple[int, int], regular: bool, covers: bool) -> None:
    t = quiz(element)
    assert t.data_shape == shape
    assert t.is_regular is regular
    assert t.covers is covers
    # same iteration space and map: same tile origins, whatever the element
    assert list(t.offsets()) == [(0, 0), (4, 0), (0, 2), (4, 2), (0, 4), (4, 4), (0, 6), (4, 6)]
    assert t.castable_to(parse_itensor(A)) is (shape == (8, 8))


def test_general_affine_results() -> None:
    t = parse_itensor("itensor<2x3xi8, iter_space: [3,2]*[1,2], iter_map: (i,j)->(i + j + 1,2*i)>")
    assert str(t) == "itensor<2x3xi8, iter_space: [3,2]*[1,2], iter_map: (d0,d1)->(d0 + d1 + 1,2*d0)>"
    assert t.dtype == "int8" and t.element_bits == 8
    # dim0 max = 2 + 2 + 1 = 5 -> 7, dim1 max = 4 -> 7
    assert t.data_shape == (7, 7)
    assert list(t.offsets())[:3] == [(1, 0), (3, 0), (2, 2)]
    assert not t.is_projected_permutation and not t.is_regular and not t.covers


def test_canonical_drops_single_trip_loops_and_repeat_steps() -> None:
    t = parse_itensor("itensor<4x2xf32, iter_space: [1,4,2,2]*[7,2,5,4], iter_map: (d0,d1,d2,d3)->(d3,d1 + d0)>")
    c = t.canonical()
    assert str(c) == "itensor<4x2xf32, iter_space: [4,2,2]*[2,1,4], iter_map: (d0,d1,d2)->(d2,d0)>"
    assert t.same_stream(parse_itensor(C))


def test_scalarize() -> None:
    s = parse_itensor(B).scalarize()
    assert str(s) == "itensor<1x1xf32, iter_space: [4,2,4,2]*[2,4,1,1], iter_map: (d0,d1,d2,d3)->(d1 + d2,d0 + d3)>"
    assert s.data_shape == (8, 8)
    assert sorted(s.offsets()) == [(i, j) for i in range(8) for j in range(8)]


def test_parse_reports_every_problem() -> None:
    with pytest.raises(InputError) as info:
        parse_itensor("itensor<4xqx3xf99, iter_space: [4,a]*[2,4], iter_map: (d0,d1)->(d1,d5)>", file="t.mlir")
    messages = [str(p) for p in info.value.problems]
    assert len(messages) == 4
    assert all(m.startswith("t.mlir: itensor.") for m in messages)
    assert any("'q'" in m for m in messages) and any("'f99'" in m for m in messages)
    assert any("'a'" in m for m in messages) and any("d5" in m for m in messages)


def test_verifier() -> None:
    with pytest.raises(InputError) as info:
        ITensorType((4,), "float32", (4, 2), (2,), AffineMap.permutation([1, 0]))
    fields = sorted(p.field or "" for p in info.value.problems)
    assert fields == ["itensor.iter_map", "itensor.iter_space"]
    with pytest.raises(InputError, match="reaches offset -1"):
        ITensorType((2,), "float32", (3,), (1,), AffineMap(1, (AffineResult(((0, 1),), -1),)))
    with pytest.raises(InputError, match="expected 'itensor<"):
        parse_itensor("tensor<8x8xf32>")
