"""GPT-2 and Llama decoder blocks (64 tokens) compile for the U55C within one SLR's blocks and stream with
at most 0.20x of the on-chip memory full-tensor buffering would take, at the unbounded design's throughput."""

from __future__ import annotations

import math

import pytest
from stream_blocks.api import block_workload
from stream_fpga_u55c.compile import CompileOptions, compile_workload
from stream_itensor.api import streaming_context

from stream_core.context import RunContext
from stream_core.ir import OperandRole

BLOCKS = ["gpt2?d=768&t=64", "llama?d=768&h=12&kvh=4&ffn=2048&t=64"]


@pytest.mark.slow
@pytest.mark.parametrize("spec", BLOCKS)
def test_block_compiles_and_streams(spec: str, context: RunContext) -> None:
    compiled = compile_workload(block_workload(spec, streaming_context(context)), context, CompileOptions())
    plan, workload = compiled.plan, compiled.design.workload
    # full-tensor buffering, counted from the workload: every tensor a node produces, once per reading operand
    produced = {n.output.tensor for n in workload.nodes}
    full = sum(
        32 * math.prod(workload.tensor(op.tensor).shape)
        for n in workload.nodes
        for op in n.operands
        if op.role is not OperandRole.OUTPUT and op.tensor in produced
    )
    assert plan.full_tensor_bits == full
    activations = sum(f.bits for f in plan.fifos) + plan.converter_bits
    assert plan.activation_ratio == activations / full <= 0.20
    assert compiled.performance.throughput_ratio >= 0.95
    for i, slr in enumerate(compiled.estimate.platform.slrs):
        bram, uram, dsp = compiled.estimate.slr_use(i)
        assert bram <= slr.bram36 and uram <= slr.uram and dsp <= slr.dsp
