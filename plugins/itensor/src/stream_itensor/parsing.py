"""How a streaming flow parses its workload: layout ops stay nodes (unless the user says otherwise)."""

from __future__ import annotations

import attrs

from stream_core.context import RunContext

#: Layout ops are kernels of their own in a streaming design (a Transpose reorders a stream through a
#: buffer), so the ONNX parser keeps them as nodes here instead of folding them into their readers as
#: it does for ``stream run``; a user's ``--set`` of these keys still wins.
KEEP_LAYOUT_NODES = {"onnx.fold_transpose": "false", "onnx.fold_reshape": "false"}


def streaming_context(context: RunContext) -> RunContext:
    """``context`` with :data:`KEEP_LAYOUT_NODES` as defaults of its settings (same plugins, same
    warnings list)."""
    settings = {**KEEP_LAYOUT_NODES, **context.options.settings}
    return attrs.evolve(context, options=attrs.evolve(context.options, settings=settings))
