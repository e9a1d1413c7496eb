"""Token behaviour model: paced firing times, production/consumption curves, minimum delay, depth."""

from __future__ import annotations

from stream_itensor.api import (
    Actor,
    Channel,
    DataflowGraph,
    KernelProfile,
    build_dataflow,
    build_stream_graph,
    fuse,
    paced_period,
    token_curves,
)
from stream_itensor.examples import diamond


def pair() -> DataflowGraph:
    """p: 4 firings (interval 3, latency 5) writes one token each; q: 8 firings reads one every other firing."""
    channel = Channel("pq", "p", "q", "stream", 32, (0, 1, 2, 3), (0, 2, 4, 6), "pq")
    return DataflowGraph("pair", (Actor("p", "kernel", 4, 3, 5), Actor("q", "kernel", 8, 1, 1)), (channel,))


def test_paced_curves_by_hand() -> None:
    dfg = pair()
    assert paced_period(dfg) == 12  # p: 4 x 3 cycles; q: 8 x 1
    curve = token_curves(dfg)["pq"]
    # p fires every 12/4 = 3 cycles; q's firing i starts at floor(12 i / 8): 0, 1, 3, 4, 6, 7, 9, 10
    assert curve.reserve == (0, 3, 6, 9)
    assert curve.visible == (5, 8, 11, 14)
    assert curve.demand == (0, 3, 6, 9)
    assert curve.min_delay == 5
    assert [curve.production(t) for t in (4, 5, 13, 14)] == [0, 1, 3, 4]
    assert [curve.consumption(t, 5) for t in (4, 5, 8, 14)] == [0, 1, 2, 4]


def test_depth_over_pipelined_frames() -> None:
    curve = token_curves(pair())["pq"]
    # reservations at 3k, reads at d + 3k (frames continue the 3-cycle rhythm): k + 1 - (floor((3k - d) / 3) + 1)
    assert curve.depth(5) == 2 and curve.depth(6) == 2 and curve.depth(7) == 3 and curve.depth(30) == 10
    assert curve.max_delay(2) == 6 and curve.max_delay(3) == 9
    assert curve.max_delay(1) is None  # even the minimum delay needs two slots


def test_diamond_curves_from_profiles() -> None:
    wl, tilings = diamond(rows=8, cols=4)
    profiles = {"a": KernelProfile(1, 1), "b": KernelProfile(2, 10), "c": KernelProfile(1, 1), "d": KernelProfile(1, 1)}
    (dfg,) = build_dataflow(fuse(build_stream_graph(wl, tilings)), profiles)
    assert paced_period(dfg) == 16  # b: 8 rows x 2 cycles
    curves = token_curves(dfg)
    # every actor spreads its 8 firings over 16 cycles; b's tokens are readable 10 cycles after its firings
    assert curves["b->d:yb"].visible == tuple(2 * i + 10 for i in range(8))
    assert curves["b->d:yb"].min_delay == 10 and curves["c->d:yc"].min_delay == 1
    assert curves["a->b:ya"].min_delay == 1


def test_max_delay_is_the_inverse_of_depth(reconvergent: dict[str, DataflowGraph]) -> None:
    checked = 0
    for dfg in reconvergent.values():
        for curve in token_curves(dfg).values():
            for slots in range(1, 6):
                limit = curve.max_delay(slots)
                if limit is None:
                    assert curve.depth(curve.min_delay) > slots
                    continue
                assert curve.depth(limit) <= slots < curve.depth(limit + 1)
                checked += 1
    assert checked > 50
