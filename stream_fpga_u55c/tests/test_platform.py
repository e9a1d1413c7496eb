"""The U55C hardware file, its stream-itensor target view and the plugin's registrations."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from stream_fpga_u55c.platform import DEFAULT_PLATFORM_FILE, load_platform
from stream_fpga_u55c.target import itensor_target
from stream_itensor.api import load_target

from stream_core.context import RunContext
from stream_core.errors import InputError
from stream_core.plugins import Plugins


def test_u55c_numbers() -> None:
    p = load_platform()
    assert (p.platform, p.part) == ("xilinx_u55c_gen3x16_xdma_3_202210_1", "xcu55c-fsvh2892-2L-e")
    assert (p.hbm_pcs, p.pc_bytes, p.pc_bandwidth_gbps) == (32, 512 * 2**20, 14.375)
    assert p.hbm_pcs * p.pc_bytes == 16 * 2**30
    assert p.hbm_bandwidth_gbps == 460.0
    assert [(s.name, s.bram36, s.uram, s.dsp) for s in p.slrs] == [
        ("SLR0", 600, 320, 2664),
        ("SLR1", 576, 320, 2784),
        ("SLR2", 600, 320, 2856),
    ]
    assert sum(s.lut for s in p.slrs) == 1_131_000 and sum(s.ff for s in p.slrs) == 2_265_000
    assert (sum(s.bram36 for s in p.slrs), sum(s.uram for s in p.slrs), sum(s.dsp for s in p.slrs)) == (1776, 960, 8304)
    assert (p.clock_mhz, p.clock_verified) == (300.0, False)
    # 1776 x 36 Kb + 960 x 288 Kb
    assert p.on_chip_bytes == (1776 * 36 * 1024 + 960 * 288 * 1024) // 8
    assert p.group_budget_bytes == (576 * 36 * 1024 + 320 * 288 * 1024) // 8  # the smallest SLR (SLR1)


def test_registered_target_is_loadable_by_stream_itensor(stream_plugins: Plugins) -> None:
    record = stream_plugins.registry("targets").get("u55c")
    assert record.code_generator == "u55c-hls"
    target = load_target("u55c", RunContext(plugins=stream_plugins))
    p = load_platform()
    assert target.memory_bytes == p.group_budget_bytes
    assert target.cores[0].summary.peak_macs_per_cycle == 16
    assert target.converter_bits_per_cycle == p.axi_data_bits == 512
    mine = itensor_target(p, 16)
    assert (mine.memory_bytes, mine.cores[0].summary) == (target.memory_bytes, target.cores[0].summary)


def test_backend_is_registered_as_the_targets_code_generator(stream_plugins: Plugins) -> None:
    backend = stream_plugins.registry("code_generators").get("u55c-hls")
    assert hasattr(backend.load(), "generate")
    assert stream_plugins.registry("targets").get("u55c").load() == DEFAULT_PLATFORM_FILE


def test_bad_platform_file_reports_every_problem(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_PLATFORM_FILE.read_text())
    data["hbm"]["pseudo_channels"] = 0
    data["hbm"]["total_bandwidth_gbps"] = 400
    data["slrs"][1]["dsp"] = "many"
    data["kernel_clock"]["mhz"] = -1
    data["colour"] = "red"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as error:
        load_platform(path)
    fields = sorted(p.field for p in error.value.problems)
    assert fields == ["colour", "hbm.pseudo_channels", "kernel_clock.mhz", "slrs[1].dsp"]
    assert all(p.file == str(path) for p in error.value.problems)
