"""The greedy scheduler's link timeline against a brute-force search over every integer start."""

from __future__ import annotations

import random

from stream_core.builtin.greedy import _Bookings, _Timeline


def _first_free(t: int, duration: int, busy: list[tuple[int, int]]) -> int:
    """Smallest s >= t whose [s, s + duration) overlaps no busy interval (a zero-length slot: not strictly inside)."""
    s = t
    while any(a < s + duration and s < b for a, b in busy):
        s += 1
    return s


def _merged(busy: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Touching intervals as one (a link's timeline merges them; a plan's tentative bookings do not)."""
    out: list[list[int]] = []
    for a, b in sorted(busy):
        if out and out[-1][1] == a:
            out[-1][1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def test_earliest_slot_matches_brute_force_with_touching_and_tentative_bookings():
    rng = random.Random(7)
    for _ in range(40):
        timeline, busy = _Timeline(), []
        timeline.CHUNK = rng.choice([2, 3, 64])  # small chunks exercise splits and chunk skipping
        for _ in range(120):
            tentative, extra = _Bookings(), []
            for _ in range(rng.randrange(3)):
                length = rng.randrange(1, 6)
                s = _first_free(rng.randrange(300), length, busy + extra)
                tentative.book(s, s + length)
                extra.append((s, s + length))
            t, duration = rng.randrange(300), rng.choice([0, 1, 2, 5, 12])
            s = timeline.earliest(t, duration, tentative)
            assert s == _first_free(t, duration, _merged(busy) + extra)
            if duration:
                timeline.book(s, s + duration)
                busy.append((s, s + duration))
