"""Without stream-cores-aie, a hardware file naming aie2.* cores says which package to install.

The core never names this package: our core files carry ``provided_by: stream-cores-aie``, which
stream-core strips before a core-type plugin sees the file and quotes when no plugin reads the
type. Here the package is disabled (as if not installed); the install-alone test checks the same
in a fresh environment where it really is not installed.
"""

from __future__ import annotations

import pytest
import yaml

from stream_core.errors import InputError
from stream_core.hardware import load_accelerator
from stream_core.plugins import Plugins
from stream_cores_aie import HARDWARE_DIR, hardware_file

EXPECTED = (
    "core type 'aie2.compute' is not provided by any installed plugin. Installed core types: {installed}. "
    "This core file says the distribution 'stream-cores-aie' provides it: pip install stream-cores-aie."
)


def test_every_shipped_core_file_names_its_distribution():
    for path in sorted((HARDWARE_DIR / "cores").glob("*.yaml")):
        assert yaml.safe_load(path.read_text())["provided_by"] == "stream-cores-aie", path.name


def test_hardware_without_the_package_names_the_package_to_install():
    plugins = Plugins.discover(disabled=["stream-cores-aie"])
    installed = ", ".join(f"{n}.*" for n in plugins.registry("core_types").names()) or "(none)"
    with pytest.raises(InputError) as info:
        load_accelerator(hardware_file("single_tile"), plugins)
    by_file = {p.file.rsplit("/", 1)[-1]: p for p in info.value.problems}
    assert set(by_file) == {"shim_dma.yaml", "aie_tile.yaml"}
    compute = by_file["aie_tile.yaml"]
    assert compute.field == "type"
    assert compute.message.startswith(EXPECTED.format(installed=installed))
    assert "aie2.shim" in by_file["shim_dma.yaml"].message
