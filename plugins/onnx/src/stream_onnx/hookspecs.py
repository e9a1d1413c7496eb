"""The op-parser hook stream-onnx owns (added through ``stream_add_hookspecs``; light to import).

Any plugin may register op parsers: functions marked ``@hookimpl`` named
``stream_register_op_parsers`` yield :class:`OpParserRecord` items; the factory returns a callable
with the :class:`stream_onnx.api.OpParser` signature. The hook exists only while stream-onnx is
installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import attrs

from stream_core.hookspecs import registration_hookspec
from stream_core.ir import Node
from stream_core.records import PluginRecord


@attrs.frozen(kw_only=True)
class OpParserRecord(PluginRecord[Callable[..., Sequence[Node]]]):
    """Turns one operator type of a domain (``""`` = the default ONNX domain) into workload nodes.

    The factory returns a callable ``(node_proto, graph_view) -> Sequence[Node]`` (see
    :mod:`stream_onnx.api`). ``name`` is ``"<domain or ai.onnx>:<op_type>"``.
    """

    domain: str = ""
    op_type: str


def op_parser_name(domain: str, op_type: str) -> str:
    return f"{domain or 'ai.onnx'}:{op_type}"


@registration_hookspec(OpParserRecord, "op parser")
def stream_register_op_parsers() -> Iterable[OpParserRecord]:
    """Register parsers of single ONNX operators (by domain and op type) into workload nodes.

    Returns: :class:`OpParserRecord` items. Kind ``op_parsers`` (``plugins.registry("op_parsers")``).
    Added in stream-onnx 0.1 (a core hook until stream-core 0.2).
    """
    return ()
