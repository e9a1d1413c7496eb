"""Public API for writing ONNX op parsers (stable within stream-onnx 0.x).

An op parser turns one ONNX node into workload nodes. Register it from any plugin::

    from stream_core import hookimpl
    from stream_core.plugins import lazy
    from stream_onnx.hookspecs import OpParserRecord

    @hookimpl
    def stream_register_op_parsers():
        yield OpParserRecord(name="com.example:Silu", domain="com.example", op_type="Silu",
                             factory=lazy("my_plugin.ops", "parse_silu"))

The hook and the record are stream-onnx's own (:mod:`stream_onnx.hookspecs`, light to import from a
plugin module). The factory returns a callable with the :class:`OpParser` signature. A record for an op that
stream-onnx already parses, from another distribution and under another name (e.g.
``"mycorp:Conv"``), overrides the built-in parser.

Rules a parser follows:

* ``loops`` are positional (``D<i>`` in a mapping file is ``loops[i]``); use the names and orders in
  the README table for ops Stream knows, :mod:`stream_onnx.access` helpers otherwise.
* Every operand comes from :meth:`GraphView.operand` (precision from the tensor's dtype) with an
  exact affine access per tensor axis, or ``None`` when the relation is not affine.
* Roles: fixed by the op where it has weight slots (Conv ``W``), else :meth:`GraphView.role`.
* Bad input: ``raise graph.error(node, "...", attribute="pads")``.
* A node that only forwards its input may call :meth:`GraphView.fold` and return ``[]``.
* ``Node.name`` must be unique: use :meth:`GraphView.make_node`, which takes the (already unique)
  ONNX node name, and suffix ``_<i>`` when one ONNX node becomes several workload nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import onnx

from stream_core.ir import Node
from stream_onnx.access import (
    activation_names,
    axis_names,
    broadcast_access,
    generic_names,
    identity_access,
    make_loops,
    normalise_axis,
    reshape_access,
    window_expr,
)
from stream_onnx.graph import GraphView, dtype_name
from stream_onnx.ops.elementwise import parse_elementwise


class OpParser(Protocol):
    """``(node, graph) -> nodes``: one ONNX node (unique name, shapes inferred) into workload nodes."""

    def __call__(self, node: onnx.NodeProto, graph: GraphView, /) -> Sequence[Node]: ...


__all__ = [
    "GraphView",
    "OpParser",
    "activation_names",
    "axis_names",
    "broadcast_access",
    "dtype_name",
    "generic_names",
    "identity_access",
    "make_loops",
    "normalise_axis",
    "parse_elementwise",
    "reshape_access",
    "window_expr",
]
