"""AIE constraint families for the TETRA allocator (hook ``tetra_register_constraints`` of stream-tetra).

Built through stream-tetra's public constraint API (``stream_tetra.api``: ``ConstraintFamily`` and
the ``ModelContext`` it hands to ``build``); only this module imports it, and only when stream-tetra
calls the hook. Each family applies to accelerators with ``aie2`` cores:

* ``aie2.object_fifo_depth``: on every aie2 tile but the off-chip one, the buffers resident at the
  chosen levels hold at most ``max_object_fifo_depth`` tiles: ``sum tiles[t,s] * w[t,c,s] <= depth``.
* ``aie2.buffer_descriptors``: a compute tile needs one BD per resident tile (``tiles[t,s]``), a
  memory tile ``bds[t,s]`` (its 5-D address generator covers a whole block, one BD per irrelevant
  loop trip since the last relevant one), a shim one per transfer it sends or receives; at most
  ``buffer_descriptors`` (AMD: 16 / 48 / 16).
* ``aie2.dma_channels``: transfers into a tile <= its S2MM channels, out of it <= its MM2S channels
  (AMD: 2+2 compute, 6+6 memory tile, 2+2 shim).

An off-chip aie2 shim stands for DDR behind every shim: its DMA and BD caps are the sums over the
accelerator's aie2 shims (:mod:`stream_cores_aie.caps`). Settings ``aie.object_fifo_depth``,
``aie.buffer_descriptors`` and ``aie.dma_channels`` (``--set aie.dma_channels=false``) switch a
family off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from stream_tetra.api import ConstraintFamily, ModelContext

from stream_core.context import parse_flag
from stream_core.errors import InputError, Problem
from stream_core.ir.accelerator import Core
from stream_cores_aie.caps import TileCaps, aie_cores, tile_caps

NAMESPACE = "aie2"


def _enabled(ctx: ModelContext, key: str) -> bool:
    try:
        return parse_flag(ctx.setting(key, True))
    except ValueError as exc:
        raise InputError(Problem(str(exc), field=key)) from None


ALL_ROLES = frozenset({"input", "intermediate", "output"})
#: Object FIFOs hold what a transfer delivers to a tile (inputs and a producer's tensors arriving from
#: another tile); a node's own output ring is not one, as Stream 2.1.1 counts (``ObjectFifoDepth``).
DELIVERED_ROLES = frozenset({"input", "intermediate"})


def _buffer_terms(
    ctx: ModelContext, core: int, count: Callable[[Any], int], roles: frozenset[str] = ALL_ROLES
) -> list[tuple[str, Any]]:
    return [
        (
            f"{view.tensor} ({view.role} buffer of {view.node}, level {level.level}: {count(level)})",
            level.resident * count(level),
        )
        for view in ctx.buffers_on(core)
        if view.role in roles
        for level in view.levels
        if count(level)
    ]


def _transfer_terms(ctx: ModelContext, core: int, direction: str) -> list[tuple[str, Any]]:
    terms = []
    for transfer in ctx.transfers:
        expr = transfer.into(core) if direction == "in" else transfer.out_of(core)
        if expr.terms or expr.constant:
            terms.append((f"{transfer.name} ({transfer.kind}, {transfer.tensor})", expr))
    return terms


def _add(ctx: ModelContext, name: str, core: Core, terms: list[tuple[str, Any]], cap: int, unit: str) -> None:
    if terms:
        ctx.add_capacity(name, core.id, ctx.model.sum(t for _, t in terms), cap, unit, terms)


def _tiles(ctx: ModelContext) -> Iterable[tuple[Core, TileCaps]]:
    for core, _desc in aie_cores(ctx.accelerator):
        caps = tile_caps(ctx.accelerator, core)
        assert caps is not None
        yield core, caps


def build_object_fifo_depth(ctx: ModelContext) -> None:
    if not _enabled(ctx, "aie.object_fifo_depth"):
        return
    for core, caps in _tiles(ctx):
        if core.id != ctx.accelerator.offchip_core_id:
            terms = _buffer_terms(ctx, core.id, lambda level: level.tiles, DELIVERED_ROLES)
            _add(ctx, "object_fifo_depth", core, terms, caps.max_object_fifo_depth, "buffers")


def build_buffer_descriptors(ctx: ModelContext) -> None:
    if not _enabled(ctx, "aie.buffer_descriptors"):
        return
    for core, caps in _tiles(ctx):
        if core.kind == "shim":
            terms = _transfer_terms(ctx, core.id, "in") + _transfer_terms(ctx, core.id, "out")
        elif core.kind == "memory":
            terms = _buffer_terms(ctx, core.id, lambda level: level.bds)
        else:
            terms = _buffer_terms(ctx, core.id, lambda level: level.tiles)
        _add(ctx, "buffer_descriptors", core, terms, caps.buffer_descriptors, "BDs")


def build_dma_channels(ctx: ModelContext) -> None:
    if not _enabled(ctx, "aie.dma_channels"):
        return
    for core, caps in _tiles(ctx):
        _add(ctx, "dma_in", core, _transfer_terms(ctx, core.id, "in"), caps.s2mm, "S2MM channels")
        _add(ctx, "dma_out", core, _transfer_terms(ctx, core.id, "out"), caps.mm2s, "MM2S channels")


def families() -> tuple[ConstraintFamily, ...]:
    ns = frozenset({NAMESPACE})
    return (
        ConstraintFamily(
            name="aie2.object_fifo_depth",
            build=build_object_fifo_depth,
            namespaces=ns,
            description="resident tiles per AIE tile <= max_object_fifo_depth",
        ),
        ConstraintFamily(
            name="aie2.buffer_descriptors",
            build=build_buffer_descriptors,
            namespaces=ns,
            description="buffer descriptors per AIE tile kind (compute tiles, mem-tile bds, shim transfers)",
        ),
        ConstraintFamily(
            name="aie2.dma_channels",
            build=build_dma_channels,
            namespaces=ns,
            description="transfers into / out of an AIE tile <= its S2MM / MM2S DMA channels",
        ),
    )
