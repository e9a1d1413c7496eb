"""The regression cases of issue 19's fuzz campaign, each an explicit test of the CLI's contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_support import ACCELERATOR, CORES, MAPPING, assert_contract, replaced, run_cli, write_inputs, write_yaml


@pytest.fixture
def inputs(tmp_path):
    return write_inputs(tmp_path)


def refused(*argv: str, file: Path, says: str) -> None:
    code, out, err = run_cli(*argv)
    assert_contract(code, out, err, file)
    assert code == 2 and says in err, err


def test_binary_and_utf16_files(inputs):
    binary = inputs["hardware"].with_name("bin.yaml")
    binary.write_bytes(b"\x00\xff\xfe\x89PNG" * 10)
    refused("validate", str(binary), file=binary, says="binary data, not text")
    utf16 = inputs["hardware"].with_name("u16.yaml")
    utf16.write_bytes(inputs["hardware"].read_text().encode("utf-16"))
    refused("validate", str(utf16), file=utf16, says="UTF-16 text; expected a YAML file in UTF-8")


def test_workload_and_hardware_swapped(inputs, tmp_path):
    refused(
        "run", str(inputs["hardware"]), str(inputs["workload"]), "-o", str(tmp_path / "o"),
        file=inputs["workload"], says="an ONNX model (binary), not text; expected an accelerator YAML file",
    )  # fmt: skip


def test_list_where_a_core_id_belongs(inputs):
    bad = write_yaml(
        inputs["hardware"].with_name("ids.yaml"), replaced(ACCELERATOR, ("core_connectivity", 0, "cores", 0), [0])
    )
    refused("validate", str(bad), file=bad, says="core_connectivity[0].cores: expected integer core ids, got [0]")


def test_deep_nesting_and_a_5000_digit_integer(inputs):
    deep = inputs["hardware"].with_name("deep.yaml")
    deep.write_text("name: " + "[" * 5000 + "]" * 5000)
    refused("validate", str(deep), file=deep, says="nested deeper than 64 levels")
    big = inputs["hardware"].with_name("big.yaml")
    big.write_text(inputs["hardware"].read_text().replace("bandwidth: 128", "bandwidth: " + "9" * 5000))
    refused("validate", str(big), file=big, says="an integer of 5000 digits")


def test_nan_bandwidth_in_a_run(inputs, tmp_path):
    bad = write_yaml(
        inputs["hardware"].with_name("nan.yaml"),
        replaced(ACCELERATOR, ("core_connectivity", 2, "bandwidth"), float("nan")),
    )
    refused(
        "run", str(inputs["workload"]), str(bad), "-o", str(tmp_path / "o"), "--cost-model", "roofline",
        file=bad, says="core_connectivity[2].bandwidth: expected a positive number of bits per cycle, got nan",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "says"),
    [
        ((1, -4, 8, 8), "has a negative size at axis 1"),
        ((1, 4, 0, 8), "is empty (axis 2 has size 0)"),
        ((1, 4, 10**9, 10**9), "more than the 2**40 accepted"),
    ],
)
def test_onnx_dimensions(inputs, shape, says):
    from fuzz_support import conv_relu

    path = inputs["workload"].with_name("dims.onnx")
    onnx.save(conv_relu(shape), path)
    refused("validate", str(path), file=path, says=says)


@pytest.mark.parametrize("kind", ["hardware", "mapping"])
def test_alias_bomb_fails_in_well_under_a_second(inputs, kind):
    bomb = inputs[kind].with_name(f"bomb_{kind}.yaml")
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    bomb.write_text("\n".join(levels) + "\nlayers: *i\n")
    start = time.perf_counter()
    refused("validate", str(bomb), file=bomb, says="aliases expand this node past 1,000,000 values")
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_fifo_and_device_do_not_hang(tmp_path, special):
    path = Path(special)
    if special == "fifo":
        path = tmp_path / "pipe.yaml"
        os.mkfifo(path)
    done = subprocess.run(
        [sys.executable, "-m", "stream_core.cli", "validate", str(path)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2 and "not a file; expected a YAML file" in done.stderr, done.stderr


def test_a_2000_node_chain_parses_and_validates_in_seconds(inputs):
    nodes = [helper.make_node("Relu", [f"t{i}"], [f"t{i + 1}"], name=f"relu{i}") for i in range(2000)]
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1, 16, 8, 8])],
        [helper.make_tensor_value_info("t2000", TensorProto.FLOAT, None)],
    )
    path = inputs["workload"].with_name("chain.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    mapping = write_yaml(path.with_name("chain_map.yaml"), [{"name": "default", "core_allocation": [0, 1]}])
    start = time.perf_counter()
    code, out, err = run_cli("validate", str(path), str(inputs["hardware"]), str(mapping))
    assert_contract(code, out, err)
    assert code == 0 and "2000 nodes" in out
    assert time.perf_counter() - start < 15


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        (("unit_energy_cost",), float("inf"), "unit_energy_cost: expected a non-negative number"),
        (("core_connectivity", 0, "unit_energy_cost"), float("nan"), "expected a non-negative number"),
        (("core_coordinates", 9), [5, 5], "core_coordinates.9: core 9 is not defined in 'cores'"),
    ],
)
def test_bad_accelerator_values_are_refused(inputs, path, value, says):
    bad = write_yaml(inputs["hardware"].with_name("bad.yaml"), replaced(ACCELERATOR, path, value))
    refused("validate", str(bad), file=bad, says=says)


def test_zero_mac_array_and_nan_costs_in_a_core_file(inputs):
    core = replaced(CORES["array.yaml"], ("operational_array", "sizes", 0), 0)
    core = replaced(core, ("memories", "sram", "r_cost"), float("nan"))
    bad = write_yaml(inputs["core"].with_name("bad_core.yaml"), core)
    code, out, err = run_cli("validate", str(bad))
    assert_contract(code, out, err, bad)
    assert "operational_array.sizes[0]: expected a positive integer (a compute core needs MAC units)" in err
    assert "memories.sram.r_cost: expected a non-negative number, got nan" in err


def test_what_is_accepted_with_streams_meaning_is_noted(inputs):
    write_yaml(inputs["core"].with_name("untyped.yaml"), replaced(CORES["array.yaml"], ("type",), None, delete=True))
    links = [*ACCELERATOR["core_connectivity"], {"type": "link", "cores": [1, 0], "bandwidth": 32}]
    acc = {**ACCELERATOR, "cores": {**ACCELERATOR["cores"], 1: "untyped.yaml"}, "core_connectivity": links}
    hardware = write_yaml(inputs["hardware"].with_name("noted.yaml"), acc)
    mapping = write_yaml(
        inputs["mapping"].with_name("noted_map.yaml"),
        {**MAPPING, "layers": [*MAPPING["layers"], {"name": "conv_typo", "core_allocation": [[0]]}],
         "fused_groups": [{**MAPPING["fused_groups"][0], "intra_core_tiling": [{"dim": "conv.D2", "tile": 3}]}]},
    )  # fmt: skip
    code, out, err = run_cli("validate", str(inputs["workload"]), str(hardware), str(mapping))
    assert_contract(code, out, err)
    assert code == 0
    assert "note: untyped.yaml: gives no 'type'; read as zigzag.compute, as Stream does" in out
    assert "note: core_connectivity[3]: the same link as core_connectivity[0] (cores 1, 0); both are used" in out
    assert "note: layers 'conv_typo' (did you mean 'conv'?) name no node or op type" in out
    assert "tile 3 of conv.OY does not divide its size 8: 3 tiles, the last of 2" in out


def test_conv_mapped_onto_the_simd_core(inputs):
    bad = write_yaml(
        inputs["mapping"].with_name("simd_map.yaml"), replaced(MAPPING, ("layers", 0, "core_allocation"), [[2, 2]])
    )
    refused(
        "validate", str(inputs["workload"]), str(inputs["hardware"]), str(bad),
        file=bad, says="node 'conv' is a Conv, but core 2 (simd) only runs Relu, Add (its operator_types)",
    )  # fmt: skip


def test_a_corrupt_cache_entry_is_recomputed_with_the_same_answer(inputs, tmp_path):
    def run(name: str) -> tuple[dict, str]:
        code, _, err = run_cli(
            "run", str(inputs["workload"]), str(inputs["hardware"]), "--mapping", str(inputs["mapping"]),
            "-o", str(tmp_path / name), "--cost-model", "zigzag", "--cache-dir", str(tmp_path / "cache"), quiet=False,
        )  # fmt: skip
        assert code == 0, err
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        return {k: summary[k] for k in ("latency_cycles", "energy_pj", "nodes", "transfers")}, err

    first, _ = run("a")
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert entries
    for entry in entries:
        entry.write_text('{"format": 2, "result": [1]}')
    again, warned = run("b")
    assert again == first
    assert "dropped and recomputed" in warned
