"""The ``aie`` cost model against hand-computed values (Stream's aie_tile core file with our AMD defaults:
AIE-ML peaks int8 256, bf16 128, fp32 21 MAC/cycle; 32-cycle call overhead; 1 KB reserved; byte 1.25 pJ)."""

from __future__ import annotations

from collections import Counter

import pytest
from aie_helpers import STREAM_AIE_TILE, aie_core, elementwise, matmul, transpose
from stream_cores_aie.cost import cost_request
from stream_cores_aie.dtypes import SOURCE_CORE, SOURCE_DEFAULT, SOURCE_KERNEL

from stream_core import cost_tiles
from stream_core.context import RunContext, RunOptions
from stream_core.errors import InputError
from stream_core.ir import CostRequest, Kernel


def cost(node, core=None, kernel: Kernel | None = None):
    return cost_request(CostRequest(node, core or aie_core(), kernel))


def test_bf16_matmul_with_kernel_utilization():
    # 32x32x32 = 32768 MACs at 128 MAC/cycle x 61.8 % = 79.104 -> ceil(414.2) = 415, + 32 overhead.
    # Memory: A + B = 2 x 32*32*16 = 32768 bits / 512 = 64 cycles (< 415).
    result = cost(matmul(32, 32, 32, 16), kernel=Kernel("mm", {"utilization": 61.8}))
    assert result.feasible
    assert result.latency == 32 + 415
    assert result.ideal_cycles == 32768 // 128
    # 32768 MACs x 2.0 pJ + (32768 + 16384) bits / 8 x 1.25 pJ
    assert result.energy_pj == pytest.approx(32768 * 2.0 + 6144 * 1.25)
    details = dict(result.details)
    assert details["dtype"] == "bf16" and details["dtype_source"] == "precision"
    assert details["efficiency"] == pytest.approx(0.618) and details["efficiency_source"] == SOURCE_KERNEL
    assert details["memory_cycles"] == 64 and details["compute_cycles"] == 415


def test_int8_matmul_with_core_file_utilization():
    # 32768 MACs at 256 x 50 % = 128 MAC/cycle -> 256 cycles, + 32. Energy 0.3 pJ/MAC.
    core = aie_core(utilization=50)
    result = cost(matmul(32, 32, 32, 8), core)
    assert result.latency == 256 + 32
    assert result.energy_pj == pytest.approx(32768 * 0.3 + (16384 + 8192) / 8 * 1.25)
    assert result.detail("dtype") == "int8"
    assert result.detail("efficiency_source") == SOURCE_CORE


def test_fp32_matmul_with_default_efficiency():
    # fp32 is emulated: 21 MAC/cycle x 80 % default = 16.8 -> ceil(1950.48) = 1951, + 32.
    result = cost(matmul(32, 32, 32, 32))
    assert result.latency == 1951 + 32
    assert result.ideal_cycles == 1561  # ceil(32768 / 21)
    assert result.detail("dtype") == "fp32"
    assert result.detail("efficiency") == pytest.approx(0.8)
    assert result.detail("efficiency_source") == SOURCE_DEFAULT


def test_kernel_dtype_overrides_precision():
    # 16-bit operands with kernel dtype int16: 64 MAC/cycle x 61.8 % = 39.552 -> ceil(828.5) = 829, + 32.
    result = cost(matmul(32, 32, 32, 16), kernel=Kernel("mm", {"dtype": "int16", "utilization": 61.8}))
    assert result.latency == 829 + 32
    assert (result.detail("dtype"), result.detail("dtype_source")) == ("int16", "kernel")


def test_vector_op_by_element_rate():
    # Swish on 64x64 bf16: 4096 points x 4 ops = 16384 ops at 16 lanes x 50 % = 8/cycle -> 2048, + 32.
    # Memory: 65536 bits in and out at 512 bits/cycle = 128 cycles each.
    result = cost(elementwise("Swish", 64, 64, 16), kernel=Kernel("silu", {"utilization": 50}))
    assert result.latency == 2048 + 32
    assert result.detail("vector_lanes") == 16 and result.detail("ops") == 16384
    assert result.energy_pj == pytest.approx(16384 * 2.0 + (65536 + 65536) / 8 * 1.25)


def test_int8_elementwise_mul_uses_32_lanes():
    # Mul of two 64x64 int8 tensors: 4096 ops at 32 lanes x 80 % core utilization = 25.6 -> 160, + 32.
    result = cost(elementwise("Mul", 64, 64, 8, inputs=2), aie_core(utilization=80))
    assert result.latency == 160 + 32


def test_memory_bound_tile_takes_its_bytes_over_the_bandwidth():
    # A 32-bit/cycle memory port: A + B = 32768 bits -> 1024 cycles, more than the 415 compute cycles.
    core = aie_core(memory={"capacity": 524288, "bandwidth_min": 32, "bandwidth_max": 32})
    result = cost(matmul(32, 32, 32, 16), core, Kernel("mm", {"utilization": 61.8}))
    assert result.latency == 32 + 1024


def test_tile_that_does_not_fit_is_infeasible_with_the_numbers():
    # bf16 64x64x128: A 131072 + B 131072 bits, double-buffered, + Y 65536 = 589824 bits
    # > 524288 - 8 * 1024 reserved = 516096.
    result = cost(matmul(64, 64, 128, 16))
    assert not result.feasible
    assert "needs 589824 bits" in result.reason and "has 516096 bits" in result.reason
    assert "capacity 524288 - reserved 8192" in result.reason
    # single-buffered it fits: 327680 bits
    assert cost(matmul(64, 64, 128, 16), aie_core(double_buffer=False)).feasible


def test_data_movement_costs_its_bytes_over_one_stream():
    # A 64x64 bf16 transpose on the shim: 65536 bits over one 32-bit channel = 2048 cycles
    # (the shim memory side, 65536 / 64 = 1024, is faster); no kernel call; 162.5 pJ per DDR byte.
    shim = {
        "name": "shim",
        "type": "aie2.shim",
        "max_object_fifo_depth": 16,
        "memory": {"capacity": 10**10, "bandwidth_min": 32, "bandwidth_max": 64},
    }
    result = cost(transpose(64, 64, 16), aie_core(shim, kind="shim"))
    assert result.latency == 2048
    assert result.energy_pj == pytest.approx(16384 * 162.5)


def test_compute_on_a_memory_tile_is_infeasible():
    mem = {**STREAM_AIE_TILE, "type": "aie2.memory", "name": "mem_tile"}
    result = cost(matmul(8, 8, 8, 16), aie_core(mem, kind="memory", core_id=1))
    assert not result.feasible and "core 1 (mem_tile, aie2.memory) is not a compute tile" in result.reason


def test_unsupported_precision_is_infeasible_not_guessed():
    result = cost(matmul(8, 8, 8, 12))
    assert not result.feasible and "no AIE data type for 12-bit operands" in result.reason


@pytest.mark.parametrize("value", [0, 150, "high"])
def test_bad_kernel_utilization_is_an_input_error(value):
    with pytest.raises(InputError) as info:
        cost(matmul(8, 8, 8, 16), kernel=Kernel("mm", {"utilization": value}))
    [problem] = info.value.problems
    assert problem.field == "layer 'mm'.kernel.kwargs.utilization"
    assert "percentage in (0, 100]" in problem.message


def test_bad_kernel_dtype_is_an_input_error():
    with pytest.raises(InputError, match="unknown AIE data type 'fp8'"):
        cost(matmul(8, 8, 8, 16), kernel=Kernel("mm", {"dtype": "fp8"}))


def test_aie_ml_v2_core_doubles_the_bf16_peak():
    # AIE-ML v2: 256 bf16 MAC/cycle x 80 % = 204.8 -> ceil(160) = 160, + 32.
    result = cost(matmul(32, 32, 32, 16), aie_core(architecture="aie-ml-v2"))
    assert result.latency == 160 + 32


def test_default_efficiency_is_warned_from_the_cost_cache_too(aie_plugins, tmp_path):
    """A tile without utilization rests on the default efficiency: its answer says so, and the run
    warns it once per op type, on the first run and again when every answer comes from the cost cache.
    A tile whose kernel gives utilization warns nothing."""
    core = aie_core()
    requests = [
        CostRequest(matmul(16, 16, 16, 16), core),
        CostRequest(elementwise("Relu", 16, 16, 16), core),
        CostRequest(matmul(16, 16, 16, 16), core, Kernel("mm", {"utilization": 70})),
    ]
    options = RunOptions(cache_dir=tmp_path)
    for hits in (0, 3):
        context, stats = RunContext(plugins=aie_plugins, options=options), Counter()
        results = cost_tiles(requests, context, stats=stats)
        assert stats["cache_hits"] == hits
        assert [r.detail("efficiency_source") for r in results] == [SOURCE_DEFAULT, SOURCE_DEFAULT, SOURCE_KERNEL]
        assert [op for op in ("MatMul", "Relu") if any(f"core file for {op};" in w for w in context.warnings)] == [
            "MatMul",
            "Relu",
        ]
        assert len(context.warnings) == 2 and all("80 % MAC ops, 50 % vector ops" in w for w in context.warnings)
    context = RunContext(plugins=aie_plugins, options=options)
    cost_tiles(requests[2:], context)
    assert context.warnings == []
