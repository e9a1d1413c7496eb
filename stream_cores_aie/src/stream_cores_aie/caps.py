"""Per-tile resource caps (DMA channels, buffer descriptors, object-FIFO depth) on an accelerator.

The off-chip core of our hardware files is the shim of column 0 standing for DDR behind every shim
(each column's shim DMA reads DDR through the NoC), so an off-chip aie2 shim gets the sums of the
DMA channels and buffer descriptors of all aie2 shims of the accelerator.
"""

from __future__ import annotations

import attrs

from stream_core.ir.accelerator import Accelerator, Core
from stream_cores_aie.description import AieCore


@attrs.frozen
class TileCaps:
    mm2s: int
    s2mm: int
    buffer_descriptors: int
    max_object_fifo_depth: int


def aie_cores(accelerator: Accelerator) -> list[tuple[Core, AieCore]]:
    """The cores read by this package, by id."""
    return [(c, c.description) for _, c in sorted(accelerator.cores.items()) if isinstance(c.description, AieCore)]


def tile_caps(accelerator: Accelerator, core: Core) -> TileCaps | None:
    """Caps of ``core`` (``None`` when it is not an AIE core)."""
    desc = core.description
    if not isinstance(desc, AieCore):
        return None
    if core.id == accelerator.offchip_core_id and core.kind == "shim":
        shims = [d for c, d in aie_cores(accelerator) if c.kind == "shim"]
        return TileCaps(
            mm2s=sum(d.mm2s for d in shims),
            s2mm=sum(d.s2mm for d in shims),
            buffer_descriptors=sum(d.buffer_descriptors for d in shims),
            max_object_fifo_depth=desc.max_object_fifo_depth,
        )
    return TileCaps(desc.mm2s, desc.s2mm, desc.buffer_descriptors, desc.max_object_fifo_depth)
