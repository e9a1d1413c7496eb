"""The Pareto front, the area model, parameter paths and variant files, on hand-made data."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from explore_support import ACCELERATOR, PE
from stream_explore import accelerator_area, area_model, pareto_front
from stream_explore.paths import parse_path, select_cores, set_value
from stream_explore.sweep import Parameter
from stream_explore.variants import load_base, materialise


def test_pareto_front_of_a_hand_made_set() -> None:
    points = [(1, 5), (2, 3), (3, 4), (4, 1), (2, 3), (5, 5), (1, 6), (4, 2)]
    # (3,4) is dominated by (2,3); (5,5) by all but (1,6); (1,6) by (1,5); (4,2) by (4,1); equal (2,3)s both stay
    assert pareto_front(points) == [0, 1, 3, 4]
    assert pareto_front([(1, 1, 9), (2, 2, 1), (3, 3, 9)]) == [0, 1]
    assert pareto_front([]) == []


def test_area_of_a_hand_computed_accelerator() -> None:
    core = {
        "type": "zigzag.compute",
        "memories": {
            "rf": {"size": 8, "served_dimensions": ["D2"]},  # one per D1 position: 4 instances
            "sram": {"size": 1000, "served_dimensions": ["D1", "D2"]},  # one instance
        },
        "operational_array": {"dimensions": ["D1", "D2"], "sizes": [4, 3]},
    }
    dram = {"type": "zigzag.offchip", "memories": {"dram": {"size": 10**9}}, "operational_array": {"sizes": [0]}}
    accelerator = {"technology_node": "n16"}
    model = area_model(accelerator, {})
    report = accelerator_area(accelerator, {0: core, 1: dram}, model)
    assert report.memory_mm2 == pytest.approx((8 * 4 + 1000) * 0.10 / 1e6)
    assert report.compute_mm2 == pytest.approx(12 * 200.0 / 1e6)
    assert report.notes == ()
    # two cores sharing the sram (core_memory_sharing): counted once; overridden constants
    shared = {"core_memory_sharing": ["0, 2"]}
    model = area_model(shared, {"sram_um2_per_bit": 1.0, "mac_um2": 10.0})
    report = accelerator_area(shared, {0: core, 1: dram, 2: copy.deepcopy(core)}, model)
    assert report.memory_mm2 == pytest.approx((2 * 8 * 4 + 1000) / 1e6)
    assert report.compute_mm2 == pytest.approx(2 * 12 * 10.0 / 1e6)
    # an unknown node without constants is priced at 16 nm, and says so
    assert area_model({"technology_node": "n3"}, {}).notes == ("area: no constants for technology 'n3'; priced at n16",)


def test_paths_and_core_selection() -> None:
    assert parse_path("cores.0-2:memories.sram.size").selector == "0-2"
    assert parse_path("set:zigzag.lpf_limit").keys == ("zigzag.lpf_limit",)
    with pytest.raises(ValueError, match="unknown run option"):
        parse_path("option:colour")
    names = {0: "pe", 1: "pe", 2: "dram"}
    assert select_cores("pe", names) == [0, 1]
    assert select_cores("0,2", names) == [0, 2]
    assert select_cores("*", names) == [0, 1, 2]
    data = {"cores": {0: "a"}, "links": [{"bandwidth": 1}]}
    set_value(data, ("links", "0", "bandwidth"), 9)
    set_value(data, ("cores", "0"), "b")
    assert data == {"cores": {0: "b"}, "links": [{"bandwidth": 9}]}
    with pytest.raises(ValueError, match=r"links\.3: expected an index below 1"):
        set_value(data, ("links", "3", "bandwidth"), 1)


def test_variants_leave_the_user_files_alone(tmp_path: Path) -> None:
    from explore_support import write_hardware

    path = write_hardware(tmp_path / "hw")
    before = {p: p.read_text() for p in (tmp_path / "hw").rglob("*.yaml")}
    base = load_base(path)
    array = Parameter("array", (parse_path("cores.0:operational_array.sizes"),), ([8, 8],))
    variant = materialise(base, {array: [8, 8]}, None)
    written = variant.write(tmp_path / "variant")
    assert {p: p.read_text() for p in (tmp_path / "hw").rglob("*.yaml")} == before
    data = yaml.safe_load(written.read_text())
    # core 0 differs from core 1 now: each gets its own file, core 1 keeps the original's content
    assert data["cores"] == {0: "./cores/pe.yaml", 1: "./cores/pe~1.yaml", 2: "./cores/dram.yaml"}
    assert yaml.safe_load((tmp_path / "variant/cores/pe.yaml").read_text())["operational_array"]["sizes"] == [8, 8]
    assert yaml.safe_load((tmp_path / "variant/cores/pe~1.yaml").read_text()) == PE
    assert data["core_connectivity"] == ACCELERATOR["core_connectivity"]
