"""Dataflow matching: core ``dataflows`` and mapping hints are applied to the node's own loop names."""

from __future__ import annotations

import pytest
from zz_helpers import api_cost, context, conv, core_data, gemm, make_core

from stream_core.costing import cost_tiles
from stream_core.ir import CostRequest


def cost(plugins, node, dataflows=None, hints=(), ctx=None):
    data = core_data("array16")
    if dataflows is not None:
        data["dataflows"] = dataflows
    ctx = ctx or context(plugins, lpf_limit=2)
    request = CostRequest(node, make_core(plugins, data), hints=tuple(hints))
    return cost_tiles([request], ctx, cost_model="zigzag")[0], ctx  # the core warns what each answer says


def test_gemm_dataflows_fill_the_array_where_zigzag_drops_them(zz_plugins, tmp_path):
    # YAML flow-list spelling of the dataflows: D1: [K, 16] parses as ["K", 16]
    result, ctx = cost(zz_plugins, gemm(64, 64, 64), dataflows={"D1": ["K", 16], "D2": ["C", 16]})
    assert result.detail("spatial_mapping") == "D1: K 16; D2: C 16"
    assert result.detail("mac_spatial_utilization") == pytest.approx(1.0)
    assert result.ideal_cycles == 64**3 // 256
    assert ctx.warnings == []
    # ZigZag given Stream's D0..D2 layer dims and the K/C dataflow silently unrolls nothing
    layer = {
        "operator_type": "Gemm",
        "equation": "O[d0][d2]+=W[d1][d2]*I[d0][d1]",
        "loop_dims": ["D0", "D1", "D2"],
        "loop_sizes": [64, 64, 64],
        "operand_precision": {"O": 8, "O_final": 8, "W": 8, "I": 8},
    }
    latency, _, cme = api_cost(
        tmp_path, "array16", layer, spatial_mapping={"D1": ["K, 16"], "D2": ["C, 16"]}, lpf_limit=2
    )
    assert cme.mac_spatial_utilization == pytest.approx(1 / 256)
    assert latency > 100 * result.latency


def test_unmatched_entry_is_warned_once_and_left_to_zigzag(zz_plugins):
    ctx = context(zz_plugins, lpf_limit=2)
    first, _ = cost(zz_plugins, gemm(64, 64, 64), dataflows={"D1": ["K, 16"], "D2": ["OX, 16"]}, ctx=ctx)
    cost(zz_plugins, gemm(32, 64, 64), dataflows={"D1": ["K, 16"], "D2": ["OX, 16"]}, ctx=ctx)
    assert ctx.warnings == [
        "zigzag: core 'array16': spatial unrolling D2: OX, 16 (dataflows) names no loop of Gemm nodes; ignored for them"
    ]
    mapping = first.detail("spatial_mapping")
    assert mapping.startswith("D1: K 16; D2: ") and "OX" not in mapping  # D2 chosen by ZigZag's generator
    assert first.detail("mac_spatial_utilization") == pytest.approx(1.0)


def test_factors_are_clipped_to_loop_and_array(zz_plugins):
    result, _ = cost(zz_plugins, gemm(64, 64, 8), dataflows={"D1": ["K, 16"], "D2": ["C, 16"]})
    assert result.detail("spatial_mapping") == "D1: K 8; D2: C 16"  # K has only 8
    result, _ = cost(zz_plugins, gemm(64, 64, 64), dataflows={"D1": ["K, 16"], "D2": ["K, 16"]})
    assert result.detail("spatial_mapping") == "D1: K 16; D2: K 4"  # 64 / 16 left for D2
    result, _ = cost(zz_plugins, gemm(64, 64, 64), dataflows={"D1": ["K, 8", "C, 4"], "D2": ["D, 16"]})
    assert result.detail("spatial_mapping") == "D1: K 8, C 2; D2: D 16"  # the D1 product stays <= 16


def test_mapping_hint_overrides_core_dataflows(zz_plugins):
    hint = ("spatial_mapping", (("D1", ("C, 16",)), ("D2", ("K", 16))))  # frozen mapping-file value, both spellings
    result, ctx = cost(zz_plugins, gemm(64, 64, 64), dataflows={"D1": ["K, 16"], "D2": ["C, 16"]}, hints=[hint])
    assert result.detail("spatial_mapping") == "D1: C 16; D2: K 16"
    positional = ("spatial_mapping", (("D1", ("D2, 16",)),))  # D2 = the node's third loop (K)
    result, _ = cost(zz_plugins, gemm(64, 64, 64), hints=[positional])
    assert result.detail("spatial_mapping").startswith("D1: K 16; D2: ")
    assert ctx.warnings == []


def test_bad_hint_is_warned(zz_plugins):
    hint = ("spatial_mapping", (("D3", ("K, 16",)), ("D1", ("K, x",))))
    result, ctx = cost(zz_plugins, gemm(64, 64, 64), hints=[hint, ("temporal_ordering", (("K", 4),))])
    assert result.feasible and result.model == "zigzag"
    assert "zigzag: mapping hints temporal_ordering are not used by the zigzag cost model" in ctx.warnings
    assert any("spatial_mapping names 'D3', not a dimension of core 'array16'" in w for w in ctx.warnings)
    assert any("positive integer unroll factor for K, got 'x'" in w for w in ctx.warnings)


def test_conv_dataflows_on_output_pixels(zz_plugins):
    result, ctx = cost(zz_plugins, conv(c=8, k=32, oy=16, ox=16), dataflows={"D1": ["K, 16"], "D2": ["OX, 16"]})
    assert result.detail("spatial_mapping") == "D1: K 16; D2: OX 16"
    assert result.ideal_cycles == 16 * 16 * 9 * 8 * 32 // 256
    assert ctx.warnings == []


def test_spatial_mapping_hint_guides_the_generator(zz_plugins):
    hint = ("spatial_mapping_hint", (("D1", ("C",)), ("D2", ("K", "OX"))))
    result, ctx = cost(zz_plugins, gemm(64, 64, 64), hints=[hint])
    assert result.detail("spatial_mapping") == "D1: C 16; D2: K 16"
    assert ctx.warnings == []
