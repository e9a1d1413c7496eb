"""The C-simulation runtime on the reference deadlock case of u55c_platform.md §7.2 (analytic results)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def run(binary: Path, *args: str) -> str:
    result = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("depth", [1, 13, 14])
def test_depth_up_to_14_deadlocks_with_every_blocked_task_named(reference_binary: Path, depth: int) -> None:
    out = run(reference_binary, str(depth))
    assert out.startswith("deadlock\n")
    assert "all 3 live task(s) are blocked" in out
    assert f"task src blocked writing stream 'a' (FULL, {depth}/{depth})" in out
    assert "task mid blocked reading stream 'b1' (EMPTY, 0/2)" in out
    assert "task join blocked reading stream 'b2' (EMPTY, 0/2)" in out


def test_depth_15_passes_with_max_occupancy_15(reference_binary: Path) -> None:
    # sum over i of a[i] + b2[i] = sum(i) + sum(100 i + 1) = 120 + 12000 + 16
    assert run(reference_binary, "15") == "ok 12136 15\n"


def test_depth_16_passes(reference_binary: Path) -> None:
    assert run(reference_binary, "16").startswith("ok 12136 ")


def test_threshold_is_deterministic(reference_binary: Path) -> None:
    outcomes = {run(reference_binary, "14").splitlines()[0] for _ in range(25)}
    outcomes |= {run(reference_binary, "15") for _ in range(25)}
    assert outcomes == {"deadlock", "ok 12136 15\n"}


def test_stream_of_blocks_full_and_empty(reference_binary: Path) -> None:
    out = run(reference_binary, "blocks", "1")
    assert "blocked writing stream_of_blocks 'blocks' (FULL, 1/1)" in out
    assert "blocked reading stream 'token' (EMPTY, 0/2)" in out
    assert run(reference_binary, "blocks", "2") == "ok 2 2\n"
