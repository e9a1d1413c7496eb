"""Running a generated project's C simulation, for tests (ours and a user's): build it with g++ against
the bounded-stream C-simulation headers, feed seeded inputs and its weights, read its outputs.

The project layout is the one :mod:`stream_fpga_u55c.project` writes: ``src/*.cpp``, ``csim/``,
``tb/csim_main.cpp`` and ``project.json`` listing each tensor's role, identifier, shape and file.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import attrs
import numpy as np

#: g++ flags of a C-simulation build: warnings are errors, as the issue's bar asks.
CSIM_FLAGS = ["-std=c++17", "-Wall", "-Werror", "-Wno-unknown-pragmas", "-O2", "-pthread", "-DSTREAM_CSIM"]


def build_csim(project: Path, binary: Path, flags: list[str] | None = None) -> subprocess.Popen[str]:
    """Start g++ on ``project``'s kernels and testbench, writing ``binary``; returns the running process."""
    sources = sorted(str(p) for p in (project / "src").glob("*.cpp"))
    command = ["g++", *(flags or CSIM_FLAGS), f"-I{project / 'csim'}", f"-I{project / 'src'}", *sources]
    command += [str(project / "tb" / "csim_main.cpp"), "-o", str(binary)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@attrs.frozen
class CsimRun:
    """One C simulation: the process, its seeded inputs and the outputs it wrote, by tensor name."""

    result: subprocess.CompletedProcess[str]
    feeds: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    out_dir: Path


def run_csim(project: Path, binary: Path, run_dir: Path, seed: int, timeout: float = 300) -> CsimRun:
    """Run ``binary`` on uniform(-1, 1) inputs drawn with ``seed`` and the project's weight files, in
    ``run_dir/data`` and ``run_dir/out``; outputs that were not written are left out."""
    tensors = json.loads((project / "project.json").read_text())["tensors"]
    data, out = run_dir / "data", run_dir / "out"
    data.mkdir(parents=True)
    out.mkdir()
    rng = np.random.default_rng(seed)
    feeds = {}
    for t in tensors:
        if t["role"] == "input":
            feeds[t["name"]] = rng.uniform(-1, 1, size=t["shape"]).astype(np.float32)
            feeds[t["name"]].astype("<f4").tofile(data / f"{t['ident']}.bin")
        elif t["role"] == "weight":
            (data / f"{t['ident']}.bin").write_bytes((project / t["file"]).read_bytes())
    result = subprocess.run([str(binary), str(data), str(out)], capture_output=True, text=True, timeout=timeout)
    outputs = {
        t["name"]: np.fromfile(out / f"{t['ident']}.bin", dtype="<f4").reshape(t["shape"])
        for t in tensors
        if t["role"] == "output" and (out / f"{t['ident']}.bin").exists()
    }
    return CsimRun(result, feeds, outputs, out)
