"""Generated kernels compiled with g++ and run in C simulation equal onnxruntime on the same ONNX model and
random inputs: rtol 1e-4, atol 1e-5 in float32. With the LP depths no run deadlocks or leaves data behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

MODELS = ["mlp", "conv_block", "attention"]


def reference(project: Any, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(project.model), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds), strict=True))


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_onnxruntime(
    projects: dict[str, Any], tolerance: tuple[float, float], tmp_path: Path, name: str, seed: int
) -> None:
    project = projects[name]
    result, outputs, extra = project.run(tmp_path, seed)
    assert result.returncode == 0, result.stderr
    expected = reference(project, extra["feeds"])
    assert set(outputs) == set(expected)
    for tensor, value in outputs.items():
        np.testing.assert_allclose(value, expected[tensor], rtol=tolerance[0], atol=tolerance[1])
        assert np.abs(expected[tensor]).max() > 0.1  # a real signal, not zeros


@pytest.mark.parametrize("name", MODELS)
def test_lp_depths_are_used_and_respected(projects: dict[str, Any], tmp_path: Path, name: str) -> None:
    project = projects[name]
    result, _, extra = project.run(tmp_path, 2)
    assert result.returncode == 0, result.stderr
    stats = extra["stats"]
    sizings = {f.channel: f for s in project.compiled.plan.sizings for f in s.fifos}
    fifos = [s for g in project.manifest["groups"] for s in g["streams"] if s["kind"] == "fifo"]
    assert len(fifos) == len(sizings)
    for s in fifos:
        row = stats[s["name"]]
        # the template depth is the LP depth in tokens (capped at one run's tokens) times items per token
        items = -(-s["token_floats"] // 16)
        assert s["depth_tokens"] == max(1, min(s["lp_depth_tokens"], int(row["writes"]) // items))
        assert int(row["capacity"]) == s["depth_items"] == s["depth_tokens"] * items
        assert int(row["max_occupancy"]) <= int(row["capacity"])
        assert row["writes"] == row["reads"] and row["leftover"] == "0"
    assert {s["lp_depth_tokens"] for s in fifos} <= {f.depth for f in sizings.values()}


def test_conv_block_uses_a_window_ring_and_a_converter(projects: dict[str, Any]) -> None:
    source = (projects["conv_block"].dir / "src" / "group0.cpp").read_text()
    # 3x3 window, padding 1, one input row per token: the kernel keeps a ring of 3 rows and reads one row
    # ahead (row j + 1 at output row j, clipped at the last row)
    assert "float x_buf[1][4][3][16];  // operand 0: x" in source
    assert "static const int x_buf_need0[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15};" in source
    assert "x_buf[0][e1][(t0) % 3][e3] = x_buf_tok[e1 * 16 + e3];" in source
    # relu streams one row per token, the 2x2 pool two rows per token: the itensor converter shares no loop
    # (trip counts 16 vs 8), so its ping-pong blocks hold the whole 1x8x16x16 tensor
    assert "typedef float r__cvt_buffers_pool_t[1][8][16][16];" in source
    assert (
        'hls::stream_of_blocks<r__cvt_buffers_pool_t, 2> r__cvt_buffers_pool CSIM_NAME("r__cvt_buffers_pool");'
        in source
    )
