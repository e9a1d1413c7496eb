"""Signals stop a real ``stream run`` subprocess cleanly (issue 19): SIGTERM during ZigZag costing
exits 143 with no worker left alive and no output folder; SIGINT exits 130 likewise."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))

from fuzz_support import write_inputs


def convs(channels: tuple[int, ...] = (8, 16, 24, 32), size: int = 32) -> onnx.ModelProto:
    """3x3 convolutions of growing width: three distinct ZigZag jobs, so a pool of two workers."""
    nodes, weights, previous = [], [], "x"
    for i, (cin, cout) in enumerate(itertools.pairwise(channels)):
        weight = onnx.TensorProto()
        weight.name, weight.data_type = f"w{i}", TensorProto.FLOAT
        weight.dims.extend([cout, cin, 3, 3])
        weights.append(weight)
        nodes.append(helper.make_node("Conv", [previous, weight.name], [f"c{i}"], name=f"conv{i}", pads=[1, 1, 1, 1]))
        previous = f"c{i}"
    graph = helper.make_graph(
        nodes,
        "convs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels[0], size, size])],
        [helper.make_tensor_value_info(previous, TensorProto.FLOAT, None)],
        initializer=weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def children(pid: int) -> set[int]:
    """The live (non-zombie) processes whose parent is ``pid``, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_costing_leaves_no_worker_and_no_output(tmp_path, signum, code):
    inputs = write_inputs(tmp_path)
    onnx.save(convs(), inputs["workload"])
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "stream_core.cli", "run", str(inputs["workload"]), str(inputs["hardware"])]
    argv += ["-o", str(out), "--jobs", "2", "--no-cache", "-q", "--set", "zigzag.lpf_limit=9"]  # > 20 s of LOMA
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while len(workers) < 2 and process.poll() is None and time.monotonic() < deadline:
        workers |= children(process.pid)
        time.sleep(0.05)
    assert workers, "the run never started a costing pool"
    time.sleep(0.5)  # the workers are costing
    start = time.monotonic()
    process.send_signal(signum)
    _, err = process.communicate(timeout=10)
    assert time.monotonic() - start < 1.5
    assert process.returncode == code, err
    assert "Traceback" not in err
    time.sleep(0.2)
    assert [pid for pid in workers if alive(pid)] == []
    assert not out.exists() and not list(tmp_path.glob(".*out*"))
