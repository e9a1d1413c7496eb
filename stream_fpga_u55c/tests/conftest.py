"""Shared fixtures: the example models, compiled once per session, and their C-simulation binaries
(built in parallel, once per model per session)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from stream_fpga_u55c.compile import Compiled, CompileOptions, compile_workload
from stream_fpga_u55c.testing import CSIM_FLAGS, build_csim, run_csim

from stream_core.context import RunContext
from stream_core.outputs import write_files
from stream_core.plugins import load_plugins
from stream_fpga_u55c import examples

#: Numeric tolerance against onnxruntime (float32 everywhere).
RTOL, ATOL = 1e-4, 1e-5

BUILDERS: dict[str, Callable[[Path], Path]] = {
    "mlp": examples.mlp,
    "conv_block": examples.conv_block,
    "attention": examples.attention,
}

#: Tiles pinned so a test can check a hand-derived structure: the conv block streams one row per token
#: (every other loop whole; a tile above the loop size means whole), as its window-ring test derives.
PINNED = {"conv_block": ("OY=1", "OX=4096", "C=4096", "K=4096", "FX=4096", "FY=4096")}


def finish(process: subprocess.Popen) -> None:
    _, err = process.communicate()
    assert process.returncode == 0, f"g++ failed:\n{err}"


class Project:
    """A compiled example: its model, project directory, compile result and C-simulation binary."""

    def __init__(self, name: str, model: Path, directory: Path, compiled: Compiled, binary: Path) -> None:
        self.name = name
        self.model = model
        self.dir = directory
        self.compiled = compiled
        self.binary = binary
        self.manifest = json.loads((directory / "project.json").read_text())

    def tensors(self, role: str) -> list[dict]:
        return [t for t in self.manifest["tensors"] if t["role"] == role]

    def run(self, run_dir: Path, seed: int) -> tuple[subprocess.CompletedProcess, dict[str, np.ndarray], dict]:
        """Random inputs (seeded) + the model's weights in ``run_dir/data``; runs the simulation."""
        run = run_csim(self.dir, self.binary, run_dir, seed, timeout=120)
        return run.result, run.outputs, {"feeds": run.feeds, "stats": _stats(run.out_dir / "streams.csv")}


def _stats(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    return {row.split(",")[0]: dict(zip(header, row.split(","), strict=True)) for row in lines[1:]}


@pytest.fixture(scope="session")
def tolerance() -> tuple[float, float]:
    """``(rtol, atol)`` of the comparison with onnxruntime."""
    return RTOL, ATOL


@pytest.fixture(scope="session")
def csim_builder() -> Callable[..., subprocess.Popen]:
    """``build(project_dir, binary, flags=None)``: starts g++ on a generated project (see :func:`build_csim`)."""
    return build_csim


@pytest.fixture(scope="session")
def context() -> RunContext:
    return RunContext(plugins=load_plugins())


@pytest.fixture(scope="session")
def projects(tmp_path_factory: pytest.TempPathFactory, context: RunContext) -> dict[str, Project]:
    """Every example compiled and its simulation built (g++ runs in parallel)."""
    root = tmp_path_factory.mktemp("projects")
    pending = []
    for name, builder in BUILDERS.items():
        model = builder(root / f"{name}.onnx")
        compiled = compile_workload(model, context, CompileOptions(tiles=PINNED.get(name, ())))
        directory = root / name
        write_files(directory, compiled.files)
        binary = root / f"{name}.csim"
        pending.append((name, model, directory, compiled, binary, build_csim(directory, binary)))
    out = {}
    for name, model, directory, compiled, binary, process in pending:
        finish(process)
        out[name] = Project(name, model, directory, compiled, binary)
    return out


@pytest.fixture(scope="session")
def reference_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The u55c_platform.md §7.2 reference program compiled with our C-simulation headers."""
    from importlib import resources

    csim = Path(str(resources.files("stream_fpga_u55c") / "csim"))
    binary = tmp_path_factory.mktemp("reference") / "reference_deadlock"
    source = Path(__file__).parent / "cpp" / "reference_deadlock.cpp"
    process = subprocess.Popen(
        ["g++", *CSIM_FLAGS, f"-I{csim}", str(source), "-o", str(binary)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    finish(process)
    return binary
