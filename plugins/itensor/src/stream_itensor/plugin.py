"""stream-core hook implementations of stream-itensor (lazy: listing plugins imports nothing heavy)."""

from __future__ import annotations

from collections.abc import Iterator

import pluggy

from stream_core.hookspecs import hookimpl
from stream_core.plugins import lazy
from stream_core.records import CommandRecord


@hookimpl
def stream_add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    from stream_itensor import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def stream_register_commands() -> Iterator[CommandRecord]:
    yield CommandRecord(
        name="fifo-size",
        description="itensor-type a workload, fuse kernels under a memory budget and size its FIFOs with an LP",
        factory=lazy("stream_itensor.command", "FifoSizeCommand"),
    )
