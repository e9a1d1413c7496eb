"""IR invariants: derived counts, access relations, validation, graph structure, routing."""

from __future__ import annotations

import itertools

import attrs
import pytest

from stream_core.ir import (
    AffineExpr,
    Link,
    LoopDim,
    Node,
    Operand,
    OperandRole,
    TensorSpec,
    Workload,
    link_directions,
)
from stream_core.testing import conv_node as conv
from stream_core.testing import matmul_workload as matmul
from stream_core.testing import relu_chain

A = AffineExpr.of


def test_tensor_sizes_follow_dtype():
    t = TensorSpec("x", (2, 3, 4), "bfloat16")
    assert (t.num_elements, t.bits_per_element, t.size_bits) == (24, 16, 384)
    with pytest.raises(ValueError, match="unknown dtype"):
        TensorSpec("x", (2,), "float7")


def test_conv_window_access_is_exact():
    # iy = 2*oy + fy - 1 with oy in [0,4), fy in [0,3): reached rows -1..7, 9 of them; clipped to [0,8) -> 8
    expr = AffineExpr((("OY", 2), ("FY", 1)), -1)
    ranges = {"OY": (0, 4), "FY": (0, 3)}
    assert expr.interval(ranges) == (-1, 8)
    assert expr.distinct_count(ranges) == len({2 * o + f - 1 for o in range(4) for f in range(3)}) == 9
    assert expr.distinct_count(ranges, (0, 8)) == 8


@pytest.mark.parametrize("stride,dilation,n_o,n_f", [(3, 1, 3, 2), (1, 2, 4, 3), (4, 3, 5, 2), (2, 5, 3, 3)])
def test_distinct_count_matches_enumeration(stride, dilation, n_o, n_f):
    expr = AffineExpr((("O", stride), ("F", dilation)))
    ranges = {"O": (0, n_o), "F": (0, n_f)}
    expected = len({stride * o + dilation * f for o, f in itertools.product(range(n_o), range(n_f))})
    assert expr.distinct_count(ranges) == expected


def test_macs_are_derived_from_loops():
    node = matmul(4, 5, 6).node("mm")
    assert node.macs == 4 * 5 * 6
    assert node.reduction_dims == ("C",)
    tile = node.with_sizes({"D": 2})
    assert tile.macs == 2 * 5 * 6
    relu = relu_chain(8).node("relu_0")
    assert relu.macs == 0 and relu.iteration_points == 8


def test_conv_footprints():
    node = conv(c=8, k=16, oy=8, ox=8, fy=3, fx=3, stride=1, pad=1)
    x_op, w_op, y_op = node.operands
    assert node.sizes == {"B": 1, "OX": 8, "OY": 8, "FX": 3, "FY": 3, "C": 8, "K": 16}
    # unclipped input window for 8 outputs and a 3-tap filter: 10 rows x 10 cols x 8 channels
    assert node.footprint_elements(x_op) == 10 * 10 * 8
    assert node.footprint_elements(x_op, TensorSpec("x", (1, 8, 8, 8), "int8")) == 8 * 8 * 8
    assert node.footprint_bits(w_op) == 16 * 8 * 9 * 8
    assert node.footprint_elements(y_op) == 16 * 64


def test_positional_dimension_references():
    node = conv()
    assert node.resolve_dim("D6") == "K" and node.resolve_dim("K") == "K" and node.resolve_dim("D0") == "B"
    with pytest.raises(KeyError):
        node.resolve_dim("D7")


def test_signature_ignores_names_but_not_shapes():
    a = matmul(4, 5, 6).node("mm")
    b = matmul(4, 5, 6).node("mm")
    renamed = Node(
        "other",
        a.op_type,
        a.loops,
        [attrs.evolve(o, tensor="z" + o.tensor) for o in a.operands],
        mac_op=True,
    )
    assert a.signature() == b.signature() == renamed.signature()
    assert a.signature() != a.with_sizes({"D": 2}).signature()


def test_node_validation():
    with pytest.raises(ValueError, match="unique"):
        Node("n", "Relu", [LoopDim("D0", 2), LoopDim("D0", 3)], [Operand("output", "y", 8, (A("D0"),))])
    with pytest.raises(ValueError, match="unknown loops"):
        Node("n", "Relu", [LoopDim("D0", 2)], [Operand("output", "y", 8, (A("D9"),))])
    with pytest.raises(ValueError, match="no output"):
        Node("n", "Relu", [LoopDim("D0", 2)], [Operand("input", "y", 8, (A("D0"),))])
    with pytest.raises(ValueError, match="size >= 1"):
        LoopDim("D0", 0)


def test_workload_graph_and_order():
    w = relu_chain(4, length=3)
    assert [n.name for n in w.nodes] == ["relu_0", "relu_1", "relu_2"]
    assert w.producer("t2").name == "relu_1" and w.producer("t0") is None
    assert [n.name for n in w.consumers("t1")] == ["relu_1"]
    assert list(w.graph.edges(data="tensors")) == [("relu_0", "relu_1", ("t1",)), ("relu_1", "relu_2", ("t2",))]


def test_workload_rejects_cycles_and_double_producers():
    t = {n: TensorSpec(n, (2,), "int8") for n in "abc"}

    def relu(name, src, dst):
        return Node(
            name,
            "Relu",
            [LoopDim("D0", 2)],
            [Operand("input", src, 8, (A("D0"),)), Operand("output", dst, 8, (A("D0"),))],
        )

    with pytest.raises(ValueError, match="cycle"):
        Workload("w", [relu("r1", "a", "b"), relu("r2", "b", "a")], t)
    with pytest.raises(ValueError, match="produced by both"):
        Workload("w", [relu("r1", "a", "b"), relu("r2", "c", "b")], t, inputs=["a", "c"])
    with pytest.raises(ValueError, match="unknown tensor"):
        Workload("w", [relu("r1", "a", "zz")], t)


def test_workload_gives_operands_their_tensor_shape_and_dtype():
    w = matmul(4, 5, 6, dtype="bfloat16")
    a, weights, y = w.node("mm").operands
    assert (a.shape, a.dtype, weights.shape, y.shape) == ((4, 5), "bfloat16", (5, 6), (4, 6))
    assert w.node("mm").signature() != matmul(4, 5, 6, dtype="float16").node("mm").signature()


def test_link_directions_walk_outward_from_the_source():
    """0 -link0- 1 -link1- 2, and a bus joining 0 and 1: from core 2 both links are crossed from their
    second core (backward); from core 0 forward; a bus is never backward."""
    link0, link1, bus = Link(0, "link", (0, 1), 8), Link(1, "link", (1, 2), 8), Link(2, "bus", (0, 1), 8)
    assert link_directions([link0, link1], 2) == {1: True, 0: True}
    assert link_directions([link0, link1], 0) == {0: False, 1: False}
    assert link_directions([bus], 1) == {2: False} and not bus.duplex and link0.duplex
    assert link_directions([link1], 0) == {}  # not reached from core 0


def test_transfer_roles_follow_the_producer_and_the_reader():
    """A graph input is read and written as what its reader takes it for (``w`` is mm's weight); a
    produced tensor is read from its producer's output memory; a tensor no node reads is an output."""
    mm = matmul(4, 4, 4)
    assert mm.transfer_roles("w") == (OperandRole.WEIGHT, OperandRole.WEIGHT)
    assert mm.transfer_roles("a", "mm") == (OperandRole.INPUT, OperandRole.INPUT)
    assert mm.transfer_roles("y") == (OperandRole.OUTPUT, OperandRole.OUTPUT)
    chain = relu_chain(length=2)
    assert chain.transfer_roles("t1") == (OperandRole.OUTPUT, OperandRole.INPUT)


def test_a_pickled_workload_and_accelerator_answer_without_networkx(tmp_path):
    """A warm run reads both back from its caches: their neighbours, anchors and routes already found must
    not import networkx (0.1 s of a 0.35 s rerun); the graphs are rebuilt on first use."""
    import pickle
    import subprocess
    import sys

    from stream_core.examples import hardware
    from stream_core.hardware import load_accelerator
    from stream_core.plugins import load_plugins

    accelerator = load_accelerator(hardware("tpu_like_quad_core"), load_plugins())
    route = accelerator.path(0, accelerator.offchip_core_id)
    wl = relu_chain(4, length=4)
    expected = {
        n.name: ([p.name for p in wl.predecessors(n.name)], [s.name for s in wl.successors(n.name)]) for n in wl
    }
    (tmp_path / "both.pkl").write_bytes(pickle.dumps((accelerator, wl)))
    probe = f"""
import pickle, sys
accelerator, wl = pickle.loads(open({str(tmp_path / "both.pkl")!r}, "rb").read())
route = [link.id for link in accelerator.path(0, accelerator.offchip_core_id)]
seen = {{n.name: ([p.name for p in wl.predecessors(n.name)], [s.name for s in wl.successors(n.name)]) for n in wl}}
print(route, seen == {expected!r}, "networkx" in sys.modules, accelerator.connected(0, accelerator.offchip_core_id))
print(sorted(wl.graph.edges) == {sorted(wl.graph.edges)!r}, "networkx" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == f"{[link.id for link in route]} True False True"
    assert out[1] == "True True"  # the graph itself is built on demand


def test_the_graph_agrees_with_predecessors_and_successors_for_nodes_given_out_of_order():
    """Given as [p, r2, r1, q] with r2 reading p's and q's outputs and r1 reading p's: the nodes are sorted
    (p, r1, q, r2 by the given index), while the graph, built on demand, keeps the given order: ``index`` as
    given, and p's readers in the order the edges were met (r2, then r1), as :meth:`successors` says."""
    t = {n: TensorSpec(n, (4,), "int8") for n in ("x", "a", "b", "c", "d")}

    def node(name, reads, writes):
        ops = [Operand("input", r, 8, (A("D0"),)) for r in reads] + [Operand("output", writes, 8, (A("D0"),))]
        return Node(name, "Add" if len(reads) > 1 else "Relu", [LoopDim("D0", 4)], ops)

    given = [node("p", ["x"], "a"), node("r2", ["a", "b"], "c"), node("r1", ["a"], "d"), node("q", ["x"], "b")]
    w = Workload("diamond", given, t, inputs=["x"], outputs=["c", "d"])
    assert [n.name for n in w.nodes] == ["p", "r1", "q", "r2"]
    assert [s.name for s in w.successors("p")] == list(w.graph.successors("p")) == ["r2", "r1"]
    assert [s.name for s in w.predecessors("r2")] == list(w.graph.predecessors("r2")) == ["p", "q"]
    assert {n: i for n, i in w.graph.nodes(data="index")} == {"p": 0, "r2": 1, "r1": 2, "q": 3}


def test_cost_result_with_warnings_keeps_each_warning_once_in_order():
    """The ``warnings`` detail the core warns from: new warnings after those already there, each once;
    no warning leaves the result as it is."""
    from stream_core.ir.cost import CostResult

    plain = CostResult(latency=3, energy_pj=1.5, model="m", details={"a": 1})
    assert plain.with_warnings([]) is plain
    said = plain.with_warnings(["x", "y", "x"])
    assert said.details == (("a", 1), ("warnings", ("x", "y")))
    assert said.with_warnings(["y", "z"]).detail("warnings") == ("x", "y", "z")
    assert said.with_warnings(["y"]) is said
