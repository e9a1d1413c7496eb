"""Converter buffers by the shared-outer-loop rule (reference tables of itensor_fifo.md, section 2.1)."""

from __future__ import annotations

import pytest
from stream_itensor.api import NotCastableError, infer_converter, parse_itensor

A = parse_itensor("itensor<2x2xf32, iter_space: [4,4]*[2,2], iter_map: (d0,d1)->(d0,d1)>")
B = parse_itensor("itensor<4x2xf32, iter_space: [4,2]*[2,4], iter_map: (d0,d1)->(d1,d0)>")
C = parse_itensor("itensor<4x2xf32, iter_space: [4,2,2]*[2,1,4], iter_map: (d0,d1,d2)->(d2,d0)>")


def test_a_to_b_needs_the_full_tensor() -> None:
    conv = infer_converter(A, B)
    assert conv.buffer_shape == (8, 8)
    assert conv.shared_loops == 0 and conv.instances == 1
    assert (conv.tokens_in_per_instance, conv.tokens_out_per_instance) == (16, 8)
    assert conv.buffer_bits == 2 * 64 * 32  # ping-pong


def test_b_to_c_shares_the_outer_column_loop() -> None:
    conv = infer_converter(B, C)
    assert conv.buffer_shape == (8, 2)  # one 2-column block per outer iteration
    assert conv.shared_loops == 1 and conv.instances == 4
    # per column block: 2 tiles in, the same 2 tiles twice out
    assert (conv.tokens_in_per_instance, conv.tokens_out_per_instance) == (2, 4)
    assert conv.buffer_bits == 2 * 16 * 32
    assert infer_converter(B, C, ping_pong=False).buffer_bits == 16 * 32


def test_two_d_transpose_needs_the_full_tensor() -> None:
    rows = parse_itensor("itensor<1x8xf16, iter_space: [8]*[1], iter_map: (d0)->(d0,0)>")
    cols = parse_itensor("itensor<8x1xf16, iter_space: [8]*[1], iter_map: (d0)->(0,d0)>")
    conv = infer_converter(rows, cols)
    assert conv.buffer_shape == (8, 8) and conv.buffer_bits == 2 * 64 * 16


def test_batched_transpose_buffers_one_batch() -> None:
    bmn = parse_itensor("itensor<1x8x8xf32, iter_space: [4,2,2]*[1,8,8], iter_map: (d0,d1,d2)->(d0,d1,d2)>")
    bnm = parse_itensor("itensor<1x8x8xf32, iter_space: [4,2,2]*[1,8,8], iter_map: (d0,d1,d2)->(d0,d2,d1)>")
    conv = infer_converter(bmn, bnm)
    assert bmn.data_shape == (4, 16, 16)
    assert conv.buffer_shape == (1, 16, 16) and conv.instances == 4
    assert conv.buffer_bits == 2 * 256 * 32


def test_shared_repeat_loops() -> None:
    # both sides repeat the whole stream twice (outer loop unused by the map): the converter runs twice
    src = parse_itensor("itensor<4x2xf32, iter_space: [2,4,2]*[1,2,4], iter_map: (d0,d1,d2)->(d2,d1)>")
    dst = parse_itensor("itensor<4x2xf32, iter_space: [2,2,4]*[1,4,2], iter_map: (d0,d1,d2)->(d1,d2)>")
    conv = infer_converter(src, dst)
    assert conv.shared_loops == 1 and conv.instances == 2 and conv.buffer_shape == (8, 8)


def test_not_castable() -> None:
    with pytest.raises(NotCastableError, match="full shapes differ"):
        infer_converter(A, parse_itensor("itensor<4x4xf32, iter_space: [4,2]*[2,4], iter_map: (d0,d1)->(d1,d0)>"))
    with pytest.raises(NotCastableError, match="element types differ"):
        infer_converter(A, parse_itensor("itensor<4x2xbf16, iter_space: [4,2]*[2,4], iter_map: (d0,d1)->(d1,d0)>"))
    gaps = parse_itensor("itensor<2x2xf32, iter_space: [2,4]*[4,2], iter_map: (d0,d1)->(d0,d1)>")
    assert gaps.data_shape == (6, 8)
    with pytest.raises(NotCastableError, match="does not cover"):
        infer_converter(gaps, parse_itensor("itensor<6x8xf32, iter_space: []*[], iter_map: ()->(0,0)>"))


def test_overlapping_source_gets_a_full_buffer() -> None:
    overlap = parse_itensor("itensor<4x4xf32, iter_space: [4,2]*[2,4], iter_map: (d0,d1)->(d1,d0)>")
    whole = parse_itensor("itensor<8x10xf32, iter_space: []*[], iter_map: ()->(0,0)>")
    conv = infer_converter(overlap, whole)
    assert conv.buffer_shape == (8, 10) and conv.shared_loops == 0
