"""Sections of the platform file that are empty or not mappings: one clear problem each, no traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from stream_fpga_u55c.platform import DEFAULT_PLATFORM_FILE, load_platform

from stream_core.errors import InputError


def _problems(tmp_path: Path, section: str, value: Any) -> list[tuple[str | None, str]]:
    data = yaml.safe_load(DEFAULT_PLATFORM_FILE.read_text())
    data[section] = value
    path = tmp_path / "platform.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as error:
        load_platform(path)
    return [(p.field, p.message) for p in error.value.problems]


def test_empty_section_names_its_required_fields(tmp_path: Path) -> None:
    assert _problems(tmp_path, "kernel_clock", {}) == [("kernel_clock.mhz", "missing required field")]
    assert _problems(tmp_path, "memory_blocks", {}) == [
        ("memory_blocks.bram36_bits", "missing required field"),
        ("memory_blocks.uram_bits", "missing required field"),
    ]
    assert [field for field, _ in _problems(tmp_path, "hbm", {})] == [
        "hbm.pseudo_channels",
        "hbm.pc_bytes",
        "hbm.pc_bandwidth_gbps",
        "hbm.axi_data_bits",
    ]


def test_section_that_is_not_a_mapping_is_one_problem(tmp_path: Path) -> None:
    assert _problems(tmp_path, "kernel_clock", 300) == [("kernel_clock", "expected a mapping, got an integer")]
    assert [field for field, _ in _problems(tmp_path, "hbm", None)] == ["hbm"]
