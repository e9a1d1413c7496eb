"""The parity bench's headline (``bench/parity/report.py``): what issues 13 and 16 count, over the pairs
both tools accept."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "parity_report", Path(__file__).parents[1] / "bench" / "parity" / "report.py"
)
assert _spec is not None and _spec.loader is not None
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)


def _row(name: str, stream: dict | None, ours: dict | None) -> dict:
    return {"id": name, "stream": stream, "ours": ours}


def _side(latency: float, energy: float | None, cold: float, warm: float, **nodes: int) -> dict:
    return {
        "accepted": True,
        "latency_cycles": latency,
        "energy_pj": energy,
        "cold_s": cold,
        "warm_s": warm,
        "costed_nodes": nodes,
    }


def test_headline_counts_and_means_by_hand():
    """Three pairs both accept, one only Stream. Latency ratios 0.5, 1.0, 0.8: all at most Stream's,
    geometric mean (0.4)^(1/3) = 0.737. Energy: 15,965,035.6 against 15,965,035.599999998 (the same sum
    in another order) counts as at most Stream's; 1.04 is within 5 %; a pair without Stream's energy is
    left out: 1 of 2 at most, 2 within 5 %, geometric mean sqrt(1.04) = 1.020; as Stream counts it, only
    b says (99 pJ): 1 of 1, 0.990. Cold ratios 2.0, 0.5,
    0.25: one slower, mean (0.25)^(1/3) = 0.630. Warm 0.3, 0.6, 0.4 s: median 0.40, one over 0.5 s."""
    rows = [
        _row("a", _side(100, 15_965_035.599999998, 10, 1), _side(50, 15_965_035.6, 20, 0.3, zigzag=2)),
        _row(
            "b",
            _side(100, 100.0, 10, 1),
            {**_side(100, 104.0, 5, 0.6, zigzag=1, roofline=1), "energy_stream_comparable_pj": 99.0},
        ),
        _row("c", _side(100, None, 8, 1), _side(80, 3.0, 2, 0.4, zigzag=3)),
        _row("d", _side(100, 1.0, 1, 1), {"accepted": False, "error": "refused"}),
    ]
    lines = report.headline(rows)
    assert lines[0] == "pairs: 4; Stream accepts 4, ours 3, both 3"
    assert lines[1] == (
        f"latency ours/Stream: at most Stream's on 3 of 3, within 5 % on 3, geometric mean {0.4 ** (1 / 3):.3f}"
    )
    assert lines[2] == (
        f"energy ours/Stream: at most Stream's on 1 of 2, within 5 % on 2, geometric mean {math.sqrt(1.04):.3f}"
    )
    assert lines[3] == (  # pair a has no comparable figure; b's is 99 of Stream's 100
        "energy as Stream counts it ours/Stream: at most Stream's on 1 of 1, within 5 % on 1, geometric mean 0.990"
    )
    assert lines[4] == f"cold ours/Stream: geometric mean {0.25 ** (1 / 3):.3f}, slower than Stream on 1"
    assert lines[5] == "warm rerun (ours): median 0.40 s, over 0.5 s on 1, slowest 0.60 s"
    assert lines[6] == "roofline nodes (ours): 1 of 7"
