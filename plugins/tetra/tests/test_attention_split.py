"""The fast mapping search's split for attention's second half: the nodes fed from inside the group
split over rows (as a softmax must), the first layer (reading only the group's inputs) keeps its own
split (which part of the input and weights each core fetches; on stream-dse 2.1.1's tpu_like_quad_core
x attention_head ZigZag prices a projection split over columns 20 % below one split over rows)."""

from __future__ import annotations

from stream_tetra.mapper import MapperSettings, fast_candidates, halved_contractions, intra_core_tiles, node_mapping
from tetra_helpers import core

from stream_core import RunOptions, run
from stream_core.hardware import load_accelerator
from stream_core.ir import AffineExpr, LoopDim, Node, Operand, TensorSpec, Workload
from stream_core.ir.mapping import FusedGroup
from stream_core.testing import check_schedule

A = AffineExpr.of
LABEL = "split over rows past the group's inputs"


def projection_then_softmax() -> Workload:
    """q = x @ wq (8x16 @ 16x4); s = q @ kt (8x4 @ 4x8, kt a graph input); p = softmax(s) over its
    columns. int8 throughout."""
    shapes = {"x": (8, 16), "wq": (16, 4), "q": (8, 4), "kt": (4, 8), "s": (8, 8), "p": (8, 8)}
    tensors = {t: TensorSpec(t, shape, "int8") for t, shape in shapes.items()}

    def matmul(name: str, a: str, b: str, out: str, d: int, k: int, c: int) -> Node:
        loops = [LoopDim("D", d), LoopDim("K", k), LoopDim("C", c)]
        operands = [
            Operand("input", a, 8, (A("D"), A("C"))),
            Operand("weight" if b == "wq" else "input", b, 8, (A("C"), A("K"))),
            Operand("output", out, 8, (A("D"), A("K"))),
        ]
        return Node(name, "MatMul", loops, operands, mac_op=True)

    softmax = Node(
        "softmax",
        "Softmax",
        [LoopDim("D", 8), LoopDim("K", 8)],
        [Operand("input", "s", 8, (A("D"), A("K"))), Operand("output", "p", 8, (A("D"), A("K")))],
        attributes={"axis": -1},
    )
    nodes = [matmul("q_proj", "x", "wq", "q", 8, 4, 16), matmul("scores", "q", "kt", "s", 8, 8, 4), softmax]
    return Workload("projection_then_softmax", nodes, tensors, inputs=["x", "kt"], outputs=["p"], constants=["wq"])


def test_the_nodes_fed_inside_the_group_split_over_rows_the_first_layer_keeps_its_split(plugins, hardware):
    """Two identical cores. The mapper splits q_proj and scores over their columns (K: the rows stream
    in time) and cannot split the softmax (its columns are the normalised axis). Split over rows
    throughout, q_proj splits D; the new candidate keeps q_proj on K and splits scores and softmax
    (both fed by a member) over D."""
    spec = hardware([core("a", memory_bits=100_000), core("b", memory_bits=100_000)])
    acc = load_accelerator(spec, plugins)
    workload = projection_then_softmax()
    nodes = {n.name: node_mapping(n, acc, "homogeneous") for n in workload.nodes}
    assert {n: m.split for n, m in nodes.items()} == {"q_proj": (("K", 2),), "scores": (("K", 2),), "softmax": ()}
    members = list(workload.nodes)
    seed = FusedGroup(
        "group_0", [n.name for n in members], intra_core_tiles(workload, members, nodes, acc, MapperSettings())
    )
    found = {c.label.split(", ")[0]: c for c in fast_candidates(workload, acc, MapperSettings(), nodes, seed)}
    assert {n: m.split for n, m in found["split over rows"].nodes.items()} == {
        "q_proj": (("D", 2),),
        "scores": (("D", 2),),
        "softmax": (("D", 2),),
    }
    past = found[LABEL]
    assert {n: m.split for n, m in past.nodes.items()} == {
        "q_proj": (("K", 2),),
        "scores": (("D", 2),),
        "softmax": (("D", 2),),
    }
    outcome = run(workload, spec, plugins=plugins)
    assert check_schedule(outcome.result, outcome.problem) == []


def test_the_first_layer_streams_its_contraction_in_twice_the_seeds_tiles(plugins, hardware):
    """One core, memory for everything: the seed is untiled. q_proj reads only the group's inputs (x,
    wq), scores and softmax read q and s: only q_proj's contraction C (16) goes to two tiles of 8; the
    rows and the others stay whole. Halving a tiled seed doubles its count: C in 2 -> 4 tiles of 4."""
    acc = load_accelerator(hardware([core("a", memory_bits=100_000)]), plugins)
    workload = projection_then_softmax()
    nodes = {n.name: node_mapping(n, acc, "homogeneous") for n in workload.nodes}
    names = [n.name for n in workload.nodes]
    seed = FusedGroup("group_0", names, ())
    (halved,) = halved_contractions(workload, acc, MapperSettings(), nodes, seed)
    assert halved.groups[0].tiles == (("q_proj", "C", 8),)
    assert halved.label == "first layer's contraction halved, tiles q_proj.C=8"
    again = halved_contractions(
        workload, acc, MapperSettings(), nodes, FusedGroup("group_0", names, (("q_proj", "C", 8),))
    )
    assert again[0].groups[0].tiles == (("q_proj", "C", 4),)
    alone = FusedGroup("group_0", ["q_proj"], ())
    assert halved_contractions(workload, acc, MapperSettings(), nodes, alone) == []


def test_past_the_runs_time_limit_the_search_keeps_the_seed_and_says_so(plugins, hardware):
    """A 1 ms limit has passed before the map stage (reading the inputs takes longer): the group has
    alternatives but is not searched; the mapper's own mapping is kept and a note names the group."""
    spec = hardware([core("a", memory_bits=100_000), core("b", memory_bits=100_000)])
    outcome = run(projection_then_softmax(), spec, plugins=plugins, options=RunOptions(time_limit=0.001))
    notes = outcome.problem.mapping.notes
    assert "not searched, the run's time limit having passed: group_0 (the mapper's own mapping)" in notes
    assert {n: m.split for n, m in outcome.problem.mapping.nodes.items()} == {
        "q_proj": (("K", 2),),
        "scores": (("K", 2),),
        "softmax": (),
    }
