"""Hook specs that stream-tetra adds to stream-core's plugin manager (``stream_add_hookspecs``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from stream_core.hookspecs import hookspec

if TYPE_CHECKING:
    from stream_tetra.api import ConstraintFamily


@hookspec
def tetra_register_constraints() -> Iterable[ConstraintFamily]:
    """Register constraint families for the TETRA allocator's MILP (e.g. core-type limits).

    Implement it in any plugin module (decorate with ``stream_core.hookimpl``) and return or yield
    :class:`stream_tetra.api.ConstraintFamily` records. A family applies to the accelerators that
    have a core of one of its ``namespaces``; its ``build(ctx)`` receives a
    :class:`stream_tetra.api.ModelContext` (the model, the cores, per-core resident indicators
    ``w[t,c,s]`` with their tiles/reuse/bds tables, per-core transfer counts, slot and latency
    variables) and adds constraints, variables and objective terms through it.

    Returns: :class:`~stream_tetra.api.ConstraintFamily` items.
    Added in stream-tetra 0.1 (API version 0.1).
    """
    return ()
