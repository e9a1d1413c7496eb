"""Core-YAML parsing: both formats, both item spellings, the summary, the fingerprint and bad files."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from zigzag.parser.accelerator_validator import AcceleratorValidator
from zz_helpers import DATA, core_data

from stream_core.errors import InputError
from stream_core.hardware import load_accelerator
from stream_core.ir import CoreDescription

EXAMPLES = Path(__import__("stream_core").__file__).parent / "examples" / "hardware"


def parse(plugins, data, kind="compute", file="core.yaml"):
    return plugins.load("core_types", "zigzag").parse(data, kind=kind, file=file)


def problems_of(plugins, data, kind="compute") -> list[tuple[str | None, str]]:
    with pytest.raises(InputError) as info:
        parse(plugins, data, kind)
    assert all(p.file == "core.yaml" for p in info.value.problems)
    return [(p.field, p.message) for p in info.value.problems]


def test_current_format_summary(zz_plugins):
    core = parse(zz_plugins, core_data("tpu_like"))
    assert isinstance(core, CoreDescription)
    s = core.summary
    assert core.name == "tpu_like"
    assert s.memory_bits == 16777216  # sram_2MB, the top memory holding I1
    assert (s.read_bandwidth, s.write_bandwidth) == (2048.0, 2048.0)
    assert s.peak_macs_per_cycle == 32 * 32
    assert s.mac_energy_pj == 0.04
    assert s.read_energy_pj_per_bit == pytest.approx(416.16 / 2048)
    assert s.write_energy_pj_per_bit == pytest.approx(378.4 / 2048)
    assert s.operator_types is None
    assert [m["name"] for m in core.memories] == ["rf_128B", "rf_2B", "sram_2MB"]


def test_legacy_format_is_the_same_core(zz_plugins):
    current = parse(zz_plugins, core_data("tpu_like"))
    legacy = parse(zz_plugins, core_data("tpu_like_legacy"))
    assert legacy.fingerprint() == current.fingerprint()
    assert legacy.summary == current.summary
    sram = legacy.memories[2]
    assert sram["ports"][0] == {
        "name": "r_port_1",
        "type": "read",
        "bandwidth_min": 64,
        "bandwidth_max": 2048,
        "allocation": ["I1, tl", "I2, tl", "O, tl", "O, th"],
    }


def test_legacy_rw_port_uses_read_bandwidth(zz_plugins):
    data = core_data("tpu_like_legacy")
    dram = {
        "size": 10**9, "r_bw": 64, "w_bw": 32, "r_cost": 700, "w_cost": 750, "area": 0, "r_port": 0, "w_port": 0,
        "rw_port": 1, "latency": 1, "operands": ["I1", "I2", "O"],
        "ports": [{"fh": "rw_port_1", "tl": "rw_port_1"}, {"fh": "rw_port_1", "tl": "rw_port_1"},
                  {"fh": "rw_port_1", "tl": "rw_port_1", "fl": "rw_port_1", "th": "rw_port_1"}],
        "served_dimensions": ["D1", "D2"],
    }  # fmt: skip
    data["memories"]["dram"] = dram
    core = parse(zz_plugins, data)
    assert core.memories[3]["ports"] == [
        {"name": "rw_port_1", "type": "read_write", "bandwidth_min": 64, "bandwidth_max": 64,
         "allocation": ["I1, fh", "I1, tl", "I2, fh", "I2, tl", "O, fh", "O, tl", "O, fl", "O, th"]}
    ]  # fmt: skip
    assert core.summary.memory_bits == 10**9 and core.summary.read_bandwidth == 64


def test_flow_list_spellings_are_normalised(zz_plugins):
    quoted = core_data("tpu_like")
    quoted["dataflows"] = {"D1": ["K, 16"], "D2": ["C, 16"]}
    text = (DATA / "tpu_like.yaml").read_text()
    text = text.replace("          - I2, tl\n", "          - [I2, tl]\n")  # inner flow list
    text += "dataflows:\n  D1: [K, 16]\n  D2: [[C, 16]]\n"
    flow = yaml.safe_load(text)
    flow["memories"]["sram_2MB"]["ports"][1]["allocation"] = ["I1", "fh", "I2", "fh", "O", "fh", "O", "fl"]
    assert flow["dataflows"]["D1"] == ["K", 16]  # what YAML makes of the unquoted flow list
    a, b = parse(zz_plugins, quoted), parse(zz_plugins, flow)
    assert a.fingerprint() == b.fingerprint()
    assert b.dataflows == [("D1", [("K", 16)]), ("D2", [("C", 16)])]


def test_fingerprint_covers_costs_not_name(zz_plugins):
    base = parse(zz_plugins, core_data("tpu_like")).fingerprint()
    renamed = core_data("tpu_like")
    renamed["name"] = "other"
    assert parse(zz_plugins, renamed).fingerprint() == base
    for path, value in [
        (("memories", "sram_2MB", "r_cost"), 400.0),
        (("memories", "rf_2B", "served_dimensions"), ["D1"]),
        (("operational_array", "unit_energy"), 0.05),
        (("memories", "sram_2MB", "force_double_buffering"), True),
    ]:
        data = core_data("tpu_like")
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        assert parse(zz_plugins, data).fingerprint() != base, path
    data = core_data("tpu_like")
    data["dataflows"] = {"D1": ["K, 32"]}
    assert parse(zz_plugins, data).fingerprint() != base


def test_zigzag_accepts_the_normalised_data(zz_plugins):
    for name in ("tpu_like", "tpu_like_legacy", "array16", "simd", "offchip"):
        core = parse(zz_plugins, core_data(name), kind="offchip" if name == "offchip" else "compute")
        validator = AcceleratorValidator(copy.deepcopy(core.zigzag_data()))
        assert validator.validate(), (name, validator.validator.errors)


def test_a_compute_core_needs_mac_units(zz_plugins):
    data = core_data("simd")
    data["operational_array"]["sizes"] = [0]
    assert problems_of(zz_plugins, data) == [
        ("operational_array.sizes[0]", "expected a positive integer (a compute core needs MAC units), got 0")
    ]
    assert parse(zz_plugins, data, kind="memory").summary.peak_macs_per_cycle == 0


def test_offchip_and_simd_summaries(zz_plugins):
    offchip = parse(zz_plugins, core_data("offchip"), kind="offchip")
    assert offchip.summary.peak_macs_per_cycle == 0
    assert offchip.summary.memory_bits == 10_000_000_000
    assert offchip.summary.read_bandwidth == 64 and offchip.summary.read_energy_pj_per_bit == pytest.approx(1000 / 64)
    simd = parse(zz_plugins, core_data("simd"))
    assert simd.summary.peak_macs_per_cycle == 64
    assert simd.summary.operator_types == (
        "Add",
        "Sub",
        "Mul",
        "Div",
        "Exp",
        "Pow",
        "Silu",
        "Sigmoid",
        "Gelu",
        "Tanh",
        "Relu",
    )


def test_example_accelerators_load(zz_plugins):
    quad = load_accelerator(EXAMPLES / "tpu_like_quad_core.yaml", zz_plugins)
    assert [c.type for c in quad.cores.values()].count("zigzag.compute") == 6
    assert quad.cores[6].summary.peak_macs_per_cycle == 0
    hetero = load_accelerator(EXAMPLES / "hetero_array_simd.yaml", zz_plugins)
    assert hetero.cores[1].description.dataflows == [("D1", [("K", 16)]), ("D2", [("OX", 16)])]


def test_bad_file_reports_every_problem_with_paths(zz_plugins):
    data = core_data("tpu_like")
    del data["memories"]["rf_128B"]["size"]  # missing field
    data["memories"]["rf_2B"]["r_cost"] = "cheap"  # wrong type
    sram_ports = data["memories"]["sram_2MB"]["ports"]
    sram_ports[0]["allocation"][1] = "I2 tl"  # bad allocation string
    sram_ports[1]["name"] = "write_port"  # bad port name
    sram_ports[1]["allocation"][2] = "I3, fh"  # unknown operand
    found = problems_of(zz_plugins, data)
    assert ("memories.rf_128B.size", "missing required field (an integer >= 1)") in found
    assert ("memories.rf_2B.r_cost", "expected a non-negative number, got 'cheap' (a string)") in found
    assert (
        "memories.sram_2MB.ports[0].allocation[1]",
        'expected "<I1|I2|O>, <fh|tl|fl|th>" (e.g. "I1, tl"), got \'I2 tl\'',
    ) in found
    assert any(
        f == "memories.sram_2MB.ports[1].name" and "r]?[w]?_port_" in m and "'write_port'" in m for f, m in found
    )
    assert any(f == "memories.sram_2MB.ports[1].allocation[2]" and "unknown operand 'I3'" in m for f, m in found)
    # the malformed I2 read allocation also leaves I2 without 'tl' in sram_2MB
    assert any(f == "memories.sram_2MB.ports" and "operand I2 has no 'tl' allocation" in m for f, m in found)


def test_structural_problems(zz_plugins):
    data = core_data("tpu_like")
    data["memories"]["rf_2B"]["ports"][1]["allocation"] = ["O, fh"]  # no fl for O
    data["memories"]["rf_128B"]["ports"][0]["type"] = "write"  # 'tl' on a write port
    data["memories"]["sram_2MB"]["served_dimensions"] = ["D1", "D3"]
    data["operational_array"]["sizes"] = [32]
    data["dataflows"] = {"D1": ["K, 0"], "D5": ["C, 4"]}
    data["memory"] = {}
    found = problems_of(zz_plugins, data)
    fields = {f for f, _ in found}
    assert {
        "memories.rf_2B.ports",
        "memories.rf_128B.ports[0].allocation[0]",
        "memories.sram_2MB.served_dimensions[1]",
        "operational_array.sizes",
        "dataflows.D1[0]",
        "dataflows.D5",
        "memory",
    } <= fields
    messages = dict(found)
    assert "operand O has no 'fl' allocation" in messages["memories.rf_2B.ports"]
    assert (
        messages["memories.rf_128B.ports[0].allocation[0]"]
        == "direction 'tl' needs a read port, but this port is write"
    )
    assert messages["memory"] == "unknown key; did you mean 'memories'?"


def test_legacy_port_names_checked_against_counts(zz_plugins):
    data = core_data("tpu_like_legacy")
    data["memories"]["sram_2MB"]["ports"][0]["tl"] = "r_port_2"
    data["memories"]["rf_128B"]["ports"] = [{"fh": "w_port_1", "tl": "r_port_1"}, {"tl": "r_port_1"}]
    found = dict(problems_of(zz_plugins, data))
    assert found["memories.sram_2MB.ports[0].tl"] == (
        "no port named 'r_port_2'; the r_port/w_port/rw_port counts give: r_port_1, w_port_1"
    )
    assert found["memories.rf_128B.ports"].startswith("the older port format lists one entry per operand (1")


def test_current_format_with_legacy_ports_explains(zz_plugins):
    data = core_data("tpu_like")
    data["memories"]["rf_128B"]["ports"] = [{"fh": "w_port_1", "tl": "r_port_1"}]
    found = dict(problems_of(zz_plugins, data))
    assert "older per-operand port format" in found["memories.rf_128B.ports[0]"]


def test_not_a_mapping(zz_plugins):
    assert problems_of(zz_plugins, ["memories"]) == [(None, "expected a mapping describing a core, got a list")]


SPLIT_TOP = """
name: split_top
memories:
  rf_w: {size: 64, r_cost: 0.02, w_cost: 0.02, area: 0, latency: 1, operands: [I2], served_dimensions: [],
    ports: [{name: r_port_1, type: read, bandwidth_min: 8, bandwidth_max: 8, allocation: ["I2, tl"]},
            {name: w_port_1, type: write, bandwidth_min: 8, bandwidth_max: 8, allocation: ["I2, fh"]}]}
  sram_w: {size: 4096, r_cost: 5, w_cost: 6, area: 0, latency: 1, operands: [I2], served_dimensions: [D1],
    ports: [{name: r_port_1, type: read, bandwidth_min: 8, bandwidth_max: 64, allocation: ["I2, tl"]},
            {name: w_port_1, type: write, bandwidth_min: 8, bandwidth_max: 64, allocation: ["I2, fh"]}]}
  sram_io: {size: 65536, r_cost: 20, w_cost: 22, area: 0, latency: 1, operands: [I1, O], served_dimensions: [D1],
    ports: [{name: r_port_1, type: read, bandwidth_min: 8, bandwidth_max: 128,
             allocation: ["I1, tl", "O, tl", "O, th"]},
            {name: w_port_1, type: write, bandwidth_min: 8, bandwidth_max: 128,
             allocation: ["I1, fh", "O, fh", "O, fl"]}]}
operational_array: {unit_energy: 0.05, unit_area: 1, dimensions: [D1], sizes: [4]}
"""


def test_operand_memories_list_each_top_memory_once(zz_plugins, tmp_path):
    """Weights topped by their own 4096-bit SRAM, inputs and outputs by one 65536-bit SRAM (listed once,
    first as I1's); a core whose I1, I2 and O share one top memory lists that one."""
    path = tmp_path / "split_top.yaml"
    path.write_text(SPLIT_TOP)
    core = parse(zz_plugins, yaml.safe_load(path.read_text()), file=str(path))
    assert core.summary.memory_bits == 65536
    assert core.summary.operand_memories == ((("input", "output"), 65536), (("weight",), 4096))
    validator = AcceleratorValidator(copy.deepcopy(core.zigzag_data()))
    assert validator.validate(), validator.validator.errors
    shared = parse(zz_plugins, core_data("tpu_like")).summary
    assert shared.operand_memories == ((("input", "weight", "output"), 16777216),)  # sram_2MB


def test_each_operand_priced_at_its_top_memory(zz_plugins, tmp_path):
    """SPLIT_TOP's weights top out in sram_w: 5 / 64 pJ per bit read, 6 / 64 written; inputs and outputs in
    sram_io: 20 / 128 and 22 / 128, which is also the default (I1's) price, so only the weight is listed."""
    path = tmp_path / "split_top.yaml"
    path.write_text(SPLIT_TOP)
    summary = parse(zz_plugins, yaml.safe_load(path.read_text()), file=str(path)).summary
    assert summary.operand_energies == (("weight", 5 / 64, 6 / 64),)
    assert (summary.read_energy("weight"), summary.write_energy("weight")) == (5 / 64, 6 / 64)
    assert (summary.read_energy("output"), summary.write_energy("input")) == (20 / 128, 22 / 128)
    assert summary.write_energy() == 22 / 128
    assert parse(zz_plugins, core_data("tpu_like")).summary.operand_energies == ()
