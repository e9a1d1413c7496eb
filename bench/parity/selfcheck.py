"""Self-check of the bench's pure helpers (not collected by pytest): ``python bench/parity/selfcheck.py``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from matrix import pairs_of_set, select
from report import nodes, ratio, text_table
from sides import first_error_line


def check() -> None:
    assert ratio(12_733, 15_340) == 12_733 / 15_340
    assert ratio(5.0, 0.0) is None and ratio(None, 3.0) is None
    assert nodes({"zigzag": 2, "roofline": 1}) == "roofline:1 zigzag:2"
    assert nodes({}) == "n/a"
    assert first_error_line("loading\nerror: a.onnx: bad\nmore\n") == "error: a.onnx: bad"
    assert first_error_line("Traceback (most recent call last):\n  x\nKeyError: 'D9'\n") == "KeyError: 'D9'"

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for group, stem in (("examples", "tpu_like_quad_core"), ("examples", "simba"), ("aie", "single_core")):
            folder = root / "stream" / "inputs" / group / "hardware"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{stem}.yaml").write_text("name: x\n")
        pairs = pairs_of_set("2.1.1", root)
        ids = {pair.id for pair in pairs}
        # 2 example hardware x 8 testing workloads, 2conv+map on the TPU, one AIE gemm on single_core.
        assert len(pairs) == 2 * 8 + 1 + 1, len(pairs)
        assert "2.1.1/examples/tpu_like_quad_core/2conv+map" in ids
        assert "2.1.1/aie/single_core/aie_gemm_64" in ids
        assert pairs[0].hardware_file(root).exists()
        assert [p.id for p in select(pairs, ["simba/2conv"])] == ["2.1.1/examples/simba/2conv"]
        assert len(select(pairs, ["*/resnet_*"])) == 2 * 4

    row = {
        "id": "2.1.1/examples/x/2conv",
        "set": "2.1.1",
        "hardware": "x",
        "workload": "2conv",
        "stream": {"accepted": True, "latency_cycles": 100.0, "cold_s": 2.0, "costed_nodes": {"zigzag": 2}},
        "ours": {"accepted": False, "error": "error: x.yaml: cores.0: bad", "cold_s": 1.0},
    }
    table = text_table([row])
    lines = table.splitlines()
    assert len({len(line) for line in lines[:3]}) == 1, "header, rule and row have one width"
    assert "no[1]" in lines[2] and "[1] 2.1.1/examples/x/2conv ours: error: x.yaml: cores.0: bad" in table
    print("parity bench self-check: ok")


if __name__ == "__main__":
    check()
