"""stream-core hook implementations of stream-mcp (lazy: listing plugins imports nothing heavy)."""

from __future__ import annotations

from collections.abc import Iterator

from stream_core import hookimpl
from stream_core.plugins import lazy
from stream_core.records import CommandRecord


@hookimpl
def stream_register_commands() -> Iterator[CommandRecord]:
    yield CommandRecord(
        name="mcp",
        description="serve stream-core to agents over MCP (stdio): plugins, validate, run jobs, compile, fifo-size",
        factory=lazy("stream_mcp.command", "McpCommand"),
    )
