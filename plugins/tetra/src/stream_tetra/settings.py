"""Settings of the ``tetra`` allocator, read from ``--set tetra.<key>=<value>`` (``RunOptions.settings``).

* ``tetra.pipelining`` (``separation``): ``separation`` overlaps consecutive iterations exactly (the
  uniform schedule realises the MILP's latency; the list schedule, kept when shorter, may beat it);
  ``occupancy`` is Stream's bound (every idle slot of a resource is reclaimable; needs double
  buffering, else ``separation`` is used).
* ``tetra.interleave`` (``1``): how many later iterations may slip into a resource's idle gaps
  (``0``: only before the first and after the last use, Stream's SPAN rule).
* ``tetra.double_buffering`` (``true``): one more buffer slot than the minimum for re-used buffers.
* ``tetra.paths`` (``2``): candidate routes per (source, destination) pair; the first is the
  accelerator's preferred route.
* ``tetra.transfers`` (``exact``): ``exact`` moves to each destination part only what it reads
  (halo rows, not whole neighbour tiles); ``stream`` moves what Stream's transfer nodes move (a
  producer part's whole output to every part reading any of it; an input's whole block).
* ``tetra.max_levels`` (none): limit the stop levels offered per input (``0``: one tile at a time).
* ``tetra.max_tiles`` (``50000``): tiles recorded per group; beyond it the first iterations and the
  last firings are recorded (totals still count everything).
* ``tetra.refine_firings`` (``2000000``): after the solve, transfer modes are re-chosen one at a time
  when that shortens the realised schedule; this caps the firings those trials may schedule in all
  (``0``: keep the solver's modes).
* ``tetra.greedy`` (``true``): also schedule each group with the core's greedy list scheduler on the
  same mapping and keep its schedule when better by ``tetra.latency_tolerance`` (ties: TETRA's).
  Not tried for a group above ``tetra.max_tiles`` tiles (greedy records every tile).
* ``tetra.latency_tolerance`` (``0.02``): the fraction of latency a group may give up for less energy.
  Schedules within ``floor((1 + x) * (shortest + drain)) - drain`` cycles count as equally fast as
  the shortest (``drain``: the group's systolic drain, which follows any schedule), and
  the one moving the fewest off-chip bits (the MILP, the refinement) or using the least energy
  (TETRA against greedy) wins; the summary's ``proven`` and ``realised`` say so. ``0`` is latency
  first, energy on ties only (then every solver backend finds the same latency). At ``0.02``, 2conv
  on tpu_like_quad_core keeps TETRA's 9,608 cycles at 18.3 uJ over greedy's 9,560 at 22.9 (greedy
  fetches the weights once per core).
* ``tetra.threads`` (``1``): solver threads (1 keeps results reproducible).
* ``tetra.explain`` (``true``): on an infeasible model, ask the solver which constraint groups conflict.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from stream_core.context import RunContext, parse_flag
from stream_core.errors import InputError, Problem

PIPELINING = ("separation", "occupancy")
TRANSFERS = ("exact", "stream")


@attrs.frozen
class TetraSettings:
    pipelining: str = "separation"
    interleave: int = 1
    double_buffering: bool = True
    paths: int = 2
    transfers: str = "exact"
    max_levels: int | None = None
    max_tiles: int = 50_000
    refine_firings: int = 2_000_000
    threads: int = 1
    explain: bool = True
    greedy: bool = True
    latency_tolerance: float = 0.02

    def latency_cap(self, shortest: int, after: int = 0) -> int:
        """The longest latency that counts as equally fast as ``shortest``, when ``after`` cycles follow
        whichever schedule runs (a group's systolic drain): the tolerance is taken of the time a user
        sees, ``shortest + after``."""
        return int((shortest + after) * (1 + self.latency_tolerance) + 1e-9) - after

    def latency_slack(self, after: int = 0) -> tuple[float, float]:
        """:meth:`latency_cap` as a solver's (absolute, relative) tolerance on the optimum: ``(1 + x)
        (T + after) - after = T + x T + x after``, plus half a cycle for the solver's rounding."""
        return 0.5 + self.latency_tolerance * after, self.latency_tolerance

    @classmethod
    def from_context(cls, context: RunContext) -> TetraSettings:
        problems: list[Problem] = []
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            key = f"tetra.{field.name}"
            raw = context.setting(key)
            if raw is None:
                continue
            try:
                values[field.name] = _convert(field.name, raw)
            except ValueError as exc:
                problems.append(Problem(str(exc), field=key))
        known = {f"tetra.{f.name}" for f in attrs.fields(cls)}
        for key in sorted(k for k in context.options.settings if k.startswith("tetra.") and k not in known):
            problems.append(Problem(f"unknown setting; known: {', '.join(sorted(known))}", field=key))
        if problems:
            raise InputError(problems)
        return cls(**values)


def _convert(name: str, raw: Any) -> Any:
    if name in ("pipelining", "transfers"):
        allowed = PIPELINING if name == "pipelining" else TRANSFERS
        choice = str(raw).strip().lower()
        if choice not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {raw!r}")
        return choice
    if name in ("double_buffering", "explain", "greedy"):
        return parse_flag(raw)
    if name == "max_levels" and str(raw).strip().lower() in ("none", ""):
        return None
    if name == "latency_tolerance":
        return parse_fraction(raw)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"expected an integer, got {raw!r}") from None
    minimum = {"interleave": 0, "paths": 1, "max_levels": 0, "max_tiles": 1, "refine_firings": 0, "threads": 1}[name]
    if value < minimum:
        raise ValueError(f"expected an integer >= {minimum}, got {value}")
    return value


def parse_fraction(raw: Any) -> float:
    """A tolerance setting: a finite fraction >= 0 (``0.05``: 5 %); else a ValueError saying so."""
    try:
        fraction = float(raw)
    except (TypeError, ValueError):
        fraction = math.nan
    if not (math.isfinite(fraction) and fraction >= 0):
        raise ValueError(f"expected a fraction >= 0 (0.05: 5 %), got {raw!r}")
    return fraction
