"""The schema layer over accelerator and mapping files: types, finite ranges, cross-references, and
what is accepted with Stream's meaning is said in a note."""

from __future__ import annotations

import pytest
import yaml
from core_test_support import TOY_COMPUTE, write_yaml
from test_mapping_io import two_conv

from stream_core.errors import InputError
from stream_core.hardware import load_accelerator
from stream_core.mapping_io import load_mapping


def problems(path, plugins) -> list[str]:
    with pytest.raises(InputError) as exc:
        load_accelerator(path, plugins)
    return [f"{p.field}: {p.message}" for p in exc.value.problems]


def edit(path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


def test_non_finite_numbers_are_refused_all_at_once(toy_plugins, toy_hardware):
    path = toy_hardware(n=2)
    path.write_text(
        path.read_text().replace("bandwidth: 8", "bandwidth: .nan\n  unit_energy_cost: .inf")
        + "unit_energy_cost: -.inf\n"
    )
    assert problems(path, toy_plugins) == [
        "unit_energy_cost: expected a non-negative number (pJ per cycle of link use), got -inf",
        "core_connectivity[0].bandwidth: expected a positive number of bits per cycle, got nan",
        "core_connectivity[0].unit_energy_cost: expected a non-negative number (pJ per cycle of link use), got inf",
    ]


def test_a_list_where_a_core_id_belongs(toy_plugins, toy_hardware):
    path = toy_hardware(n=2, links=[{"type": "bus", "cores": [[0], 1, 2], "bandwidth": 8}])
    assert problems(path, toy_plugins)[0] == "core_connectivity[0].cores: expected integer core ids, got [0]"


def test_graph_layout_with_a_list_as_special_core(tmp_path, toy_plugins):
    write_yaml(tmp_path / "little.yaml", TOY_COMPUTE)
    path = write_yaml(
        tmp_path / "acc.yaml",
        {
            "name": "g",
            "cores": ["little.yaml"] * 2,
            "graph": {"type": "bus", "bandwidth": 8, "simd_core_id": [1]},
        },
    )
    assert "offchip_core_id: missing required field (the id of the off-chip memory core)" in problems(path, toy_plugins)


def test_duplicate_links_are_parallel_channels_with_a_note(toy_plugins, toy_hardware):
    link = {"type": "link", "cores": [0, 1], "bandwidth": 8}
    acc = load_accelerator(toy_hardware(n=1, links=[link, {**link, "cores": [1, 0], "bandwidth": 16}]), toy_plugins)
    assert [link.bandwidth for link in acc.parallel(0, 1)] == [16, 8]
    assert acc.notes == (
        "core_connectivity[1]: the same link as core_connectivity[0] (cores 1, 0); both are used, as parallel "
        "channels (Stream keeps only the last)",
    )


def test_coordinates_of_a_missing_core(toy_plugins, toy_hardware):
    path = toy_hardware(n=1)
    edit(path, lambda d: d.update(core_coordinates={0: [0, 0], 7: [1, 1]}))
    assert problems(path, toy_plugins) == ["core_coordinates.7: core 7 is not defined in 'cores'"]


def test_core_path_that_is_no_core_description_is_not_echoed(tmp_path, toy_plugins, toy_hardware):
    path = toy_hardware(n=1)
    (tmp_path / "secrets.yaml").write_text("password: hunter2\ntoken: abc\n")
    (tmp_path / "notes.txt").write_text("name: x\n")
    edit(path, lambda d: d["cores"].update({0: "secrets.yaml"}))
    shown = problems(path, toy_plugins)
    assert shown == [
        "None: not a core description: expected a mapping with name, type, memories, memory (its content is not shown)"
    ]
    assert not any("password" in p or "token" in p for p in shown)
    edit(path, lambda d: d["cores"].update({0: "notes.txt"}))
    assert problems(path, toy_plugins)[0].startswith("None: a core file must be a YAML core description")


def test_untyped_core_means_zigzag_compute(tmp_path, toy_plugins, toy_hardware):
    path = toy_hardware(n=1)
    edit(path, lambda d: d["cores"].update({0: {k: v for k, v in TOY_COMPUTE.items() if k != "type"}}))
    with pytest.raises(InputError, match=r"core type 'zigzag\.compute' is not provided"):
        load_accelerator(path, toy_plugins)  # the toy plugin set has no zigzag: the default is what is asked


def test_mapping_notes_unknown_layers_and_uneven_tiles(tmp_path, toy_plugins, toy_hardware):
    acc = load_accelerator(toy_hardware(n=2, compute={**TOY_COMPUTE, "memory_bits": 2**20}), toy_plugins)
    path = write_yaml(
        tmp_path / "m.yaml",
        {
            "layers": [{"name": "default", "core_allocation": [[0]]}, {"name": "Conv3", "core_allocation": [[1]]}],
            "fused_groups": [
                {"name": "g", "layers": ["Conv1", "Conv2"], "intra_core_tiling": [{"dim": "Conv1.D2", "tile": 5}]}
            ],
        },
    )
    mapping = load_mapping(path, two_conv(), acc)
    assert mapping.group_of("Conv1").tile_sizes("Conv1") == {"OY": 5}
    assert [n for n in mapping.notes if "Conv3" in n or "divide" in n] == [
        "layers 'Conv3' (did you mean 'Conv'?) name no node or op type of workload 'two_conv': ignored, as in Stream",
        "fused group 'g': tile 5 of Conv1.OY does not divide its size 32: 7 tiles, the last of 2 (Stream 2.1.1 "
        "refuses a tile that does not divide its loop)",
        "fused group 'g': tile 5 of Conv2.OY does not divide its size 32: 7 tiles, the last of 2 (Stream 2.1.1 "
        "refuses a tile that does not divide its loop)",
    ]
