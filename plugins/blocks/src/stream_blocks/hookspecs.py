"""The block hook stream-blocks owns (added through ``stream_add_hookspecs``; light to import).

A plugin adds model blocks by yielding :class:`BlockRecord` items from ``stream_register_blocks``;
the factory returns a :class:`BlockBuilder`. ``stream blocks`` lists every registered block and a
workload names one as ``block:NAME?param=value&...`` (or a ``.block`` file).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

import attrs

from stream_core.hookspecs import registration_hookspec
from stream_core.records import PluginRecord

if TYPE_CHECKING:
    from stream_core.context import RunContext
    from stream_core.ir import Workload


class BlockBuilder(Protocol):
    """``(values, context) -> workload``: ``values`` holds every parameter of the record, checked."""

    def __call__(self, values: Mapping[str, int], context: RunContext, /) -> Workload: ...


@attrs.frozen
class BlockParameter:
    """One integer parameter of a block: its default (0 where the help says it is derived) and meaning."""

    name: str
    default: int
    help: str
    minimum: int = 1


#: Parameters shared by token blocks (the built-in transformer layers and other plugins' blocks).
BATCH = BlockParameter("b", 1, "batch size")
TOKENS = BlockParameter("t", 128, "new tokens (1 with kv > 0: one decode step)")
CACHE = BlockParameter("kv", 0, "tokens already in the KV cache (0: prefill)", minimum=0)


def _parameters(items: Iterable[BlockParameter]) -> tuple[BlockParameter, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class BlockRecord(PluginRecord[BlockBuilder]):
    """A model block built from a few integer parameters."""

    parameters: tuple[BlockParameter, ...] = attrs.field(converter=_parameters)


@registration_hookspec(BlockRecord, "block")
def stream_register_blocks() -> Iterable[BlockRecord]:
    """Register model blocks (transformer layers, CNN stages) that build workloads from parameters.

    Returns: :class:`BlockRecord` items. Kind ``blocks`` (``plugins.registry("blocks")``).
    Added in stream-blocks 0.1.
    """
    return ()
