"""stream-mcp: an MCP server (``stream mcp``, stdio) over stream-core's public API.

:func:`stream_mcp.server.build_server` builds the server; :mod:`stream_mcp.jobs` runs each
operation in a worker process (:mod:`stream_mcp.worker`) so that it can be polled and cancelled
and no failure of a run can take the server down. This module imports nothing so that listing
plugins stays fast.
"""
