"""Built-in constraint families that go through the same public context as plugins' families."""

from __future__ import annotations

from stream_core.ir.lp import Model
from stream_tetra.api import ConstraintFamily, ModelContext


def _memory_capacity(ctx: ModelContext) -> None:
    """The buffers of every core using a top memory fit it, once per memory: cores sharing one
    (``core_memory_sharing``) add up against its owner's capacity (off-chip cores excepted)."""
    acc = ctx.accelerator
    users: dict[int, list[int]] = {}
    for core in ctx.cores():
        if core.kind != "offchip":
            users.setdefault(acc.memory_of(core.id), []).append(core.id)
    for memory, cores in users.items():
        shared = len(cores) > 1
        terms = [
            (
                f"{view.tensor} ({view.role} buffer of {view.node}{f' on core {core}' if shared else ''}, "
                f"level {level.level}, {level.tiles} tiles)",
                level.bits * level.resident,
            )
            for core in cores
            for view in ctx.buffers_on(core)
            for level in view.levels
        ]
        if terms:
            demand = Model.sum(t for _, t in terms)
            ctx.add_capacity("memory", memory, demand, acc.cores[memory].summary.memory_bits, "bits", terms)


BUILTIN_FAMILIES = (
    ConstraintFamily(
        name="memory_capacity",
        build=_memory_capacity,
        description="buffers on the cores using a top memory (ring depth x bits at the chosen level) fit it",
    ),
)
