"""A third party adds a core type and a cost model from its own distribution, with no change to ours.

The fixture distribution in tests/fixtures/example_plugin is pip-installed (editable) into a
throw-away virtual environment layered over this one, so the developer's environment is untouched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from cross_test_support import FIXTURE_PLUGIN, gemm_model, stream


@pytest.fixture(scope="module")
def layered_python(tmp_path_factory) -> Path:
    """A venv that sees every package of the current environment and can pip-install on top."""
    root = tmp_path_factory.mktemp("layered-venv")
    venv.create(root, with_pip=False)
    site = next(root.glob("lib/python*/site-packages"))
    outer = sysconfig.get_paths()["purelib"]
    (site / "_outer_env.pth").write_text(f"import site; site.addsitedir({outer!r})\n")
    return root / "bin" / "python"


def pip(python: Path, *args: str) -> None:
    subprocess.run([str(python), "-m", "pip", *args], check=True, capture_output=True, text=True, timeout=600)


def test_install_list_use_and_uninstall(layered_python, tmp_path, toy_hardware_file):
    py = str(layered_python)
    model = gemm_model(tmp_path / "gemm.onnx", m=4, k=4, n=8)

    before = json.loads(stream("plugins", "--json", python=py).stdout)
    assert "stream-example-plugin" not in [p["distribution"] for p in before["plugins"]]

    pip(layered_python, "install", "--no-deps", "-e", str(FIXTURE_PLUGIN))
    try:
        listing = json.loads(stream("plugins", "--json", python=py).stdout)
        [row] = [p for p in listing["plugins"] if p["distribution"] == "stream-example-plugin"]
        assert row["status"] == "active" and row["version"] == "0.1.0"
        assert row["provides"] == {"core_types": ["toy"], "cost_models": ["toy-cost"]}

        run = stream(
            "run",
            str(model),
            str(toy_hardware_file),
            "--cost-model",
            "toy-cost",
            "--allocator",
            "greedy",
            "--output",
            str(tmp_path / "out"),
            "--json",
            "--no-cache",
            python=py,
        )
        assert run.returncode == 0, run.stderr
        summary = json.loads(run.stdout)
        # 4x4x8 = 128 MACs at 4 MACs/cycle + 10 cycles call overhead (toy-cost) = 42 cycles on core 0
        [node] = summary["nodes"]
        assert node["busy_cycles"] == 42 and node["cost_model"] == "toy-cost"
        assert "toy-cost (stream-example-plugin 0.1.0)" in summary["provenance"]["cost models"]
        assert summary["energy_breakdown_pj"]["compute"] == 128 * 0.5
    finally:
        pip(layered_python, "uninstall", "-y", "stream-example-plugin")
        # the editable build leaves metadata next to the sources, which would make the fixture
        # discoverable by any process that has its src/ folder on sys.path
        for leftover in (FIXTURE_PLUGIN / "src").glob("*.egg-info"):
            shutil.rmtree(leftover)

    after = json.loads(stream("plugins", "--json", python=py).stdout)
    assert "stream-example-plugin" not in [p["distribution"] for p in after["plugins"]]
    gone = stream("run", str(model), str(toy_hardware_file), "--cost-model", "toy-cost", python=py)
    assert gone.returncode == 2
    assert "core type 'toy.compute' is not provided by any installed plugin" in gone.stderr


def test_the_layered_environment_leaves_ours_alone():
    out = subprocess.run([sys.executable, "-m", "pip", "show", "stream-example-plugin"], capture_output=True, text=True)
    assert out.returncode != 0
