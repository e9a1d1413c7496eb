"""stream-core hook implementations of stream-explore (lazy: listing plugins imports nothing heavy)."""

from __future__ import annotations

from collections.abc import Iterator

from stream_core import hookimpl
from stream_core.plugins import lazy
from stream_core.records import CommandRecord


@hookimpl
def stream_register_commands() -> Iterator[CommandRecord]:
    yield CommandRecord(
        name="explore",
        description="design-space exploration: sweep hardware and run settings, keep results, plot Pareto fronts",
        factory=lazy("stream_explore.command", "ExploreCommand"),
    )
