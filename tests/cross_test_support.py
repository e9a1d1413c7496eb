"""Helpers shared by the cross-package tests (conftest puts this folder on sys.path)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
FIXTURE_PLUGIN = REPO / "tests" / "fixtures" / "example_plugin"


def stream(*args: str, cwd: Path | None = None, python: str = sys.executable) -> subprocess.CompletedProcess:
    """Run the ``stream`` CLI in a subprocess, as a user would."""
    return subprocess.run(
        [python, "-m", "stream_core.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def gemm_model(path: Path, m: int = 4, k: int = 4, n: int = 8) -> Path:
    """A one-node ONNX model: Y[m,n] = A[m,k] @ B[k,n] (float32), weights as a graph input."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Gemm", ["A", "B"], ["Y"], name="gemm")],
        "gemm",
        [
            helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k]),
            helper.make_tensor_value_info("B", TensorProto.FLOAT, [k, n]),
        ],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [m, n])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def write_yaml(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
