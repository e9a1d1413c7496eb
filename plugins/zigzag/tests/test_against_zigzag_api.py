"""Costs of four layers checked against zigzag-dse's own public API on equivalent hand-written inputs.

``zigzag.api.get_hardware_performance_zigzag`` is called here directly with a workload written in
ZigZag's layer schema, the core YAML (minus Stream's ``type`` key) and a ZigZag mapping file in
``tmp_path``: an independent path through ZigZag's parsers. Both sides use LOMA with lpf_limit 3,
uneven temporal mapping and one generated spatial mapping.
"""

from __future__ import annotations

import pytest
from zz_helpers import api_cost, context, conv, core_data, depthwise, gemm, make_core

from stream_core.ir import CostRequest

LPF = 3


def model_cost(zz_plugins, core_name, node, dataflows=None):
    data = core_data(core_name)
    if dataflows:
        data["dataflows"] = dataflows
    core = make_core(zz_plugins, data)
    result = zz_plugins.load("cost_models", "zigzag").cost(
        [CostRequest(node, core)], context(zz_plugins, lpf_limit=LPF)
    )[0]
    assert result.model == "zigzag" and result.feasible
    return result


CONV_DIMS = ["B", "OX", "OY", "FX", "FY", "C", "K"]
PRECISION = {"O": 8, "O_final": 8, "W": 8, "I": 8}


def test_conv_3x3_generated_spatial_mapping(zz_plugins, tmp_path):
    node = conv(c=8, k=16, oy=16, ox=16)
    layer = {
        "operator_type": "Conv",
        "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
        "dimension_relations": ["ix=1*ox+1*fx", "iy=1*oy+1*fy"],
        "loop_dims": CONV_DIMS,
        "loop_sizes": [1, 16, 16, 3, 3, 8, 16],
        "operand_precision": PRECISION,
        "pr_loop_dims": ["IY", "IX"],
        "padding": [[1, 1], [1, 1]],
    }
    latency, energy, cme = api_cost(tmp_path, "tpu_like", layer)
    result = model_cost(zz_plugins, "tpu_like", node)
    assert result.latency == latency
    assert result.energy_pj == pytest.approx(energy, rel=1e-12)
    assert result.ideal_cycles == cme.ideal_cycle == 16 * 16 * 9 * 8 * 16 // 1024
    assert result.detail("mac_spatial_utilization") == pytest.approx(cme.mac_spatial_utilization)


def test_gemm_with_core_dataflows(zz_plugins, tmp_path):
    node = gemm(64, 128, 96)
    layer = {
        "operator_type": "Gemm",
        "equation": "O[d][k]+=W[c][k]*I[d][c]",
        "loop_dims": ["D", "C", "K"],
        "loop_sizes": [64, 128, 96],
        "operand_precision": PRECISION,
    }
    latency, energy, cme = api_cost(tmp_path, "array16", layer, spatial_mapping={"D1": ["K, 16"], "D2": ["C, 16"]})
    result = model_cost(zz_plugins, "array16", node, dataflows={"D1": ["K, 16"], "D2": ["C, 16"]})
    assert result.latency == latency
    assert result.energy_pj == pytest.approx(energy, rel=1e-12)
    assert result.detail("spatial_mapping") == "D1: K 16; D2: C 16"
    assert result.detail("mac_spatial_utilization") == pytest.approx(cme.mac_spatial_utilization) == pytest.approx(1.0)
    assert result.ideal_cycles == 64 * 128 * 96 // 256


def test_strided_conv(zz_plugins, tmp_path):
    node = conv(c=16, k=32, oy=8, ox=8, stride=2, pad=1)
    layer = {
        "operator_type": "Conv",
        "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
        "dimension_relations": ["ix=2*ox+1*fx", "iy=2*oy+1*fy"],
        "loop_dims": CONV_DIMS,
        "loop_sizes": [1, 8, 8, 3, 3, 16, 32],
        "operand_precision": PRECISION,
        "pr_loop_dims": ["IY", "IX"],
        "padding": [[1, 1], [1, 1]],
    }
    latency, energy, _ = api_cost(tmp_path, "array16", layer, spatial_mapping={"D1": ["K, 16"], "D2": ["C, 16"]})
    result = model_cost(zz_plugins, "array16", node, dataflows={"D1": ["K, 16"], "D2": ["C, 16"]})
    assert result.latency == latency
    assert result.energy_pj == pytest.approx(energy, rel=1e-12)


def test_depthwise_conv(zz_plugins, tmp_path):
    node = depthwise(k=32, oy=16, ox=16)
    layer = {
        "operator_type": "Conv",
        "equation": "O[b][k][oy][ox]+=W[k][fy][fx]*I[b][k][iy][ix]",
        "dimension_relations": ["ix=1*ox+1*fx", "iy=1*oy+1*fy"],
        "loop_dims": ["B", "OX", "OY", "FX", "FY", "K"],
        "loop_sizes": [1, 16, 16, 3, 3, 32],
        "operand_precision": PRECISION,
        "pr_loop_dims": ["IY", "IX"],
        "padding": [[1, 1], [1, 1]],
    }
    latency, energy, _ = api_cost(tmp_path, "tpu_like", layer)
    result = model_cost(zz_plugins, "tpu_like", node)
    assert result.latency == latency
    assert result.energy_pj == pytest.approx(energy, rel=1e-12)


def test_mixed_spatial_unrolling_when_it_fills_more_of_the_array(zz_plugins, tmp_path):
    """K 4, C 4, OY 4, OX 4 on 16 x 16 PEs: one loop per array dimension keeps 4 x 4 of 256 PEs busy, two loops
    per dimension all 256; stream-dse 2.1.1 then costs both and keeps the faster: 35 cycles mixed against 163 with
    one loop per dimension (checked against ZigZag's own parsers and stages, DRAM kept as Stream keeps it)."""
    node = conv(c=4, k=4, oy=4, ox=4)
    layer = {
        "operator_type": "Conv",
        "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
        "dimension_relations": ["ix=1*ox+1*fx", "iy=1*oy+1*fy"],
        "loop_dims": CONV_DIMS,
        "loop_sizes": [1, 4, 4, 3, 3, 4, 4],
        "operand_precision": PRECISION,
        "pr_loop_dims": ["IY", "IX"],
        "padding": [[1, 1], [1, 1]],
    }
    latency, energy, cme = api_cost(tmp_path, "array16", layer)
    result = model_cost(zz_plugins, "array16", node)
    assert (result.latency, result.energy_pj) == (latency, pytest.approx(energy, rel=1e-12))
    assert result.detail("mac_spatial_utilization") == cme.mac_spatial_utilization == 1.0
    assert result.detail("spatial_mapping") == "D1: OX 4, OY 4; D2: C 4, K 4"  # ZigZag's pick under Stream's names
    assert result.latency == 35
    assert result.ideal_cycles == 4 * 4 * 4 * 4 * 9 // 256


def test_dimensions_are_named_as_stream_names_them(zz_plugins, tmp_path):
    """ZigZag ranks K 16 x OX 16 and OX 16 x OY 16 alike on 16 x 16 PEs (both fill the array, both unroll no loop
    more than 16 times) and keeps the one it enumerates first, an order that follows the dimension names. Named
    ``D0..D6`` by position, as stream-dse 2.1.1 names them, ZigZag picks OX x OY: 1,443 cycles against 579 under
    the names ``K``, ``OX``. Ours must be what ZigZag gives on the layer as Stream builds it."""
    node = conv(c=2, k=16, oy=16, ox=16, bits=16)
    layer = {
        "operator_type": "Conv",
        "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
        "dimension_relations": ["ix=1*ox+1*fx", "iy=1*oy+1*fy"],
        "loop_dims": CONV_DIMS,
        "loop_sizes": [1, 16, 16, 3, 3, 2, 16],
        "operand_precision": {"I": 16, "W": 16, "O": 32, "O_final": 16},
        "pr_loop_dims": ["IY", "IX"],
        "padding": [[1, 1], [1, 1]],
    }
    zigzag_keys = {k: v for k, v in core_data("os_array16").items() if k != "operand_precision"}
    latency, energy, cme = api_cost(tmp_path, "os_array16", layer, data=zigzag_keys)
    result = model_cost(zz_plugins, "os_array16", node)
    assert (result.latency, result.energy_pj) == (latency - cme.systolic_drain_cycle, pytest.approx(energy, rel=1e-12))
    assert result.detail("spatial_mapping") == "D1: OX 16; D2: OY 16"
    assert result.latency == 1443


def test_gemm_with_a_folded_flatten(zz_plugins, tmp_path):
    """A Gemm reading a flattened [1, 4, 4, 4] tensor as the ONNX plugin folds the Flatten: its reduction loop
    split into C (4) with C_1, C_2 (4 each) appended, the weight row ``16*C + 4*C_1 + C_2`` one index per loop."""
    from stream_core.ir import AffineExpr, LoopDim, Node, Operand

    loops = [("D", 1), ("C", 4), ("K", 10), ("C_1", 4), ("C_2", 4)]
    row = AffineExpr((("C", 16), ("C_1", 4), ("C_2", 1)))
    node = Node(
        "fc",
        "Gemm",
        [LoopDim(n, s) for n, s in loops],
        [
            Operand("input", "c", 8, (AffineExpr.constant(0), *(AffineExpr.of(d) for d in ("C", "C_1", "C_2")))),
            Operand("weight", "w", 8, (row, AffineExpr.of("K"))),
            Operand("output", "y", 8, (AffineExpr.of("D"), AffineExpr.of("K"))),
        ],
        mac_op=True,
    )
    layer = {
        "operator_type": "Gemm",
        "equation": "O[d][k]+=W[c][c1][c2][k]*I[c][c1][c2]",
        "loop_dims": ["D", "C", "K", "C1", "C2"],
        "loop_sizes": [1, 4, 10, 4, 4],
        "operand_precision": PRECISION,
    }
    latency, energy, _ = api_cost(tmp_path, "tpu_like", layer)
    result = model_cost(zz_plugins, "tpu_like", node)
    assert result.latency == latency
    assert result.energy_pj == pytest.approx(energy, rel=1e-12)
