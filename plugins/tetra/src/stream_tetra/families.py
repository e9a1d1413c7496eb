"""Built-in constraint families that go through the same public context as plugins' families."""

from __future__ import annotations

from stream_solvers.model import Model

from stream_tetra.api import ConstraintFamily, ModelContext


def _memory_capacity(ctx: ModelContext) -> None:
    """Every core's buffers fit its top memory (off-chip cores excepted)."""
    for core in ctx.cores():
        if core.kind == "offchip":
            continue
        terms = [
            (
                f"{view.tensor} ({view.role} buffer of {view.node}, level {level.level}, {level.tiles} tiles)",
                level.bits * level.resident,
            )
            for view in ctx.buffers_on(core.id)
            for level in view.levels
        ]
        if terms:
            demand = Model.sum(t for _, t in terms)
            ctx.add_capacity("memory", core.id, demand, core.summary.memory_bits, "bits", terms)


BUILTIN_FAMILIES = (
    ConstraintFamily(
        name="memory_capacity",
        build=_memory_capacity,
        description="buffers on a core (ring depth x bits at the chosen level) fit its top memory",
    ),
)
