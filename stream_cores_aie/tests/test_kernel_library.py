"""The kernel library (Stream 2.1.1's format): parsing, errors, and the aie model's cycles from it,
each against hand-computed values (Stream's aie_tile core file: 512 bits/cycle memory)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aie_helpers import aie_core, elementwise, matmul
from stream_cores_aie.cost import AieCostModel, cost_request
from stream_cores_aie.kernel_library import load_library

from stream_core.context import RunContext
from stream_core.errors import InputError
from stream_core.ir import Accelerator, CostRequest, Kernel
from stream_core.plugins import Plugins

LIBRARY = """
[family.matmul]
ops_per_cycle = 100.0
mac = { m = 4, k = 8, n = 8 }

[family.vector]
ops_per_cycle = 16

[kernel.mm_bf16]
family = "matmul"
binding = "pkg.kernels:mm"
dims = [{ name = "m", divisor = 16 }, { name = "k", runtime = true }, { name = "n", blocks = [32, 64] }]
cycles = [{ m = 32, k = 32, n = 32, cycles = 2000 }, { m = 64, k = 64, n = 64, cycles = 12000 }]

[kernel.matmul_bf16_bf16]
family = "matmul"
object = "mm.o"
dims = [{ name = "m", fixed = 32 }, { name = "k" }, { name = "n", keep_whole = true }]
cycles = [{ m = 32, k = 32, n = 32, cycles = 1000 }]

[kernel.relu_bf16]
family = "vector"
per_op = { cycles = 3, ops = 32 }
"""


@pytest.fixture
def library_file(tmp_path: Path) -> Path:
    path = tmp_path / "kernels.toml"
    path.write_text(LIBRARY)
    return path


def context_with(library: Path | None) -> RunContext:
    core = aie_core()
    annotations = {} if library is None else {"kernel_library": library}
    accelerator = Accelerator(name="acc", cores={0: core}, links=(), annotations=annotations)
    return RunContext(plugins=Plugins.empty(), accelerator=accelerator)


def priced(library_file: Path, node, kernel: Kernel | None = None):
    return cost_request(CostRequest(node, aie_core(), kernel), load_library(library_file))


def test_every_field_is_read(library_file):
    lib = load_library(library_file)
    assert lib.families["matmul"].mac_ops == 256 and lib.families["vector"].ops_per_cycle == 16
    mm = lib.kernels["mm_bf16"]
    assert (mm.family, mm.binding, mm.object) == ("matmul", "pkg.kernels:mm", None)
    assert [(d.name, d.divisor, d.runtime, d.blocks) for d in mm.dims] == [
        ("m", 16, False, ()),
        ("k", None, True, ()),
        ("n", None, False, (32, 64)),
    ]
    assert mm.cycles[1] == ((("m", 64), ("k", 64), ("n", 64)), 12000)
    other = lib.kernels["matmul_bf16_bf16"]
    assert other.object == "mm.o" and other.dims[0].fixed == 32 and other.dims[2].keep_whole
    assert lib.kernels["relu_bf16"].per_op == (3, 32)


def test_yaml_library(tmp_path):
    path = tmp_path / "kernels.yaml"
    path.write_text("family: {vector: {ops_per_cycle: 8}}\nkernel: {k1: {family: vector, dims: [{name: n}]}}\n")
    lib = load_library(path)
    assert lib.families["vector"].ops_per_cycle == 8 and lib.kernels["k1"].dims[0].name == "n"


def test_bad_library_reports_every_key_path(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        """
[family.matmul]
mac = { m = 4, k = 8 }
[family.tensor]
ops_per_cycle = 1
[kernel.a]
binding = "x"
[kernel.b]
family = "matmul"
speed = 3
dims = [{ name = "m", divisor = 0 }]
cycles = [{ m = 8, q = 2, cycles = 10 }]
[kernel.c]
family = "vector"
[extra]
"""
    )
    with pytest.raises(InputError) as info:
        load_library(path)
    problems = {p.field: p.message for p in info.value.problems}
    assert all(p.file == str(path) for p in info.value.problems)
    assert problems == {
        "extra": "unknown field; known keys: family, kernel",
        "family.matmul.ops_per_cycle": "missing required field (a number > 0)",
        "family.matmul.mac.n": "missing required field (an integer >= 1)",
        "family.tensor": "unknown kernel family; expected one of matmul, vector",
        "kernel.a.family": "missing required field (one of matmul, vector)",
        "kernel.b.speed": "unknown field; known keys: family, binding, object, dims, cycles, per_op",
        "kernel.b.dims[0].divisor": "expected an integer >= 1, got 0 (an integer)",
        "kernel.b.cycles[0].q": "unknown field; known keys: cycles, m",
        "kernel.c.family": "names family 'vector', which the library does not declare (matmul)",
    }


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[family.matmul\n")
    with pytest.raises(InputError, match=r"broken\.toml: invalid TOML"):
        load_library(path)


def test_measured_call_of_the_exact_shape(library_file):
    # 32x32x32 tile = the measured call: 2000 cycles for 32768 MACs -> 2000. Memory: A + B = 2 x 32*32*16 bits
    # / 512 = 64 cycles. No call overhead (it is inside the measurement). Ideal: 32768 / (4*8*8) = 128.
    result = priced(library_file, matmul(32, 32, 32, 16), Kernel("mm_bf16"))
    assert (result.latency, result.ideal_cycles) == (2000, 128)
    assert result.detail("cycles_source") == "kernel library mm_bf16 measured"
    assert result.detail("library_call") == "call m=32xk=32xn=32: 2000 cycles for 32768 ops"
    assert result.detail("efficiency") is None and result.detail("dtype") == "bf16"
    # energy does not depend on where the cycles came from: 32768 MACs x 2.0 pJ + 6144 bytes x 1.25 pJ
    assert result.energy_pj == pytest.approx(32768 * 2.0 + 6144 * 1.25)


def test_measured_call_nearest_on_a_log_scale(library_file):
    # 64 (m) x 32 (n) x 64 (k) = 131072 MACs: 4x the 32^3 call (log 1.39), half the 64^3 one (log 0.69) -> the
    # 64^3 call (a linear distance would pick 32^3): 12000 x 131072 / 262144 = 6000 cycles.
    result = priced(library_file, matmul(64, 32, 64, 16), Kernel("mm_bf16"))
    assert result.latency == 6000 and result.ideal_cycles == 131072 // 256
    assert result.detail("library_call").startswith("nearest call m=64xk=64xn=64")


def test_stream_kernel_name_and_kwargs_give_the_call(library_file):
    # Stream's 'gemm' calls matmul_bf16_bf16; kwargs m, k, n are the call (32^3, measured 1000 cycles); the tile
    # 32x64x32 = 65536 MACs is two calls: 2000.
    result = priced(library_file, matmul(32, 64, 32, 16), Kernel("gemm", {"m": 32, "k": 32, "n": 32}))
    assert result.latency == 2000 and result.detail("cycles_source") == "kernel library matmul_bf16_bf16 measured"


def test_kwargs_the_kernel_does_not_compile_are_input_errors(library_file):
    with pytest.raises(InputError, match=r"kwargs\.m: kernel mm_bf16 .* does not compile m=24 \(a multiple of 16\)"):
        priced(library_file, matmul(32, 32, 32, 16), Kernel("mm_bf16", {"m": 24}))


def test_family_rate_when_the_kernel_is_not_in_the_library(library_file):
    # 'mm' is no symbol: MatMul -> family matmul, 32768 / 100 = 328 cycles; Sigmoid -> vector, 32*64 / 16 = 128
    result = priced(library_file, matmul(32, 32, 32, 16), Kernel("mm", {"utilization": 50}))
    assert result.latency == 328 and result.detail("cycles_source") == "kernel library family matmul"
    vector = priced(library_file, elementwise("Sigmoid", 32, 64, 16))
    assert (vector.latency, vector.ideal_cycles) == (128, 32 * 64 // 16)  # ideal: points / 16 bf16 lanes
    assert vector.detail("cycles_source") == "kernel library family vector"


def test_per_op_cycles(library_file):
    # 32 x 64 = 2048 points at 3 cycles per 32 ops = 192
    result = priced(library_file, elementwise("Relu", 32, 64, 16), Kernel("relu_bf16"))
    assert result.latency == 192 and result.detail("library_call") == "per_op: 3 cycles for 32 ops"


def test_no_library_is_the_analytic_model(library_file):
    request = CostRequest(matmul(32, 32, 32, 16), aie_core(), Kernel("mm_bf16", {"utilization": 61.8}))
    [result] = AieCostModel().cost([request], context_with(None))
    # the analytic model: 32768 / (128 x 61.8 %) = 415 + 32 overhead
    assert result == cost_request(request) and result.latency == 447
    assert result.detail("cycles_source") == "analytic"


def test_cost_model_reads_the_accelerators_library_and_says_what_it_lacks(tmp_path):
    path = tmp_path / "matmul_only.toml"
    path.write_text("[family.matmul]\nops_per_cycle = 64\n")
    context = context_with(path)
    core = aie_core()
    requests = [CostRequest(matmul(32, 32, 32, 16), core), CostRequest(elementwise("Relu", 16, 16, 16), core)]
    gemm, relu = AieCostModel().cost(requests, context)
    assert gemm.latency == 512 and gemm.detail("kernel_library") == str(path)  # 32768 / 64
    assert relu.detail("cycles_source") == "analytic"
    lacks, default = relu.detail("warnings")  # analytic, so at the default efficiency too
    assert lacks == (
        f"aie cost model: the kernel library {path} has no kernel or family for Relu; costed with the analytic model"
    )
    assert "used the default kernel efficiency" in default
    assert gemm.detail("warnings") is None


def test_missing_library_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"kernel_library: kernel library file .*nope\.toml' not found"):
        AieCostModel().cost([], context_with(tmp_path / "nope.toml"))


def test_cache_token_follows_the_library_content_and_path(library_file):
    model = AieCostModel()
    token = model.cache_token(context_with(library_file))
    assert token == model.cache_token(context_with(library_file)) != model.cache_token(context_with(None))
    library_file.write_text(LIBRARY.replace("cycles = 2000", "cycles = 2100"))
    assert model.cache_token(context_with(library_file)) != token
    # the same content under another name: the cached answers' warnings would name the old file
    moved = library_file.with_name("moved.toml")
    moved.write_text(library_file.read_text())
    assert model.cache_token(context_with(moved)) != model.cache_token(context_with(library_file))
