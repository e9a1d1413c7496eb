"""Tiling arithmetic and the roofline cost model, checked against hand computation."""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import assume, given
from hypothesis import strategies as st

from stream_core.builtin.roofline import roofline_cost
from stream_core.ir import Core, CoreSummary, CostRequest, NodeMapping, TensorSpec
from stream_core.testing import conv_node as conv
from stream_core.testing import matmul_workload as matmul
from stream_core.testing import relu_chain
from stream_core.tiling import NodeTiling, operand_box


class _Desc:
    def __init__(self, **kw):
        self.name = "c"
        self.summary = CoreSummary(**kw)

    def fingerprint(self):
        return "x"


def test_split_and_remainder_tiles():
    node = matmul(10, 4, 8).node("mm")
    tiling = NodeTiling(node, NodeMapping("mm", (0, 1), (("K", 2),)), {"D": 4})
    assert tiling.part_sizes == {"D": 10, "C": 4, "K": 4}
    assert tiling.steps == {"D": 3, "C": 1, "K": 1}
    tiles = tiling.tiles()
    assert len(tiles) == 6
    assert [(t.part, t.step, t.range_map["D"], t.range_map["K"]) for t in tiles] == [
        (0, 0, (0, 4), (0, 4)),
        (1, 0, (0, 4), (4, 8)),
        (0, 1, (4, 8), (0, 4)),
        (1, 1, (4, 8), (4, 8)),
        (0, 2, (8, 10), (0, 4)),
        (1, 2, (8, 10), (4, 8)),
    ]
    assert tiling.shapes() == {(4, 4, 4): 4, (2, 4, 4): 2}
    assert tiling.core_of_part(1) == 1


def test_loop_order_nests_listed_loops_innermost_first():
    """mm loops (D, C, K) = (4, 4, 8) in tiles of 2: by default D is outermost; loop_order (D,)
    makes D innermost (Stream's first intra_core_tiling entry) and C, K keep their order outside it."""
    node = matmul(4, 4, 8).node("mm")
    tiles = {"D": 2, "C": 2, "K": 4}
    default = NodeTiling(node, NodeMapping("mm", (0,)), tiles)
    assert default.nest == ("D", "C", "K")
    assert [(t.range_map["D"][0], t.range_map["C"][0], t.range_map["K"][0]) for t in default.tiles()][:3] == [
        (0, 0, 0),
        (0, 0, 4),
        (0, 2, 0),
    ]
    ordered = NodeTiling(node, NodeMapping("mm", (0,), loop_order=("D", "K")), tiles)
    assert ordered.nest == ("C", "K", "D")
    starts = [(t.range_map["D"][0], t.range_map["C"][0], t.range_map["K"][0]) for t in ordered.tiles()]
    assert starts[:5] == [(0, 0, 0), (2, 0, 0), (0, 0, 4), (2, 0, 4), (0, 2, 0)]
    assert sorted(starts) == sorted(
        (t.range_map["D"][0], t.range_map["C"][0], t.range_map["K"][0]) for t in default.tiles()
    )


def test_operand_box_of_a_conv_tile_is_clipped_window():
    node = conv(c=8, k=16, oy=8, ox=8, stride=1, pad=1)
    x = node.operands[0]
    ranges = {d: (0, s) for d, s in node.sizes.items()} | {"OY": (2, 4)}
    # rows 2*1 + fy - 1 for oy in [2,4), fy in [0,3) -> [1, 5); columns [-1, 9) clipped to [0, 8)
    assert operand_box(x, ranges, TensorSpec("x", (1, 8, 8, 8), "int8")) == ((0, 1), (0, 8), (1, 5), (0, 8))


def _mac_core(**extra) -> Core:
    """16 MACs per cycle at 0.5 pJ, 64-bit ports, 0.1 pJ per bit read and 0.2 written."""
    summary = dict(memory_bits=10**6, read_bandwidth=64, write_bandwidth=64, peak_macs_per_cycle=16)
    energies = dict(mac_energy_pj=0.5, read_energy_pj_per_bit=0.1, write_energy_pj_per_bit=0.2)
    return Core(0, "toy.compute", _Desc(**summary, **energies, **extra))


def test_roofline_mac_op_is_compute_bound():
    core = _mac_core()
    node = matmul(8, 8, 8).node("mm")  # 512 MACs; reads 2*64*8 = 1024 bits, writes 512 bits
    result = roofline_cost(CostRequest(node, core))
    assert result.latency == 32 and result.ideal_cycles == 32  # max(512/16, 1024/64=16, 512/64=8)
    assert result.energy_pj == 512 * 0.5 + 1024 * 0.1 + 512 * 0.2
    assert result.model == "roofline"


def test_roofline_prices_each_operand_at_its_memory():
    """Weights kept in a memory read at 0.05 pJ/bit: 512 weight bits x 0.05 + 512 input bits x 0.1 +
    512 output bits x 0.2 (the default price) + 512 MACs x 0.5."""
    core = _mac_core(operand_energies=(("weight", 0.05, 0.07),))
    result = roofline_cost(CostRequest(matmul(8, 8, 8).node("mm"), core))
    assert result.energy_pj == 512 * 0.5 + 512 * 0.1 + 512 * 0.05 + 512 * 0.2


def test_roofline_elementwise_is_memory_bound_and_too_big_is_infeasible():
    core = Core(
        0,
        "toy.compute",
        _Desc(memory_bits=256, read_bandwidth=8, write_bandwidth=16, peak_macs_per_cycle=4, peak_ops_per_cycle=8),
    )
    node = relu_chain(16).node("relu_0")  # 16 int8 elements: 128 bits in, 128 out; 16 ops / 8
    result = roofline_cost(CostRequest(node, core))
    assert (result.latency, result.ideal_cycles) == (16, 2)  # 128 bits / 8 per cycle
    small = Core(0, "toy.compute", _Desc(memory_bits=200, read_bandwidth=8, write_bandwidth=8, peak_macs_per_cycle=4))
    bad = roofline_cost(CostRequest(node, small))
    assert not bad.feasible and "tile needs 256 bits of on-core memory" in bad.reason and "holds 200 bits" in bad.reason


@given(
    sizes=st.tuples(*(st.integers(1, 12) for _ in range(3))),
    tiles=st.tuples(*(st.integers(1, 12) for _ in range(3))),
    split=st.sampled_from([(), (("K", 2),), (("D", 3),), (("D", 2), ("K", 2))]),
    interleave=st.sampled_from([(), (("D", 2),)]),
)
def test_shapes_count_the_tile_list(sizes, tiles, split, interleave):
    """shapes() is counted per loop without building the tiles; it equals counting them (on splits
    that leave every part a loop, and interleaving in blocks that divide the steps, as mappings must)."""
    m, k, n = sizes
    node = matmul(m, k, n).node("mm")
    assume(all(node.sizes[d] >= f for d, f in split))
    cores = tuple(range(max(1, math.prod(f for _, f in split))))
    mapping = NodeMapping("mm", cores, split, interleave=interleave)
    tiling = NodeTiling(node, mapping, dict(zip(("D", "C", "K"), tiles, strict=True)))
    assume(all(tiling.steps[d] % blocks == 0 for d, blocks in interleave))
    assert tiling.shapes() == Counter(t.shape for t in tiling.tiles())
