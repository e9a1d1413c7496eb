"""Token behaviour model: cumulative production and consumption curves of every channel.

Strategy ("rate-matched pacing"): every actor of a group spreads its firings evenly over the group's
*period* ``P = max(firings x interval)``, the total time of the slowest actor (StreamTensor's
``longest_latency``, which bounds the throughput). Firing ``i`` of an actor with ``n`` firings starts at
``floor(i * P / n)`` after the actor's start (at least ``interval`` apart because ``P / n >= interval``);
frame ``f`` repeats the pattern ``f * P`` later, so frames pipeline at the bottleneck rate.

For a channel ``u -> v``, relative to the actors' starts (see :mod:`stream_itensor.dataflow` for the
four firings of a token):

* ``reserve[k]``: token ``k``'s slot is taken,
* ``visible[k]``: token ``k`` can be read (the production curve counts these),
* ``demand[k]``: the consumer needs token ``k`` (the consumption curve counts these),
* ``release[k]``: the slot is freed.

With the consumer starting ``delay`` cycles after the producer it never waits iff
``delay >= min_delay = max_k(visible[k] - demand[k])``, and the channel then holds at most
``depth(delay) = max_t [R(t) - L(t - delay)]`` tokens (``R`` reservations, ``L`` releases, over all
pipelined frames; slots freed at ``t`` are free for reservations at ``t``). ``depth`` is non-decreasing
in ``delay``.
"""

from __future__ import annotations

import bisect

import attrs

from stream_itensor.dataflow import Actor, Channel, DataflowGraph


def paced_period(dfg: DataflowGraph) -> int:
    """Cycles per frame of the slowest actor: ``max(firings x interval)``."""
    return max((a.firings * a.interval for a in dfg.actors), default=1)


def paced_start(actor: Actor, firing: int, period: int) -> int:
    """Start of ``firing`` relative to the actor's start under rate-matched pacing."""
    return firing * period // actor.firings


@attrs.frozen
class TokenCurves:
    """Per-token times of one channel (see the module docstring); all tuples are non-decreasing."""

    channel: str
    reserve: tuple[int, ...]
    visible: tuple[int, ...]
    demand: tuple[int, ...]
    release: tuple[int, ...]
    period: int

    @property
    def tokens(self) -> int:
        return len(self.reserve)

    @property
    def min_delay(self) -> int:
        """Smallest consumer start (relative to the producer's) at which the consumer never waits."""
        return max(v - d for v, d in zip(self.visible, self.demand, strict=True))

    def production(self, t: int) -> int:
        """Tokens readable by cycle ``t`` after the producer's start (one frame)."""
        return bisect.bisect_right(self.visible, t)

    def consumption(self, t: int, delay: int) -> int:
        """Tokens read by cycle ``t`` after the producer's start when the consumer starts ``delay`` later."""
        return bisect.bisect_right(self.demand, t - delay)

    def depth(self, delay: int) -> int:
        """Peak reserved-but-unreleased tokens with frames pipelined every ``period`` cycles."""
        n, period = self.tokens, self.period
        span = self.release[-1] + delay - self.reserve[0]
        frames = max(1, -(-span // period) + 2)
        peak = released = 0
        for g in range(frames * n):  # reservations in order; two pointers over the periodic sequences
            at = self.reserve[g % n] + (g // n) * period
            while released < frames * n and self.release[released % n] + (released // n) * period + delay <= at:
                released += 1
            peak = max(peak, g + 1 - released)
        return peak

    def max_delay(self, depth: int) -> int | None:
        """Largest delay whose :meth:`depth` is at most ``depth`` (``None`` when it is below
        :attr:`min_delay`: even the smallest useful delay needs more slots).

        With ``depth`` slots, token ``g`` (over all frames) can take its slot only once token
        ``g - depth`` has left: ``release[g - depth] + delay <= reserve[g]``. Both sequences repeat
        every ``tokens`` tokens shifted by ``period``, so one period of ``g`` decides.
        """
        n, period = self.tokens, self.period
        limit = min(
            self.reserve[g % n] + (g // n) * period - self.release[(g - depth) % n] - ((g - depth) // n) * period
            for g in range(depth, depth + n)
        )
        return limit if limit >= self.min_delay else None


def token_curves(dfg: DataflowGraph) -> dict[str, TokenCurves]:
    """The curves of every channel of ``dfg`` under rate-matched pacing."""
    period = paced_period(dfg)
    actors = {a.name: a for a in dfg.actors}
    return {c.name: _channel_curves(c, actors[c.producer], actors[c.consumer], period) for c in dfg.channels}


def _channel_curves(c: Channel, producer: Actor, consumer: Actor, period: int) -> TokenCurves:
    return TokenCurves(
        c.name,
        tuple(paced_start(producer, f, period) for f in c.produce_at),
        tuple(paced_start(producer, f, period) + producer.latency for f in c.ready_at),
        tuple(paced_start(consumer, f, period) for f in c.consume_at),
        tuple(paced_start(consumer, f, period) for f in c.release_at),
        period,
    )
