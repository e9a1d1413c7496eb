"""One-input operators (Relu, MaxPool, Silu) costed by ZigZag as ``O[..] = I[..]``, checked against ZigZag's own
parsers and stages (:func:`zz_helpers.api_cost_one_input`), and the cores that cannot take them."""

from __future__ import annotations

import pytest
import yaml
from zz_helpers import A, api_cost_one_input, context, core_data, elementwise, gemm, make_core

from stream_core.ir import AffineExpr, CostRequest, LoopDim, Node, Operand

LPF = 3
RELU_LAYER = {
    "operator_type": "Relu",
    "equation": "O[d0]=I[d0]",
    "loop_dims": ["D0"],
    "loop_sizes": [256],
    "operand_precision": {"I": 8, "O": 8, "O_final": 8},
}


def cost(plugins, node, data):
    request = CostRequest(node, make_core(plugins, data))
    return plugins.load("cost_models", "zigzag").cost([request], context(plugins, lpf_limit=LPF))[0]


def maxpool(k=16, oy=8, ox=8) -> Node:
    """MaxPool, kernel 2, stride 2, as the ONNX plugin names its loops: input (B, K, 2*OY+FY, 2*OX+FX)."""
    window = (AffineExpr((("OY", 2), ("FY", 1))), AffineExpr((("OX", 2), ("FX", 1))))
    loops = [("B", 1), ("K", k), ("OY", oy), ("OX", ox), ("FY", 2), ("FX", 2)]
    return Node(
        "pool",
        "MaxPool",
        [LoopDim(n, s) for n, s in loops],
        [
            Operand("input", "x", 8, (A("B"), A("K"), *window)),
            Operand("output", "y", 8, (A("B"), A("K"), A("OY"), A("OX"))),
        ],
    )


def test_relu_on_the_simd_core(zz_plugins, tmp_path):
    result = cost(zz_plugins, elementwise("Relu", n=256), core_data("simd"))
    latency, energy, _ = api_cost_one_input(tmp_path, "simd", RELU_LAYER, LPF)
    assert result.model == "zigzag" and result.detail("fallback_reason") is None
    assert (result.latency, result.energy_pj) == (latency, pytest.approx(energy, rel=1e-12))
    # 256 points on 64 lanes; 2048 bits read and written at 512 bits per access: 4 reads (60 pJ), 4 writes (75 pJ)
    assert result.latency == 4 == result.ideal_cycles
    assert result.energy_pj == pytest.approx(256 * 0.1 + 4 * 60 + 4 * 75)
    assert result.detail("precision") == "workload dtypes (8-bit): I 8, O 8, O_final 8 bits"
    assert result.detail("cycles_per_op") is None


def test_maxpool_on_a_core_without_i2(zz_plugins, tmp_path):
    from stream_zigzag.translate import translate

    core = make_core(zz_plugins, core_data("vector8x8"))
    translation = translate(maxpool(), core.description)
    assert translation.spec.equation == "O[d0][d1][d2][d3] = I[d0][d1][d6][d7]"
    assert translation.spec.links == (("I", "I1"), ("O", "O"))
    assert translation.footprint_bits == {"I1": 16 * 16 * 16 * 8, "O": 16 * 8 * 8 * 8}
    layer = {
        "operator_type": "Pooling",
        "equation": "O[b][k][oy][ox]+=I[b][k][iy][ix]",
        "dimension_relations": ["ix=2*ox+1*fx", "iy=2*oy+1*fy"],
        "loop_dims": ["B", "K", "OY", "OX", "FY", "FX"],
        "loop_sizes": [1, 16, 8, 8, 2, 2],
        "operand_precision": {"I": 8, "O": 8, "O_final": 8},
        "pr_loop_dims": ["IY", "IX"],
        "padding": [[0, 0], [0, 0]],
    }
    latency, energy, cme = api_cost_one_input(tmp_path, "vector8x8", layer, LPF)
    result = cost(zz_plugins, maxpool(), core_data("vector8x8"))
    assert result.model == "zigzag" and result.feasible
    assert (result.latency, result.energy_pj) == (latency, pytest.approx(energy, rel=1e-12))
    assert result.ideal_cycles == cme.ideal_cycle == 16 * 8 * 8 * 4 // 64


@pytest.mark.parametrize("core_name", ["simd", "vector8x8"])
def test_silu_takes_four_cycles_per_operation(zz_plugins, tmp_path, core_name):
    silu = cost(zz_plugins, elementwise("Silu", n=256), core_data(core_name))
    relu = cost(zz_plugins, elementwise("Relu", n=256), core_data(core_name))
    latency, energy, _ = api_cost_one_input(tmp_path, core_name, RELU_LAYER, LPF, cycles_per_op=4)
    assert silu.model == "zigzag" and silu.detail("cycles_per_op") == 4
    assert (silu.latency, silu.energy_pj) == (latency, pytest.approx(energy, rel=1e-12))
    assert silu.ideal_cycles == 4 * relu.ideal_cycles == 16
    assert silu.energy_pj == relu.energy_pj  # same accesses and operations, only slower
    if core_name == "simd":  # compute-bound: four times the one-cycle latency
        assert silu.latency == 4 * relu.latency == 16
    else:  # 64 lanes of 8 bits behind 256-bit SRAM ports: memory-bound, the slower operations hide part of the stall
        assert relu.latency == 14 and silu.latency == 24


def test_cores_without_the_operands_fall_back(zz_plugins):
    data = yaml.safe_load(yaml.safe_dump(core_data("vector8x8")).replace("I1", "I2"))
    relu = cost(zz_plugins, elementwise("Relu", n=256), data)
    assert relu.model == "roofline"
    assert relu.detail("fallback_reason") == "core 'vector8x8' has no memory for operand(s) I1"
    mm = cost(zz_plugins, gemm(8, 8, 8), core_data("vector8x8"))
    assert mm.model == "roofline"
    assert mm.detail("fallback_reason") == "core 'vector8x8' has no memory for operand(s) I2"
