"""The fused mapper on a group whose member reads another's rows through a transposed access (a folded
Transpose, as attention's ``Q @ K^T``): the producer streams its contraction, and the search offers the
group cut before the reader."""

from __future__ import annotations

from stream_tetra.mapper import MapperSettings, fast_candidates, intra_core_tiles, node_mapping, stream_break
from tetra_helpers import core

from stream_core import run
from stream_core.hardware import load_accelerator
from stream_core.ir import AffineExpr, LoopDim, Node, Operand, TensorSpec, Workload
from stream_core.ir.mapping import FusedGroup
from stream_core.testing import check_schedule

A = AffineExpr.of


def transposed_reader() -> Workload:
    """k = x @ wk (8x16 @ 16x4); s = q @ k^T (8x4 @ 4x8), reading k[n, c] as its (K, C): k's rows are
    the columns of s; p = softmax(s) over its columns. int8 throughout."""
    shapes = {"x": (8, 16), "wk": (16, 4), "k": (8, 4), "q": (8, 4), "s": (8, 8), "p": (8, 8)}
    tensors = {t: TensorSpec(t, shape, "int8") for t, shape in shapes.items()}
    k_proj = Node(
        "k_proj",
        "MatMul",
        [LoopDim("D", 8), LoopDim("K", 4), LoopDim("C", 16)],
        [
            Operand("input", "x", 8, (A("D"), A("C"))),
            Operand("weight", "wk", 8, (A("C"), A("K"))),
            Operand("output", "k", 8, (A("D"), A("K"))),
        ],
        mac_op=True,
    )
    scores = Node(
        "scores",
        "MatMul",
        [LoopDim("D", 8), LoopDim("K", 8), LoopDim("C", 4)],
        [
            Operand("input", "q", 8, (A("D"), A("C"))),
            Operand("input", "k", 8, (A("K"), A("C"))),  # the folded Transpose
            Operand("output", "s", 8, (A("D"), A("K"))),
        ],
        mac_op=True,
    )
    softmax = Node(
        "softmax",
        "Softmax",
        [LoopDim("D", 8), LoopDim("K", 8)],
        [Operand("input", "s", 8, (A("D"), A("K"))), Operand("output", "p", 8, (A("D"), A("K")))],
        attributes={"axis": -1},
    )
    nodes = [k_proj, scores, softmax]
    return Workload("transposed_reader", nodes, tensors, inputs=["x", "q"], outputs=["p"], constants=["wk"])


def test_the_producer_of_a_transposed_read_streams_its_contraction(plugins, hardware):
    """One core of 3,000 bits, half for tiles (1,500). k's rows (k_proj.D) are s's columns (scores.K),
    the softmax's normalised axis: never tiled. So k_proj streams its reduction C with the others' rows,
    r tiles each (C tile 16/r, D tile 8/r), needing (bits) k_proj x 64*C + wk 32*C + k 256, scores
    q 32*D + k 256 + s 64*D, softmax 64*D + 64*D: 96*C + 224*D + 512. r = 1: 3,840; r = 2: 2,176;
    r = 4: 384 + 448 + 512 = 1,344 <= 1,500. So 4 tiles of each node, 12 in all. With k_proj's rows
    as its stream no row count fit (k_proj alone 1,536 + 256): the rows went to 1, then k_proj's K and
    scores' C to 1 as well, 4 + 32 + 8 = 44 tiles."""
    acc = load_accelerator(hardware([core("a", memory_bits=3000)]), plugins)
    workload = transposed_reader()
    nodes = {n.name: node_mapping(n, acc, "homogeneous") for n in workload.nodes}
    tiles = intra_core_tiles(workload, list(workload.nodes), nodes, acc, MapperSettings())
    assert tiles == (("k_proj", "C", 4), ("scores", "D", 2), ("softmax", "D", 2))
    counts = {n.name: 1 for n in workload.nodes}
    for name, loop, tile in tiles:
        counts[name] *= workload.node(name).sizes[loop] // tile
    assert counts == {"k_proj": 4, "scores": 4, "softmax": 4}


def test_the_search_offers_the_group_cut_before_the_transposed_reader(plugins, hardware):
    """scores (position 1) reads k along its columns, which k_proj does not stream: it waits for the
    whole of k. The fast search keeps the group whole (the seed) and cut before scores, each part with
    its own tiling; an untransposed read (s into softmax, rows to rows) is no break."""
    acc = load_accelerator(hardware([core("a", memory_bits=3000)]), plugins)
    workload = transposed_reader()
    nodes = {n.name: node_mapping(n, acc, "homogeneous") for n in workload.nodes}
    members = list(workload.nodes)
    assert stream_break(workload, members, nodes, acc) == 1
    assert stream_break(workload, members[1:], nodes, acc) is None
    seed = FusedGroup(
        "group_0", [n.name for n in members], intra_core_tiles(workload, members, nodes, acc, MapperSettings())
    )
    candidates = fast_candidates(workload, acc, MapperSettings(), nodes, seed)
    cuts = [c for c in candidates if c.label.startswith("cut before scores")]
    assert candidates[0].label == "seed" and cuts
    assert all([g.nodes for g in c.groups] == [("k_proj",), ("scores", "softmax")] for c in cuts)
    outcome = run(workload, hardware([core("a", memory_bits=3000)]), plugins=plugins)
    assert check_schedule(outcome.result, outcome.problem) == []
