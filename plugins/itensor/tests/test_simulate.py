"""The token-level simulator against hand-computed schedules and the u55c reference deadlock case."""

from __future__ import annotations

import pytest
from stream_itensor.api import Actor, Channel, DataflowGraph, simulate


def stream(name: str, producer: str, consumer: str, produce: tuple[int, ...], consume: tuple[int, ...]) -> Channel:
    return Channel(name, producer, consumer, "stream", 32, produce, consume, name)


def reference_case(n: int = 16) -> DataflowGraph:
    """u55c_platform.md 7.2: src writes b1[i] then a[i]; mid reads all of b1, then writes b2; join reads a[i], b2[i]."""
    actors = (
        Actor("src", "kernel", 2 * n, 1, 1),
        Actor("mid", "kernel", 2 * n, 1, 1),
        Actor("join", "kernel", n, 1, 1),
    )
    channels = (
        stream("b1", "src", "mid", tuple(range(0, 2 * n, 2)), tuple(range(n))),
        stream("a", "src", "join", tuple(range(1, 2 * n, 2)), tuple(range(n))),
        stream("b2", "mid", "join", tuple(range(n, 2 * n)), tuple(range(n))),
    )
    return DataflowGraph("reference", actors, channels)


@pytest.mark.parametrize("depth", [1, 8, 14])
def test_reference_case_deadlocks_below_n_minus_one(depth: int) -> None:
    result = simulate(reference_case(), {"a": depth, "b1": 2, "b2": 2})
    assert result.deadlock and result.makespan is None
    blocked = {(b.actor, b.channel, b.state) for b in result.blocked}
    assert blocked == {("src", "a", "full"), ("mid", "b1", "empty"), ("join", "b2", "empty")}
    assert result.full == ("a",) and set(result.empty) == {"b1", "b2"}
    assert dict(result.occupancy)["a"] == depth
    # src wrote b1[0..depth] and a[0..depth-1], then blocked on a[depth] at firing 2 * depth + 1
    assert dict(result.fired)["src"] == 2 * depth + 1
    assert "DEADLOCK" in result.report() and "src blocked on full FIFO a" in result.report()


@pytest.mark.parametrize(("depth", "peak"), [(15, 15), (16, 16)])
def test_reference_case_passes_from_n_minus_one(depth: int, peak: int) -> None:
    result = simulate(reference_case(), {"a": depth, "b1": 2, "b2": 2})
    assert not result.deadlock
    assert dict(result.max_occupancy)["a"] == peak
    assert result.blocked == ()


def chain() -> DataflowGraph:
    """p: 4 firings, interval 3, latency 5 -> q: 4 firings, interval 2, latency 1."""
    return DataflowGraph(
        "chain",
        (Actor("p", "kernel", 4, 3, 5), Actor("q", "kernel", 4, 2, 1)),
        (stream("pq", "p", "q", (0, 1, 2, 3), (0, 1, 2, 3)),),
    )


def test_chain_timing_by_hand() -> None:
    free = simulate(chain())
    # p starts 0,3,6,9; tokens readable 5,8,11,14; q fires then and ends at 15
    assert (free.makespan, free.frame_finish) == (15, (15,))
    # token 1 takes its slot at 3, before token 0 is read at 5
    assert dict(free.max_occupancy)["pq"] == 2
    tight = simulate(chain(), {"pq": 1})
    # with one slot p waits for every read: p at 0,5,10,15, q at 5,10,15,20
    assert tight.makespan == 21


def test_frames_pipeline_at_the_bottleneck_rate() -> None:
    result = simulate(chain(), None, frames=3)
    # p (12 cycles per frame) is the bottleneck: frames end at 15, 27, 39
    assert result.frame_finish == (15, 27, 39)
    assert result.interval == 12 and result.makespan == 39


def test_buffer_channel_semantics() -> None:
    """A converter-like pair: two instances of two tokens; a slot is held from fill start to drain end."""

    def graph() -> DataflowGraph:
        buffer = Channel("buf", "fill", "drain", "buffer", 64, (0, 2), (0, 2), "e", None, (1, 3), (1, 3))
        return DataflowGraph(
            "cvt", (Actor("fill", "converter", 4, 1, 1), Actor("drain", "converter", 4, 1, 1)), (buffer,)
        )

    # two buffers: instance 0 readable at 2, drained at 2 and 3; instance 1 readable at 4, drained at 4, 5
    assert simulate(graph(), {"buf": 2}).makespan == 6
    # one buffer: the second fill waits for the drain of instance 0 to start its last firing (cycle 3)
    assert simulate(graph(), {"buf": 1}).makespan == 7


def test_long_chain_is_fast_and_exact() -> None:
    n = 20000
    dfg = DataflowGraph(
        "long",
        (Actor("a", "kernel", n, 1, 1), Actor("b", "kernel", n, 2, 3), Actor("c", "kernel", n, 1, 1)),
        (
            stream("ab", "a", "b", tuple(range(n)), tuple(range(n))),
            stream("bc", "b", "c", tuple(range(n)), tuple(range(n))),
        ),
    )
    result = simulate(dfg, {"ab": 2, "bc": 2})
    # b is the bottleneck: it starts at 1, fires every 2 cycles, its last token is readable at 1 + 2(n-1) + 3
    assert result.makespan == 1 + 2 * (n - 1) + 3 + 1


def test_rejects_non_positive_depths() -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        simulate(chain(), {"pq": 0})
    with pytest.raises(ValueError, match="at least one frame"):
        simulate(chain(), None, frames=0)
