"""Costing with stream-dse 2.1.1's fields: the accumulator width, the precision policy and its fallback,
biased MAC nodes, systolic drain and forced double buffering, checked against zigzag-dse's own API."""

from __future__ import annotations

import attrs
import pytest
from stream_zigzag.translate import translate
from zz_helpers import A, api_cost, context, conv, core_data, elementwise, gemm, make_core

from stream_core.errors import InputError
from stream_core.ir import CostRequest, Node, Operand

GEMM = {"operator_type": "Gemm", "equation": "O[d][k]+=W[c][k]*I[d][c]", "loop_dims": ["D", "C", "K"]}
CONV = {
    "operator_type": "Conv",
    "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
    "dimension_relations": ["ix=1*ox+1*fx", "iy=1*oy+1*fy"],
    "loop_dims": ["B", "OX", "OY", "FX", "FY", "C", "K"],
    "pr_loop_dims": ["IY", "IX"],
    "padding": [[1, 1], [1, 1]],
}
DATAFLOWS = {"D1": ["K, 16"], "D2": ["C, 16"]}


def cost(plugins, nodes, data, **settings):
    core = make_core(plugins, data)
    ctx = context(plugins, lpf_limit=settings.pop("lpf_limit", 3), **settings)
    return plugins.load("cost_models", "zigzag").cost([CostRequest(n, core) for n in nodes], ctx)


def array16(**fields):
    return {**core_data("array16"), "dataflows": DATAFLOWS, **fields}


def typed(node: Node, dtype: str) -> Node:
    return attrs.evolve(node, operands=[attrs.evolve(op, dtype=dtype) for op in node.operands])


def test_accumulator_width_prices_partial_sums_as_zigzag_does(zz_plugins, tmp_path):
    node = typed(gemm(32, 64, 48), "int8")
    precision = {"input": "int8", "accumulator": "int32"}
    wide, plain = (
        cost(zz_plugins, [node], array16(operand_precision=precision))[0],
        cost(zz_plugins, [node], array16())[0],
    )
    layer = {**GEMM, "loop_sizes": [32, 64, 48], "operand_precision": {"I": 8, "W": 8, "O": 32, "O_final": 8}}
    latency, energy, _ = api_cost(tmp_path, "array16", layer, spatial_mapping=DATAFLOWS)
    assert (wide.latency, wide.energy_pj) == (latency, pytest.approx(energy, rel=1e-12))
    assert wide.energy_pj != plain.energy_pj  # LOMA's best ordering changes with 32-bit partial sums
    assert wide.detail("precision") == (
        "workload dtypes (int8); partial sums at core accumulator int32; core input int8 informational: "
        "I 8, W 8, O 32, O_final 8 bits"
    )
    assert plain.detail("precision") == "workload dtypes (int8): I 8, W 8, O 8, O_final 8 bits"


def test_precision_policies(zz_plugins):
    core = make_core(zz_plugins, array16(operand_precision={"input": "int8", "accumulator": "int32"})).description
    wide = typed(gemm(16, 16, 16, bits=16), "int16")
    add = elementwise("Add", n=64, inputs=2, bits=16)

    def widths(node, policy):
        return dict(translate(node, core, policy).spec.precision)

    assert widths(wide, "workload") == {"I": 16, "W": 16, "O": 32, "O_final": 16}
    assert widths(wide, "hardware") == {"I": 8, "W": 8, "O": 32, "O_final": 8}
    assert widths(add, "workload") == {"I": 16, "W": 16, "O": 16, "O_final": 16}  # no accumulation
    assert widths(add, "hardware") == {"I": 8, "W": 8, "O": 8, "O_final": 8}
    older = make_core(zz_plugins, array16(operand_precision={"I2": 4, "O": 24})).description
    for policy in ("workload", "hardware"):  # the older form is the core's widths whatever the policy
        assert dict(translate(wide, older, policy).spec.precision) == {"I": 16, "W": 4, "O": 24, "O_final": 16}


def test_hardware_policy_costs_the_datapath_widths(zz_plugins):
    data = array16(operand_precision={"input": "int8", "accumulator": "int32"})
    hardware = cost(zz_plugins, [typed(gemm(16, 32, 16, bits=16), "int16")], data, precision="hardware")[0]
    narrow = cost(zz_plugins, [typed(gemm(16, 32, 16), "int8")], data)[0]
    assert (hardware.latency, hardware.energy_pj) == (narrow.latency, narrow.energy_pj)
    assert hardware.detail("precision") == (
        "core hardware widths (input int8, accumulator int32): I 8, W 8, O 32, O_final 8 bits"
    )


def test_precision_setting_is_checked_and_in_the_token(zz_plugins):
    model = zz_plugins.load("cost_models", "zigzag")
    with pytest.raises(InputError) as info:
        model.cost([], context(zz_plugins, precision="exact"))
    assert [(p.field, p.message) for p in info.value.problems] == [
        ("zigzag.precision", "expected 'workload' or 'hardware', got 'exact'")
    ]
    default, hardware = (model.cache_token(context(zz_plugins, **s)) for s in ({}, {"precision": "hardware"}))
    assert default.endswith("|precision workload") and hardware.endswith("|precision hardware")


def test_fp32_on_a_16_bit_register_falls_back_to_stream_defaults(zz_plugins, tmp_path):
    # tpu_like's partial-sum register rf_2B holds 16 bits: no 32-bit element fits it
    node = typed(conv(c=8, k=16, oy=8, ox=8, bits=32), "float32")
    result = cost(zz_plugins, [node], core_data("tpu_like"))[0]
    assert result.model == "zigzag" and result.feasible and result.detail("fallback_reason") is None
    assert result.detail("precision_fallback") == (
        "asked workload dtypes (float32): I 32, W 32, O 32, O_final 32 bits, but memory 'rf_2B' (16 bits) cannot "
        "hold one 32-bit O element; used Stream's classic ONNX defaults: I 8, W 8, O 16, O_final 8 bits"
    )
    layer = {**CONV, "loop_sizes": [1, 8, 8, 3, 3, 8, 16], "operand_precision": {"I": 8, "W": 8, "O": 16, "O_final": 8}}
    latency, energy, _ = api_cost(tmp_path, "tpu_like", layer)
    assert (result.latency, result.energy_pj) == (latency, pytest.approx(energy, rel=1e-12))


def test_fallback_prefers_the_cores_declared_widths(zz_plugins):
    core = make_core(zz_plugins, {**core_data("tpu_like"), "operand_precision": {"input": "int8"}}).description
    translation = translate(typed(conv(c=8, k=16, oy=8, ox=8, bits=32), "float32"), core)
    assert dict(translation.spec.precision) == {"I": 8, "W": 8, "O": 8, "O_final": 8}
    assert translation.precision.fallback.endswith(
        "used core hardware widths (input int8): I 8, W 8, O 8, O_final 8 bits"
    )


def test_biased_conv_costs_the_two_mac_operands(zz_plugins):
    plain = conv(c=8, k=16, oy=8, ox=8)
    operands = list(plain.operands)
    operands.insert(2, Operand("weight", "b", 8, (A("K"),)))  # as the ONNX plugin places Conv's bias
    biased = attrs.evolve(plain, operands=operands)
    with_bias, without = cost(zz_plugins, [biased, plain], core_data("tpu_like"))
    assert with_bias.model == "zigzag" and with_bias.detail("fallback_reason") is None
    assert (with_bias.latency, with_bias.energy_pj) == (without.latency, without.energy_pj)
    assert with_bias.detail("bias_not_priced") == "b" and without.detail("bias_not_priced") is None


def test_gemm_bias_and_a_third_reduction_operand(zz_plugins):
    core = make_core(zz_plugins, core_data("array16")).description
    plain = gemm(8, 8, 8)
    a, w, y = plain.operands
    biased = attrs.evolve(plain, operands=[a, w, Operand("weight", "c", 8, (A("D"), A("K"))), y])
    assert translate(biased, core).spec == translate(plain, core).spec
    reduced = attrs.evolve(plain, operands=[a, w, Operand("weight", "s", 8, (A("C"),)), y])
    result = cost(zz_plugins, [reduced], core_data("array16"))[0]
    assert result.model == "roofline"
    assert result.detail("fallback_reason") == "3 input operands; ZigZag costs operators with one or two inputs"


def test_systolic_drain_is_reported_apart_from_the_tile_latency(zz_plugins):
    """A 16x16 systolic array drains (16 - 1) + (16 - 1) cycles after a tile; the next tile enters behind
    it, so the tile's latency is the plain array's and the drain is a detail the allocator adds once per
    chain (``AllocationProblem.drain``), as stream-dse 2.1.1 does."""
    node = gemm(32, 64, 48)
    data = array16()
    data["operational_array"] = {**data["operational_array"], "systolic_dimensions": ["D1", "D2"]}
    systolic, plain = cost(zz_plugins, [node], data)[0], cost(zz_plugins, [node], array16())[0]
    assert systolic.detail("drain_cycles") == (16 - 1) + (16 - 1) and plain.detail("drain_cycles") == 0
    assert systolic.latency == plain.latency


def test_forced_double_buffering_reaches_zigzag(zz_plugins, tmp_path):
    data = array16()
    data["memories"]["rf_o"] = {**data["memories"]["rf_o"], "force_double_buffering": True}
    node = gemm(32, 64, 48)
    forced, plain = cost(zz_plugins, [node], data)[0], cost(zz_plugins, [node], array16())[0]
    layer = {**GEMM, "loop_sizes": [32, 64, 48], "operand_precision": {"I": 8, "W": 8, "O": 8, "O_final": 8}}
    zigzag_data = {k: v for k, v in data.items() if k != "dataflows"}
    latency, energy, _ = api_cost(tmp_path, "array16", layer, spatial_mapping=DATAFLOWS, data=zigzag_data)
    assert (forced.latency, forced.energy_pj) == (latency, pytest.approx(energy, rel=1e-12))
    assert forced.energy_pj != plain.energy_pj  # LOMA counts rf_o's slice twice: fewer loops fit in it
