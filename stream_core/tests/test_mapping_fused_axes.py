"""A fused group's intra_core_tiling tiles a fused axis (Stream 2.1.1's unique dimensions): the loops
of other nodes linked to a written one get the same tile (``FusedGroup.derived``), the written tiles
stay as they are (``FusedGroup.tiles``)."""

from __future__ import annotations

import pytest
from core_test_support import TOY_COMPUTE, write_yaml

from stream_core.errors import InputError
from stream_core.hardware import load_accelerator
from stream_core.ir import AffineExpr, LoopDim, Node, Operand, TensorSpec, Workload
from stream_core.mapping_io import load_mapping
from stream_core.testing import conv_node

of = AffineExpr.of


def gemm(name: str, a: str, w: str, y: str, d: int, c: int, k: int, loops: tuple[str, str, str] = ("D", "C", "K")):
    """``y[d, k] = a[d, c] @ w[c, k]``; ``loops`` names the loops of D, C (the reduction) and K."""
    ld, lc, lk = loops
    return Node(
        name,
        "Gemm",
        [LoopDim(ld, d), LoopDim(lc, c), LoopDim(lk, k)],
        [
            Operand("input", a, 8, (of(ld), of(lc))),
            Operand("weight", w, 8, (of(lc), of(lk))),
            Operand("output", y, 8, (of(ld), of(lk))),
        ],
        mac_op=True,
    )


def relu(name: str, x: str, y: str, rows: int, cols: int) -> Node:
    access = (of("D"), of("K"))
    return Node(
        name,
        "Relu",
        [LoopDim("D", rows), LoopDim("K", cols)],
        [Operand("input", x, 8, access), Operand("output", y, 8, access)],
    )


def workload(nodes: list[Node], shapes: dict[str, tuple[int, ...]], inputs: list[str], outputs: list[str]) -> Workload:
    tensors = {t: TensorSpec(t, shape, "int8") for t, shape in shapes.items()}
    return Workload("w", nodes, tensors, inputs=inputs, outputs=outputs)


@pytest.fixture
def load(tmp_path, toy_plugins, toy_hardware):
    """Load a one-group mapping (every node on core 0, ``tiles`` as 'Node.Dn': tile) for a workload."""
    acc = load_accelerator(toy_hardware(n=1, compute={**TOY_COMPUTE, "memory_bits": 2**24}), toy_plugins)

    def run(wl: Workload, tiles: dict[str, int]):
        data = {
            "layers": [{"name": n.name, "core_allocation": [[0]]} for n in wl.nodes],
            "fused_groups": [
                {
                    "name": "g",
                    "layers": [n.name for n in wl.nodes],
                    "intra_core_tiling": [{"dim": dim, "tile": tile} for dim, tile in tiles.items()],
                }
            ],
        }
        return load_mapping(write_yaml(tmp_path / "m.yaml", data), wl, acc)

    return run


def test_tiling_the_producer_tiles_the_consumer_along_each_tensor_axis(load):
    """mm1: h[8, 8] = a[8, 16] @ w1[16, 8]; mm2: y[8, 4] = h[8, 8] @ w2[8, 4]. mm2 reads h's rows with
    its D and h's columns with its reduction C, so tiling mm1's D (D0) to 4 and K (D2) to 2 tiles mm2's
    D to 4 and C to 2 (Stream links reduction loops too); mm2's K stays whole."""
    wl = workload(
        [gemm("mm1", "a", "w1", "h", 8, 16, 8), gemm("mm2", "h", "w2", "y", 8, 8, 4)],
        {"a": (8, 16), "w1": (16, 8), "h": (8, 8), "w2": (8, 4), "y": (8, 4)},
        ["a", "w1", "w2"],
        ["y"],
    )
    mapping = load(wl, {"mm1.D0": 4, "mm1.D2": 2})
    [group] = mapping.groups
    assert group.tiles == (("mm1", "D", 4), ("mm1", "K", 2))
    assert group.derived == (("mm2", "D", 4), ("mm2", "C", 2))
    assert group.tile_sizes("mm2") == {"D": 4, "C": 2}
    assert any("one fused axis with the entries" in n and "mm2 D 4, C 2" in n for n in mapping.notes)


def test_readers_of_one_input_share_a_loop_only_where_one_of_them_reduces_it(load):
    """left and right both read x[8, 16]: its rows are an output loop (D) of both, so they stay two
    axes; its columns are both reductions (C), one axis. Tiling left's D and C tiles right's C only."""
    wl = workload(
        [gemm("left", "x", "wl", "yl", 8, 16, 4), gemm("right", "x", "wr", "yr", 8, 16, 4)],
        {"x": (8, 16), "wl": (16, 4), "wr": (16, 4), "yl": (8, 4), "yr": (8, 4)},
        ["x", "wl", "wr"],
        ["yl", "yr"],
    )
    [group] = load(wl, {"left.D0": 2, "left.D1": 4}).groups
    assert group.derived == (("right", "C", 4),)


def pooled_workload() -> Workload:
    """conv (16 x 16 outputs) -> pool: 2 x 2 window, stride 2, pad 0 on 16 rows gives 8 rows, and
    2 * 8 = 16 covers the whole axis: the pool's OY steps the conv's OY two rows at a time."""
    pool = Node(
        "pool",
        "MaxPool",
        [LoopDim("B", 1), LoopDim("K", 4), LoopDim("OY", 8), LoopDim("OX", 8), LoopDim("FY", 2), LoopDim("FX", 2)],
        [
            Operand(
                "input",
                "c",
                8,
                (of("B"), of("K"), AffineExpr((("OY", 2), ("FY", 1))), AffineExpr((("OX", 2), ("FX", 1)))),
            ),
            Operand("output", "p", 8, (of("B"), of("K"), of("OY"), of("OX"))),
        ],
    )
    nodes = [conv_node("conv", c=2, k=4, oy=16, ox=16, tensors=("x", "w", "c")), pool]
    shapes = {"x": (1, 2, 16, 16), "w": (4, 2, 3, 3), "c": (1, 4, 16, 16), "p": (1, 4, 8, 8)}
    return workload(nodes, shapes, ["x", "w"], ["p"])


def test_a_strided_reader_steps_its_producer_in_whole_strides(load):
    """Tiling the pool's OY (D2) to 1 tiles the conv's OY (D2) to 2; its OX (D3) to 2, the conv's OX to 4."""
    [group] = load(pooled_workload(), {"pool.D2": 1, "pool.D3": 2}).groups
    assert group.derived == (("conv", "OX", 4), ("conv", "OY", 2))


def test_a_producer_tile_must_be_whole_strides_of_its_strided_reader(load):
    with pytest.raises(InputError) as info:
        load(pooled_workload(), {"conv.D2": 3})
    assert "tile 3 of conv.D2 is not a multiple of 2, the stride pool.OY steps it by" in str(info.value)


def test_entries_cutting_one_fused_axis_differently_are_an_error(load):
    """Conv2 reads Conv1's output rows through a padded 3 x 3 window (OY + FY - 1, 32 rows of 32): one
    axis, so tiles 8 and 4 of the two OY loops disagree (Stream 2.1.1 rejects this too)."""
    c1 = conv_node("Conv1", c=2, k=4, oy=32, ox=32, tensors=("in", "w1", "mid"))
    c2 = conv_node("Conv2", c=4, k=4, oy=32, ox=32, tensors=("mid", "w2", "out"))
    shapes = {
        "in": (1, 2, 32, 32),
        "w1": (4, 2, 3, 3),
        "mid": (1, 4, 32, 32),
        "w2": (4, 4, 3, 3),
        "out": (1, 4, 32, 32),
    }
    wl = workload([c1, c2], shapes, ["in", "w1", "w2"], ["out"])
    with pytest.raises(InputError) as info:
        load(wl, {"Conv1.D2": 8, "Conv2.D2": 4})
    assert "Conv2.D2 and Conv1.D2 cut one fused axis differently (Conv1.OY: 4 against 8)" in str(info.value)
    [group] = load(wl, {"Conv1.D2": 8, "Conv2.D2": 8}).groups
    assert group.derived == ()


def test_a_shared_axis_that_would_join_two_loops_of_one_node_is_held(load):
    """t[S=8, E=4] feeds q = relu(t) and k = relu(t); scores[I, J] = q[I, E] . k[J, E]. Linking t's rows
    to both q and k would make scores' I and J one axis, so that axis of t is held (Stream 2.1.1): q's
    rows stay one axis with I only, k's with J, t's producer with neither. Its columns E link all four."""
    scores = Node(
        "scores",
        "MatMul",
        [LoopDim("I", 8), LoopDim("J", 8), LoopDim("E", 4)],
        [
            Operand("input", "q", 8, (of("I"), of("E"))),
            Operand("input", "k", 8, (of("J"), of("E"))),
            Operand("output", "s", 8, (of("I"), of("J"))),
        ],
        mac_op=True,
    )
    nodes = [relu("src", "x", "t", 8, 4), relu("rq", "t", "q", 8, 4), relu("rk", "t", "k", 8, 4), scores]
    shapes = {t: (8, 4) for t in "xtqk"} | {"s": (8, 8)}
    [group] = load(workload(nodes, shapes, ["x"], ["s"]), {"rq.D0": 2, "rq.D1": 1}).groups
    assert group.derived == (("src", "K", 1), ("rk", "K", 1), ("scores", "I", 2), ("scores", "E", 1))
