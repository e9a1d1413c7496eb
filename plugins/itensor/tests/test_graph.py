"""Typing the edges of stream-core workloads: direct streams, converters, errors, windows, buffers."""

from __future__ import annotations

import pytest
from itensor_workloads import matmul_relu
from stream_itensor.api import KernelProfile as Prof
from stream_itensor.api import (
    KernelTiling,
    build_dataflow,
    build_stream_graph,
    connect,
    fuse,
    parse_itensor,
    tilings_from_mapping,
)
from stream_itensor.examples import resnet_basic_block

from stream_core.errors import InputError
from stream_core.ir import FusedGroup, Mapping, NodeMapping


def test_direct_stream_and_transpose_converter() -> None:
    g = build_stream_graph(
        matmul_relu(), {"mm": KernelTiling({"m": 2}), "relu": KernelTiling({"i": 2}), "tr": KernelTiling({"a": 1})}
    )
    mm = g.kernel("mm")
    assert str(mm.output.itype) == "itensor<2x8xf32, iter_space: [4]*[2], iter_map: (d0)->(d0,0)>"
    assert str(mm.inputs[0].itype) == "itensor<2x4xf32, iter_space: [4]*[2], iter_map: (d0)->(d0,0)>"
    # the weight is re-read whole every iteration: a repeated stream
    assert str(mm.inputs[1].itype) == "itensor<4x8xf32, iter_space: [4]*[1], iter_map: (d0)->(0,0)>"
    edges = {e.name: e for e in g.edges}
    assert set(edges) == {"mm->relu:y", "mm->tr:y"}
    assert edges["mm->relu:y"].direct
    # tr reads column a of y per iteration: a transpose, the converter holds the whole 8x8 tensor twice
    assert str(edges["mm->tr:y"].target) == "itensor<8x1xf32, iter_space: [8]*[1], iter_map: (d0)->(0,d0)>"
    conv = edges["mm->tr:y"].converter
    assert conv is not None and conv.buffer_shape == (8, 8) and conv.buffer_bits == 2 * 64 * 32


def test_shared_row_blocks_give_a_row_block_converter() -> None:
    # relu tiles 2x4 (row block outer, two column halves inner): the producer's 2x8 row blocks are shared
    g = build_stream_graph(matmul_relu(), {"mm": KernelTiling({"m": 2}), "relu": KernelTiling({"i": 2, "j": 4})})
    conv = next(e for e in g.edges if e.consumer == "relu").converter
    assert conv is not None and conv.shared_loops == 1 and conv.buffer_shape == (2, 8) and conv.instances == 4


def test_whole_layer_default() -> None:
    g = build_stream_graph(matmul_relu())
    for kernel in g.kernels:
        assert kernel.iterations == 1
        assert all(p.itype.num_tokens == 1 and p.itype.num_dims == 0 for p in kernel.ports)
    assert all(e.direct for e in g.edges)
    # local buffers = whole operands: mm reads 8x4 + 4x8 and writes 8x8 float32
    assert g.kernel("mm").local_bits == (32 + 32 + 64) * 32


def test_uniform_tiling_ignores_missing_loops() -> None:
    g = build_stream_graph(matmul_relu(), default=KernelTiling({"m": 4, "i": 4}))
    assert g.kernel("mm").iterations == 2 and g.kernel("relu").iterations == 2 and g.kernel("tr").iterations == 1


def test_local_buffer_with_outer_reduction_accumulates_the_output() -> None:
    wl = matmul_relu()
    inner = build_stream_graph(wl, {"mm": KernelTiling({"m": 2, "k": 2})})
    # tile: x 2x2, w 2x8, y 2x8 (k innermost: the 2x8 accumulator suffices)
    assert inner.kernel("mm").local_bits == (4 + 16 + 16) * 32
    outer = build_stream_graph(wl, {"mm": KernelTiling({"m": 2, "k": 2}, order=("k", "m"))})
    # k outermost: all of y (8x8) accumulates across k; tokens leave during the last k pass
    assert outer.kernel("mm").local_bits == (4 + 16 + 64) * 32
    port = outer.kernel("mm").output
    assert port.dims == (1,) and port.itype.num_tokens == 4
    (dfg,) = build_dataflow(fuse(outer), {"mm": Prof(1, 1), "relu": Prof(1, 1), "tr": Prof(1, 1)})
    channel = next(c for c in dfg.channels if c.producer == "mm")
    assert channel.produce_at == (4, 5, 6, 7)  # firings of the second (last) k pass


def test_tiling_problems_are_all_reported() -> None:
    with pytest.raises(InputError) as info:
        build_stream_graph(
            matmul_relu(),
            {"mm": KernelTiling({"m": 3, "q": 2}, order=("n", "zz")), "nope": KernelTiling({"m": 2})},
        )
    fields = sorted(p.field or "" for p in info.value.problems)
    assert fields == ["tiling.mm.order", "tiling.mm.tiles.m", "tiling.mm.tiles.q", "tiling.nope"]
    assert all(p.file == "mm.onnx" for p in info.value.problems)


def test_positional_loop_names() -> None:
    g = build_stream_graph(matmul_relu(), {"mm": KernelTiling({"D0": 4})})
    assert g.kernel("mm").tile_sizes == {"m": 4, "n": 8, "k": 4}


def test_partial_writer_is_an_error_naming_the_edge() -> None:
    with pytest.raises(InputError) as info:
        build_stream_graph(matmul_relu(out_rows=4))
    messages = [str(p) for p in info.value.problems]
    assert len(messages) == 2
    assert "edge mm -> relu (tensor 'y')" in messages[0] and "edge mm -> tr (tensor 'y')" in messages[1]
    assert info.value.problems[0].field == "edges.mm->relu.y"


def test_not_castable_edge_is_an_error_naming_the_edge() -> None:
    a = parse_itensor("itensor<2x2xf32, iter_space: [4,4]*[2,2], iter_map: (d0,d1)->(d0,d1)>")
    b = parse_itensor("itensor<2x2xf16, iter_space: [4,4]*[2,2], iter_map: (d0,d1)->(d1,d0)>")
    with pytest.raises(InputError) as info:
        connect("p", "q", "act", a, b, file="g.onnx")
    (problem,) = info.value.problems
    assert problem.file == "g.onnx" and problem.field == "edges.p->q.act"
    assert "edge p -> q (tensor 'act')" in problem.message and "element types differ" in problem.message


def test_convolution_window_lookahead() -> None:
    wl, tilings = resnet_basic_block(channels=4, height=8, width=8)
    g = build_stream_graph(wl, tilings)
    conv = g.kernel("conv1")
    port = conv.inputs[0]
    # the input stream carries one fresh row per output row; the 3x3 window (padding 1) needs row j+1 at step j
    assert str(port.itype) == "itensor<1x4x1x8xf32, iter_space: [8]*[1], iter_map: (d0)->(0,0,d0,0)>"
    assert port.lookahead == ((0, (1, 2, 3, 4, 5, 6, 7, 7)),)
    assert next(e for e in g.edges if e.consumer == "conv1").direct
    profiles = {k.name: Prof(1, 1) for k in g.kernels}
    (dfg,) = build_dataflow(fuse(g), profiles)
    channel = dfg.channel("relu0->conv1:y0")
    assert channel.consume_at == (0, 0, 1, 2, 3, 4, 5, 6)
    # local buffer: 3 input rows (halo) of 4x8, the 4x4x3x3 weights, one 4x8 output row
    assert conv.local_bits == (3 * 32 + 144 + 32) * 32


def test_tilings_from_mapping() -> None:
    wl = matmul_relu()
    mapping = Mapping(
        {n.name: NodeMapping(n.name, (0,)) for n in wl.nodes},
        [FusedGroup("g0", ["mm", "relu"], [("mm", "m", 2), ("relu", "i", 2)]), FusedGroup("g1", ["tr"])],
    )
    tilings = tilings_from_mapping(mapping)
    assert tilings == {"mm": KernelTiling({"m": 2}), "relu": KernelTiling({"i": 2}), "tr": KernelTiling()}
    g = build_stream_graph(wl, tilings)
    assert next(e for e in g.edges if e.consumer == "relu").direct
