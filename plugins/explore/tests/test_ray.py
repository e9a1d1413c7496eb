"""The same sweep on a real local Ray cluster (started here on 127.0.0.1, stopped after) and in the
local process pool gives the same rows."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from explore_support import FAST_RUN, write_sweep
from stream_explore import explore

pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture
def ray_cluster() -> Iterator[str]:
    """A head node on 127.0.0.1 with 2 CPUs; its process group is interrupted afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ray = Path(sys.executable).with_name("ray")
    options = ["--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2", "--include-dashboard=false"]
    head = subprocess.Popen(
        [str(ray), "start", "--head", *options, "--disable-usage-stats", "--block"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(head.pid, signal.SIGINT)
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()


def test_ray_cluster_matches_the_process_pool(tmp_path: Path, hardware: Path, two_conv: Path, ray_cluster: str) -> None:
    data = {
        "workload": str(two_conv),
        "accelerator": str(hardware),
        "parameters": {
            "array": {"path": "cores.pe:operational_array.sizes", "values": [[4, 4], [8, 8]]},
            "bus": {"path": "core_connectivity.1.bandwidth", "values": [64, 256]},
        },
        "run": FAST_RUN,
    }
    sweep = write_sweep(tmp_path, data)
    local = explore(sweep, tmp_path / "pool", jobs=2)
    started = time.monotonic()
    while True:  # the head needs a few seconds before it accepts a driver
        try:
            remote = explore(sweep, tmp_path / "ray", jobs=2, executor="ray", address=ray_cluster)
            break
        except Exception:
            if time.monotonic() - started > 60:
                raise
            time.sleep(1)
    columns = ["input_hash", "array", "bus", "status", "latency", "energy", "edp", "peak_memory", "area", "pareto"]
    assert remote[columns].to_dict("records") == local[columns].to_dict("records")
    assert set(remote["status"]) == {"ok"}
