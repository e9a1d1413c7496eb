"""The ``tetra_register_constraints`` hook: another package adds a constraint family in-process.

The family caps the tiles each core keeps resident (like an AIE object-FIFO depth), reading the
cap from a run setting. Workload: ``t0 -> relu_0 -> t1``, 8 int8 elements in 4 tiles of 2, on core 0.
Core 0's least resident tiles: t0 one tile at a time (ring of 2 with double buffering) or one
4-tile block, plus relu_0's output ring of 2 -> at least 4 tiles.
"""

from __future__ import annotations

import pytest
from stream_tetra.api import ConstraintFamily, ModelContext
from tetra_helpers import core
from tetra_workloads import relu_chain

from stream_core import RunOptions, hookimpl, run
from stream_core.errors import InfeasibleError
from stream_core.ir.lp import Model
from stream_core.testing import check_schedule


def _fifo_depth(ctx: ModelContext) -> None:
    cap = int(ctx.setting("test.max_tiles", 1000))
    for c in ctx.cores(namespace="tetratoy", kind="compute"):
        views = ctx.buffers_on(c.id)
        demand = Model.sum(level.tiles * level.resident for v in views for level in v.levels)
        ctx.add_capacity("resident_tiles", c.id, demand, cap, unit="tiles")


def _never(ctx: ModelContext) -> None:
    ctx.add(ctx.latency <= 0, "impossible")


class FifoPlugin:
    @hookimpl
    def tetra_register_constraints(self):
        yield ConstraintFamily(name="fifo_depth", build=_fifo_depth, namespaces={"tetratoy"})
        yield ConstraintFamily(name="aie_only", build=_never, namespaces={"aie2"})


MAPPING = {
    "layers": [{"name": "relu_0", "core_allocation": [[0]]}],
    "fused_groups": [{"name": "g", "layers": ["relu_0"], "intra_core_tiling": [{"dim": "relu_0.D0", "tile": 2}]}],
}


@pytest.fixture
def case(plugins, hardware, write_mapping):
    plugins.register(FifoPlugin(), name="fifo-plugin")
    return plugins, hardware([core("a")]), write_mapping(MAPPING)


def test_a_tight_family_makes_the_allocation_infeasible(case):
    plugins, acc, mapping = case
    with pytest.raises(InfeasibleError) as error:
        run(relu_chain(8, 1), acc, mapping, plugins=plugins, options=RunOptions(settings={"test.max_tiles": 3}))
    assert "core 0 (a): resident_tiles needs at least 4 tiles but holds 3 tiles" in "\n".join(error.value.report)


def test_the_relaxed_family_is_feasible_and_binding(case):
    """With 4 tiles allowed, t0 must come one tile at a time (the 4-tile block would need 6)."""
    plugins, acc, mapping = case
    outcome = run(relu_chain(8, 1), acc, mapping, plugins=plugins, options=RunOptions(settings={"test.max_tiles": 4}))
    stats = dict(outcome.result.groups[0].stats)
    assert stats["choices"]["input:relu_0:t0#0"].endswith("level -1")
    assert check_schedule(outcome.result, outcome.problem) == []


def test_families_of_absent_core_types_are_not_built(case):
    """The ``aie2`` family (latency <= 0) would make every model infeasible; it is skipped."""
    plugins, acc, mapping = case
    outcome = run(relu_chain(8, 1), acc, mapping, plugins=plugins)
    assert outcome.result.totals.latency > 0
    assert check_schedule(outcome.result, outcome.problem) == []


def test_hook_spec_is_documented(plugins):
    spec = plugins.hook.tetra_register_constraints.spec
    assert "Added in stream-tetra 0.1" in spec.function.__doc__


def _dma(ctx: ModelContext) -> None:
    cap = ctx.setting("test.dma_in")
    if cap is not None:
        for c in ctx.cores(kind="compute"):
            ctx.add_capacity("dma_in", c.id, ctx.dma_in(c.id), int(cap), unit="channels")
    if ctx.setting("test.prefer_core_1"):
        ctx.add_objective("prefer_core_1", ctx.placed_on("relu_0", 0), priority=1)
    if ctx.setting("test.penalise_core_1"):
        ctx.add_latency_term(1000 * ctx.placed_on("relu_0", 1))


class DmaPlugin:
    @hookimpl
    def tetra_register_constraints(self):
        yield ConstraintFamily(name="dma", build=_dma, namespaces={"tetratoy"})


@pytest.fixture
def two_cores(plugins, hardware, write_mapping):
    """relu_0 (one tile) may run on core 0 or core 1 (identical); t0 comes from DRAM, t1 goes back."""
    plugins.register(DmaPlugin(), name="dma-plugin")
    mapping = write_mapping({"layers": [{"name": "relu_0", "core_allocation": [[0, 1]]}]})
    return plugins, hardware([core("a"), core("b")]), mapping


def test_dma_channel_counts_reach_the_model(two_cores):
    """t0 must move into whichever core runs relu_0: with no inbound channel anywhere, neither core
    alone explains it (each can be avoided), so the report is the solver's conflict: both caps and
    the placement of relu_0."""
    plugins, acc, mapping = two_cores
    with pytest.raises(InfeasibleError) as error:
        run(relu_chain(8, 1), acc, mapping, plugins=plugins, options=RunOptions(settings={"test.dma_in": 0}))
    (line,) = error.value.report
    assert line.startswith("conflicting constraints:")
    assert "dma:dma_in[core 0]" in line and "dma:dma_in[core 1]" in line
    fine = run(relu_chain(8, 1), acc, mapping, plugins=plugins, options=RunOptions(settings={"test.dma_in": 1}))
    assert check_schedule(fine.result, fine.problem) == []


def test_plugin_objectives_rank_after_latency(two_cores):
    """Both cores give the same latency, traffic and buffering: the plugin's objective level picks
    core 1. A latency term penalising core 1 outranks it: core 0, and the latency level's value
    (reported as milp_latency) is the plain latency because the term is 0 there."""
    plugins, acc, mapping = two_cores
    prefer = {"test.prefer_core_1": True}
    outcome = run(relu_chain(8, 1), acc, mapping, plugins=plugins, options=RunOptions(settings=prefer))
    assert [t.core for t in outcome.result.tiles] == [1]
    assert check_schedule(outcome.result, outcome.problem) == []
    both = {**prefer, "test.penalise_core_1": True}
    outcome = run(relu_chain(8, 1), acc, mapping, plugins=plugins, options=RunOptions(settings=both))
    assert [t.core for t in outcome.result.tiles] == [0]
    stats = dict(outcome.result.groups[0].stats)
    assert stats["milp_latency"] == outcome.result.totals.latency == 8 + 2 + 8
    assert stats["prefer_core_1"] == 1.0
    assert check_schedule(outcome.result, outcome.problem) == []
