"""``stream mcp``: serve stream-core to an MCP client over stdio."""

from __future__ import annotations

import argparse

from stream_core import RunContext


class McpCommand:
    """The ``mcp`` sub-command (no options: a client starts it as ``stream mcp``)."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.description = (
            "Serve stream-core over the Model Context Protocol on stdin/stdout until the client disconnects."
        )

    def run(self, args: argparse.Namespace, context: RunContext) -> int:
        from stream_mcp.server import serve

        serve()
        return 0
