"""The cost model: fallbacks, infeasibility reports, settings, parallel runs and deduplication."""

from __future__ import annotations

from types import SimpleNamespace

import attrs
import pytest
from stream_zigzag import runner
from stream_zigzag.translate import translate
from zz_helpers import A, context, conv, core_data, elementwise, gemm, make_core

from stream_core.errors import InputError
from stream_core.ir import AffineExpr, CostRequest, LoopDim, Node, NodeKind, Operand


def model(plugins):
    return plugins.load("cost_models", "zigzag")


def without_timing(result):
    return attrs.evolve(result, details=[(k, v) for k, v in result.details if k != "zigzag_seconds"])


def test_binary_elementwise_goes_through_zigzag(zz_plugins):
    simd = make_core(zz_plugins, core_data("simd"))
    result = model(zz_plugins).cost([CostRequest(elementwise("Add", n=256, inputs=2), simd)], context(zz_plugins))[0]
    assert result.model == "zigzag" and result.feasible
    assert result.ideal_cycles == 256 // 64
    assert result.energy_pj > 256 * 0.1  # the 256 additions plus memory traffic


def test_other_unsupported_nodes(zz_plugins):
    core = make_core(zz_plugins, core_data("tpu_like"))
    gather = Node(
        "gather",
        "Gather",
        [LoopDim("D0", 64)],
        [Operand("input", "x", 8, None, shape=(64,)), Operand("output", "y", 8, (A("D0"),))],
    )
    moving = attrs.evolve(elementwise("Reshape", n=64), kind=NodeKind.DATA_MOVEMENT)
    three = Node(
        "sum3",
        "Sum",
        [LoopDim("C", 8)],
        [Operand("input", n, 8, (A("C"),)) for n in ("x", "s", "b")] + [Operand("output", "y", 8, (A("C"),))],
    )
    window = Node(
        "win3",
        "MaxPool",
        [LoopDim("OX", 8), LoopDim("FX", 2), LoopDim("DX", 2)],
        [
            Operand("input", "x", 8, (AffineExpr((("OX", 2), ("FX", 1), ("DX", 1))),)),
            Operand("output", "y", 8, (A("OX"),)),
        ],
    )
    requests = [CostRequest(n, core) for n in (gather, moving, three, window)]
    results = model(zz_plugins).cost(requests, context(zz_plugins))
    assert [r.model for r in results] == ["roofline"] * 4
    assert [r.detail("fallback_reason") for r in results] == [
        "operand 'x' has a non-affine access relation",
        "data-movement node",
        "3 input operands; ZigZag costs operators with one or two inputs",
        "access 2*OX + FX + DX of input 'x' is not a two-loop sliding window",
    ]
    offchip = make_core(zz_plugins, core_data("offchip"), kind="offchip")
    result = model(zz_plugins).cost([CostRequest(gemm(8, 8, 8), offchip)], context(zz_plugins))[0]
    assert result.model == "roofline" and not result.feasible  # no MAC units


def test_tile_too_big_for_the_top_memory(zz_plugins):
    core = make_core(zz_plugins, core_data("tpu_like"))
    big = conv(c=256, k=256, oy=64, ox=64)
    result = model(zz_plugins).cost([CostRequest(big, core)], context(zz_plugins))[0]
    assert not result.feasible and result.model == "zigzag" and result.energy_pj == 0
    # input 256 x 64 x 64 (padding 1 on a 3x3 window keeps 64 rows), weights 256 x 256 x 9, output 256 x 64 x 64
    assert result.reason == (
        "memory 'sram_2MB' of core 'tpu_like' (top level of I1, I2, O) holds 16777216 bits but the tile needs "
        "21495808 bits (I1 ('x') 8388608, I2 ('w') 4718592, O ('y') 8388608); operands I1, I2, O together exceed it"
    )
    weights = gemm(64, 2048, 2048)  # 2048 x 2048 x 8 bits of weights alone
    result = model(zz_plugins).cost([CostRequest(weights, core)], context(zz_plugins))[0]
    assert "I2 ('w') 33554432" in result.reason and result.reason.endswith("operand I2 alone exceeds it")


def test_lower_memory_too_small_is_reported_by_zigzag(zz_plugins):
    data = core_data("array16")
    data["memories"]["rf_w"]["size"] = 4  # cannot hold one 8-bit weight
    result = model(zz_plugins).cost([CostRequest(gemm(32, 32, 32), make_core(zz_plugins, data))], context(zz_plugins))[
        0
    ]
    assert not result.feasible and result.model == "zigzag"
    assert result.reason == (
        "ZigZag's LOMA found no loop ordering that fits core 'array16' (NoValidLoopOrderingFoundException): "
        "memory 'rf_w' (4 bits) cannot hold one 8-bit I2 element"
    )


def test_settings_are_validated_and_in_the_token(zz_plugins):
    bad = context(zz_plugins, lpf_limit="x", temporal_mapping="random", spatial_mappings=0)
    with pytest.raises(InputError) as info:
        model(zz_plugins).cost([], bad)
    assert [p.field for p in info.value.problems] == [
        "zigzag.lpf_limit",
        "zigzag.temporal_mapping",
        "zigzag.spatial_mappings",
    ]
    tokens = {
        model(zz_plugins).cache_token(context(zz_plugins, **s))
        for s in ({}, {"lpf_limit": 3}, {"temporal_mapping": "even"})
    }
    assert len(tokens) == 3
    assert all("zigzag-dse 3.9.1" in t for t in tokens)
    assert "lpf 6|uneven|spatial 1" in model(zz_plugins).cache_token(context(zz_plugins))


def test_operand_precision_override(zz_plugins):
    data = core_data("array16")
    data["operand_precision"] = {"I1": 8, "I2": 8, "O": 32, "O_final": 8}
    core = make_core(zz_plugins, data)
    ctx = context(zz_plugins, lpf_limit=2)
    wide, narrow = gemm(64, 64, 64, bits=16), gemm(64, 64, 64, bits=8)  # a 16-bit workload on an 8-bit datapath
    result, plain = model(zz_plugins).cost([CostRequest(wide, core), CostRequest(narrow, core)], ctx)
    assert (result.latency, result.energy_pj) == (plain.latency, plain.energy_pj)
    unforced = model(zz_plugins).cost([CostRequest(wide, make_core(zz_plugins, core_data("array16")))], ctx)[0]
    assert unforced.energy_pj > result.energy_pj  # twice the bits moved without the override


def test_parallel_equals_serial_and_reports_progress(zz_plugins):
    core = make_core(zz_plugins, core_data("array16"))
    nodes = [gemm(32, 64, 48), conv(c=8, k=16, oy=8, ox=8), gemm(16, 16, 16), conv(c=4, k=8, oy=8, ox=8, stride=2)]
    requests = [CostRequest(n, core) for n in nodes]
    calls = []

    class Progress:
        def count(self, done, total, what):
            calls.append((done, total, what))

    parallel = context(zz_plugins, lpf_limit=2, jobs=2)
    parallel.progress = Progress()
    fast = model(zz_plugins).cost(requests, parallel)
    slow = model(zz_plugins).cost(requests, context(zz_plugins, lpf_limit=2, jobs=1))
    assert [without_timing(r) for r in fast] == [without_timing(r) for r in slow]
    assert calls[0] == (0, 4, "cost requests") and calls[-1] == (4, 4, "cost requests")
    assert [d for d, _, _ in calls] == sorted(d for d, _, _ in calls)


def test_identical_layers_run_once(zz_plugins, monkeypatch):
    calls = []
    evaluate = runner.evaluate

    def counting(*args):
        calls.append(args[1].equation)
        return evaluate(*args)

    monkeypatch.setattr(runner, "evaluate", counting)
    core = make_core(zz_plugins, core_data("array16"))
    a, b = gemm(32, 32, 32), attrs.evolve(gemm(32, 32, 32), name="other")
    results = model(zz_plugins).cost([CostRequest(a, core), CostRequest(b, core)], context(zz_plugins, lpf_limit=2))
    assert len(calls) == 1 and results[0] == results[1]


def test_unusual_loop_names_are_renamed_and_mapped_back(zz_plugins):
    node = Node(
        "mm",
        "MatMul",
        [LoopDim("row_i", 32), LoopDim("k", 32), LoopDim("K", 32)],  # underscore; k/K clash once upper-cased
        [
            Operand("input", "a", 8, (A("row_i"), A("k"))),
            Operand("weight", "w", 8, (A("k"), A("K"))),
            Operand("output", "y", 8, (A("row_i"), A("K"))),
        ],
        mac_op=True,
    )
    data = core_data("array16")
    data["dataflows"] = {"D1": ["K, 16"], "D2": ["k, 16"]}
    translation = translate(node, make_core(zz_plugins, data).description)
    assert translation.spec.equation == "O[d0][d2] = W[d1][d2] * I[d0][d1]"
    result = model(zz_plugins).cost([CostRequest(node, make_core(zz_plugins, data))], context(zz_plugins, lpf_limit=2))[
        0
    ]
    assert result.detail("spatial_mapping") == "D1: K 16; D2: k 16"


def test_a_failed_spatial_mapping_pass_is_a_search_fallback(zz_plugins, monkeypatch):
    """When ZigZag's mixed spatial-mapping pass raises, the single-loop pass's answer is used and the result
    says so (``search_fallback``), which the run lists like a precision fallback."""
    from stream_core.pipeline import fallback_lines

    core = make_core(zz_plugins, core_data("array16"))
    request = CostRequest(gemm(32, 32, 32), core)
    [plain] = model(zz_plugins).cost([request], context(zz_plugins, lpf_limit=2, jobs=1))
    run = runner._run

    def mixed_fails(accelerator, spec, settings, mix, candidates):
        if mix:
            raise KeyError("mixed mapping")
        return run(accelerator, spec, settings, mix, candidates)

    monkeypatch.setattr(runner, "_run", mixed_fails)
    candidates = runner._spatial_candidates

    def mixed_fills_more(accelerator, spec, settings, mix):  # more units busy than the array has
        return [SimpleNamespace(hw_utilization=257.0)] if mix else candidates(accelerator, spec, settings, mix)

    monkeypatch.setattr(runner, "_spatial_candidates", mixed_fills_more)
    [result] = model(zz_plugins).cost([request], context(zz_plugins, lpf_limit=2, jobs=1))
    assert (result.latency, result.energy_pj) == (plain.latency, plain.energy_pj)
    assert plain.detail("search_fallback") is None
    reason = "ZigZag's mixed spatial-mapping pass failed (KeyError: 'mixed mapping'); the other pass's mapping is used"
    assert result.detail("search_fallback") == reason
    assert fallback_lines([("mm", "zigzag", result)]) == [f"1 node by a search that fell back ({reason}): mm"]
