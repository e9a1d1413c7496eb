"""Accelerator YAML: Stream's layouts accepted; every kind of bad file reported with file and field."""

from __future__ import annotations

import pytest
from core_test_support import TOY_COMPUTE, TOY_DRAM, write_yaml

from stream_core.errors import InputError
from stream_core.hardware import load_accelerator


def messages(exc: InputError) -> list[str]:
    return [str(p) for p in exc.problems]


def test_current_layout(toy_plugins, toy_hardware):
    acc = load_accelerator(toy_hardware(n=2), toy_plugins)
    assert sorted(acc.cores) == [0, 1, 2] and acc.offchip_core_id == 2
    assert [c.type for c in acc.cores.values()] == ["toy.compute", "toy.compute", "toy.offchip"]
    assert acc.cores[0].description is acc.cores[1].description  # one file parsed once
    [bus] = acc.links
    assert bus.kind == "bus" and bus.cores == (0, 1, 2)
    assert acc.path(0, 2) == (bus,)
    assert acc.transfer_cycles(100, acc.path(0, 1)) == 13  # ceil(100 / 8)


def test_routing_prefers_fewest_hops_then_widest(toy_plugins, toy_hardware):
    links = [
        {"cores": [0, 1], "bandwidth": 8},
        {"cores": [1, 2], "bandwidth": 8},
        {"cores": [0, 3], "bandwidth": 32},
        {"cores": [3, 2], "bandwidth": 16},
        {"type": "bus", "cores": [0, 1, 2, 3, 4], "bandwidth": 4},
    ]
    acc = load_accelerator(toy_hardware(n=4, links=links), toy_plugins)
    assert [link.id for link in acc.path(0, 2)] == [4]  # the bus is one hop
    acc2 = load_accelerator(
        toy_hardware(
            n=4,
            links=[
                *links[:4],
                {"type": "bus", "cores": [2, 4], "bandwidth": 4},
                {"type": "bus", "cores": [0, 4], "bandwidth": 4},
            ],
        ),
        toy_plugins,
    )
    assert [link.id for link in acc2.path(0, 2)] == [2, 3]  # two hops either way; 16 > 8 bottleneck


def test_connectivity_strings_and_offchip_core_layout(tmp_path, toy_plugins):
    write_yaml(tmp_path / "little.yaml", TOY_COMPUTE)
    write_yaml(tmp_path / "dram.yaml", TOY_DRAM)
    path = write_yaml(
        tmp_path / "acc.yaml",
        {
            "name": "legacy",
            "cores": {0: "little.yaml", 1: "little.yaml", 2: "little.yaml"},
            "offchip_core": "dram.yaml",
            "core_connectivity": ["0, 1", "1, 2", "0, 1, 2"],
            "bandwidth": 32,
        },
    )
    acc = load_accelerator(path, toy_plugins)
    assert acc.offchip_core_id == 3
    assert [(link.kind, link.cores, link.bandwidth) for link in acc.links] == [
        ("link", (0, 1), 32.0),
        ("link", (1, 2), 32.0),
        ("bus", (0, 1, 2), 32.0),
        ("bus", (0, 1, 2, 3), 8.0),
    ]


def test_graph_mesh_layout(tmp_path, toy_plugins):
    write_yaml(tmp_path / "cores" / "little.yaml", TOY_COMPUTE)
    write_yaml(tmp_path / "cores" / "dram.yaml", TOY_DRAM)
    path = write_yaml(
        tmp_path / "acc.yaml",
        {
            "name": "mesh",
            "cores": ["little.yaml"] * 5 + ["dram.yaml"],
            "graph": {
                "type": "2d_mesh",
                "nb_rows": 2,
                "nb_cols": 2,
                "bandwidth": 16,
                "unit_energy_cost": 0.5,
                "simd_core_id": 4,
                "offchip_core_id": 5,
            },
        },
    )
    acc = load_accelerator(path, toy_plugins)
    pairs = sorted(link.cores for link in acc.links if link.kind == "link")
    assert pairs == [(0, 1), (0, 2), (0, 4), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]
    # unit_energy_cost is pJ per cycle of link use (Stream's unit): 0.5 pJ over a 16-bit link is 1/32 pJ per bit
    assert all(link.energy_per_bit == 1 / 32 for link in acc.links if link.kind == "link")
    assert all(link.energy_per_bit == 0.5 / link.bandwidth for link in acc.links)
    assert [link.cores for link in acc.links if link.kind == "bus"] == [(0, 1, 2, 3, 4, 5)]


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d.pop("name"), "acc.yaml: name: missing required field"),
        (
            lambda d: d.update(offchip_core_id="two"),
            "acc.yaml: offchip_core_id: expected an integer core id, got a string",
        ),
        (
            lambda d: d.update(offchip_core_id=9),
            "acc.yaml: offchip_core_id: core 9 is not defined in 'cores' (defined: 0, 1, 2)",
        ),
        (
            lambda d: d["core_connectivity"].append({"cores": [0, 7], "bandwidth": 8}),
            "acc.yaml: core_connectivity[1].cores: core 7 is not defined in 'cores'",
        ),
        (
            lambda d: d["core_connectivity"].append({"cores": [0, 1, 2], "bandwidth": 8}),
            "core_connectivity[1].cores: a link connects exactly 2 cores, got 3; use type: bus",
        ),
        (
            lambda d: d["core_connectivity"][0].update(bandwidth=-4),
            "core_connectivity[0].bandwidth: expected a positive number of bits per cycle, got -4",
        ),
        (
            lambda d: d["cores"].update({1: "missing.yaml"}),
            "acc.yaml: cores.1: core file 'missing.yaml' not found; looked in:",
        ),
        (
            lambda d: d.update(core_conectivity=[]),
            "acc.yaml: core_conectivity: unknown key; did you mean 'core_connectivity'?",
        ),
        (lambda d: d["cores"].update({5: "little.yaml"}), "cores: core ids must be contiguous from 0"),
    ],
)
def test_each_kind_of_bad_accelerator_file(tmp_path, toy_plugins, toy_hardware, mutate, expected):
    import yaml

    path = toy_hardware(n=2)
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as info:
        load_accelerator(path, toy_plugins)
    assert any(expected in m for m in messages(info.value)), messages(info.value)


def test_all_problems_are_reported_together(toy_plugins, toy_hardware):
    import yaml

    path = toy_hardware(n=1)
    data = yaml.safe_load(path.read_text())
    data.pop("name")
    data["core_connectivity"][0]["bandwidth"] = 0
    data["unit_energy_cost"] = -1
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as info:
        load_accelerator(path, toy_plugins)
    fields = sorted(p.field for p in info.value.problems)
    assert fields == ["core_connectivity[0].bandwidth", "name", "unit_energy_cost"]


def test_unknown_core_type_and_bad_core_file(tmp_path, toy_plugins, toy_hardware):
    path = toy_hardware(n=1)
    write_yaml(tmp_path / "cores" / "little.yaml", {**TOY_COMPUTE, "type": "aie2.compute"})
    with pytest.raises(InputError) as info:
        load_accelerator(path, toy_plugins)
    [problem] = info.value.problems
    assert problem.file.endswith("little.yaml") and problem.field == "type"
    assert "core type 'aie2.compute' is not provided by any installed plugin" in problem.message
    assert "Installed core types: toy.*" in problem.message

    write_yaml(tmp_path / "cores" / "little.yaml", {**TOY_COMPUTE, "macs_per_cycle": "fast", "colour": "red"})
    with pytest.raises(InputError) as info:
        load_accelerator(path, toy_plugins)
    assert sorted((p.field, p.message) for p in info.value.problems) == [
        (
            "colour",
            "unknown field; expected one of "
            "macs_per_cycle, memory_bits, bandwidth, mac_energy, bit_energy, call_overhead",
        ),
        ("macs_per_cycle", "expected a non-negative number, got 'fast'"),
    ]

    write_yaml(tmp_path / "cores" / "little.yaml", {**TOY_COMPUTE, "type": "toy.memory"})
    with pytest.raises(
        InputError, match="unknown kind 'memory' for core type 'toy'; expected one of: compute, offchip"
    ):
        load_accelerator(path, toy_plugins)


def test_unreachable_core_and_invalid_yaml(tmp_path, toy_plugins, toy_hardware):
    path = toy_hardware(n=2, links=[{"cores": [0, 2], "bandwidth": 8}])
    with pytest.raises(InputError, match="no link path from core 2 to core 1"):
        load_accelerator(path, toy_plugins)
    path.write_text("name: [unclosed\n")
    with pytest.raises(InputError, match=r"acc.yaml: invalid YAML: line 2, column 1"):
        load_accelerator(path, toy_plugins)


def test_unknown_core_type_names_the_package_its_file_says(tmp_path, toy_plugins, toy_hardware):
    path = toy_hardware(n=1)
    write_yaml(tmp_path / "cores" / "little.yaml", {**TOY_COMPUTE, "type": "acme.compute", "provided_by": "acme-cores"})
    with pytest.raises(InputError) as info:
        load_accelerator(path, toy_plugins)
    assert "This core file says the distribution 'acme-cores' provides it: pip install acme-cores." in str(info.value)
    # with the plugin installed, the key is stripped before the core type parses the file
    write_yaml(tmp_path / "cores" / "little.yaml", {**TOY_COMPUTE, "provided_by": "stream-example-plugin"})
    assert load_accelerator(path, toy_plugins).cores[0].description.macs_per_cycle == 4


def test_a_bad_core_in_a_sharing_group_is_reported_once(tmp_path, toy_plugins, toy_hardware):
    """A sharer whose file fails is that file's problem only, not 'not defined in cores' (tpu_v7)."""
    import yaml

    path = toy_hardware(n=2, links=[{"cores": [0, 2], "bandwidth": 8}])
    data = yaml.safe_load(path.read_text())
    data["cores"][1] = "bad.yaml"
    data["core_memory_sharing"] = ["0, 1"]
    path.write_text(yaml.safe_dump(data))
    write_yaml(tmp_path / "cores" / "bad.yaml", {**TOY_COMPUTE, "macs_per_cycle": "fast"})
    with pytest.raises(InputError) as info:
        load_accelerator(path, toy_plugins)
    assert [(p.file.endswith("bad.yaml"), p.field) for p in info.value.problems] == [(True, "macs_per_cycle")]
