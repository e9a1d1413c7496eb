"""stream-cores-aie works with only stream-core, stream-onnx, stream-solvers and stream-tetra installed
in a fresh virtual environment (dependencies from the package index), and before it is installed
the same hardware file names it as the package to install."""

from __future__ import annotations

import json
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from stream_cores_aie import hardware_file, workloads

REPO = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().parents[1]
OTHERS = [REPO / "stream_core", REPO / "plugins" / "onnx", REPO / "plugins" / "solvers", REPO / "plugins" / "tetra"]


def copy_sources(paths: list[Path], target: Path) -> list[Path]:
    """Copies of the source trees, so building them writes nothing into the repository."""
    ignore = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "tests", "bench", "stream-output")
    return [Path(shutil.copytree(p, target / p.name, ignore=ignore)) for p in paths]


def sh(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=900, cwd=cwd)


@pytest.mark.slow
def test_fresh_environment(tmp_path):
    if not all((p / "pyproject.toml").exists() for p in OTHERS):
        pytest.skip("needs the stream-core, stream-onnx, stream-solvers and stream-tetra sources")
    root = tmp_path / "venv"
    venv.create(root, with_pip=True)
    python, stream = root / "bin" / "python", root / "bin" / "stream"
    installed = sh(python, "-m", "pip", "install", "-q", *copy_sources(OTHERS, tmp_path / "src"))
    assert installed.returncode == 0, installed.stderr[-3000:]

    hardware = hardware_file("single_col")
    missing = sh(stream, "validate", hardware)
    assert missing.returncode == 2
    assert "core type 'aie2.compute' is not provided by any installed plugin" in missing.stderr
    assert "pip install stream-cores-aie" in missing.stderr

    [this] = copy_sources([THIS], tmp_path / "src")
    installed = sh(python, "-m", "pip", "install", "-q", this)
    assert installed.returncode == 0, installed.stderr[-3000:]
    listing = json.loads(sh(stream, "plugins", "--json").stdout)
    rows = {row["distribution"]: row for row in listing["plugins"]}
    assert set(rows) == {"stream-core", "stream-cores-aie", "stream-onnx", "stream-solvers", "stream-tetra"}
    assert all(row["status"] == "active" for row in rows.values())
    assert rows["stream-cores-aie"]["provides"] == {
        "commands": ["aie-examples"],
        "core_types": ["aie2"],
        "cost_models": ["aie"],
        "exporters": ["aie-usage"],
        "settings": ["aie.buffer_descriptors", "aie.dma_channels", "aie.object_fifo_depth"],
    }

    model = workloads.gemm(tmp_path / "gemm.onnx", 64, 64, 64)
    mapping = tmp_path / "gemm.mapping.yaml"
    mapping.write_text(json.dumps(workloads.gemm_mapping("single_col", 64)))  # JSON is YAML
    out = tmp_path / "out"
    done = sh(stream, "run", model, hardware, "--mapping", mapping, "-o", out, "--json", "--no-cache", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["provenance"]["allocator"].startswith("tetra (stream-tetra")
    assert summary["provenance"]["cost models"] == "aie (stream-cores-aie 0.1.0): 4 entries"
    # one 64x16x64 tile per compute tile: 65536 MACs / (128 x 80 %) + 32 = 672 cycles
    assert sorted((n["cores"], n["busy_cycles"]) for n in summary["nodes"]) == [([2, 3, 4, 5], 4 * 672)]
    usage = json.loads((out / "aie_usage.json").read_text())
    assert usage["totals"]["compute"] == {"used": 4, "total": 4}
