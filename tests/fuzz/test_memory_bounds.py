"""Memory bounds through the CLI (issue 19): a tiling whose tile list would need GiBs is refused at
once, exit 2 naming the mapping, the node and what to change; ``core.memory_limit_mb`` moves the bound."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import onnx
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_support import assert_contract, run_cli, write_inputs, write_yaml


def relu_in_unit_tiles(folder: Path, n: int) -> tuple[Path, Path, Path]:
    """A Relu over (1, n) on the SIMD core, its second loop in 1-element tiles: workload, hardware, mapping."""
    inputs = write_inputs(folder)
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")],
        "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    workload = folder / "relu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), workload)
    mapping = {
        "layers": [{"name": "relu", "core_allocation": [[2]]}],
        "fused_groups": [{"name": "g", "layers": ["relu"], "intra_core_tiling": [{"dim": "relu.D1", "tile": 1}]}],
    }
    return workload, inputs["hardware"], write_yaml(folder / "relu_map.yaml", mapping)


def run(workload: Path, hardware: Path, mapping: Path, *extra: str) -> tuple[int, str, str]:
    out = workload.with_name("out")
    return run_cli("run", str(workload), str(hardware), "--mapping", str(mapping), "-o", str(out), "--no-cache", *extra)


def test_a_tiling_needing_gibs_is_refused_at_once(tmp_path):
    """2**27 elements pass the ONNX check (2**40); 2**27 unit tiles x (512 + 64 x 2 loops) bytes = 80 GiB."""
    workload, hardware, mapping = relu_in_unit_tiles(tmp_path, 2**27)
    start = time.perf_counter()
    code, out, err = run(workload, hardware, mapping, "--allocator", "greedy")
    assert time.perf_counter() - start < 2
    assert_contract(code, out, err, mapping)
    assert code == 2, out + err
    assert f"{mapping}: node 'relu': its tiling makes 1 part(s) x 134,217,728 tiles per part" in err
    assert "about 81,920 MiB, above the bound of 2,048 MiB" in err
    assert "use coarser intra_core_tiling tiles or fewer inter_core_tiling splits for this node" in err
    assert "--set core.memory_limit_mb=81920" in err
    assert not workload.with_name("out").exists()


def test_the_setting_moves_the_bound(tmp_path):
    """4096 unit tiles x 640 bytes = 2.5 MiB: refused under 2 MiB, run under 3 MiB."""
    workload, hardware, mapping = relu_in_unit_tiles(tmp_path, 4096)
    code, out, err = run(workload, hardware, mapping, "--allocator", "greedy", "--set", "core.memory_limit_mb=2")
    assert code == 2 and "about 3 MiB, above the bound of 2 MiB" in err, out + err
    code, out, err = run(workload, hardware, mapping, "--allocator", "greedy", "--set", "core.memory_limit_mb=3")
    assert_contract(code, out, err)
    assert code == 0, out + err
    code, out, err = run(workload, hardware, mapping, "--set", "core.memory_limit_mb=-5")
    assert code == 2 and "--set core.memory_limit_mb: expected a positive number of MiB, got -5" in err, err
