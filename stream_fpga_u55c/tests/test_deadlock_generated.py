"""A too-small FIFO depth in a generated design is caught by the C simulation, naming the stream.

Model ``transpose_skip`` (16 row tokens of 32 floats = 2 items of 16 floats each): the join needs the first
row of the path through two full-tensor transposes, which exists only once relu produced all 16 rows, while
the join already holds row 0. relu writes each row to the transpose path before the direct path, so row 15
reaches the transposes while rows 1..14 wait in the direct FIFO relu -> join: it needs 14 tokens (analytic;
§7.2's src writes the direct path first and needs N - 1 = 15). 13 tokens deadlock, 14 pass with the FIFO full.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import attrs
import pytest
from stream_fpga_u55c.compile import CompileOptions, compile_workload
from stream_fpga_u55c.performance import predict

from stream_core.errors import InfeasibleError
from stream_core.outputs import write_files
from stream_fpga_u55c import examples

STREAM = "r__relu_to_join"
FAST = ["-std=c++17", "-Wall", "-Werror", "-Wno-unknown-pragmas", "-O0", "-pthread", "-DSTREAM_CSIM"]


def with_depth(source: str, items: int) -> str:
    source, n = re.subn(rf"hls::stream<tile<16>, \d+> {STREAM}\(", f"hls::stream<tile<16>, {items}> {STREAM}(", source)
    assert n == 1
    return re.sub(rf"stream variable={STREAM} depth=\d+", f"stream variable={STREAM} depth={items}", source)


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory, context: Any, csim_builder: Any) -> dict[str | int, Any]:
    root = tmp_path_factory.mktemp("skip")
    compiled = compile_workload(
        examples.transpose_skip(root / "skip.onnx"),
        context,
        CompileOptions(tiles=("D=1", "K=4096")),  # rows
    )
    base = root / "lp"
    write_files(base, compiled.files)
    source = (base / "src" / "group0.cpp").read_text()
    processes = []
    out: dict[str | int, Any] = {"compiled": compiled, "base": base}  # and per token count its binary
    for tokens in (13, 14):
        directory = root / f"t{tokens}"
        write_files(directory, compiled.files)
        (directory / "src" / "group0.cpp").write_text(with_depth(source, 2 * tokens))
        out[tokens] = root / f"t{tokens}.csim"
        processes.append(csim_builder(directory, out[tokens], FAST))
    out["lp_binary"] = root / "lp.csim"
    processes.append(csim_builder(base, out["lp_binary"], FAST))
    for p in processes:
        _, err = p.communicate()
        assert p.returncode == 0, err
    return out


def simulate(binary: Path, project: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    result = subprocess.run([str(binary), str(project / "data"), str(out)], capture_output=True, text=True, timeout=60)
    rows = (out / "streams.csv").read_text().splitlines()
    row = next(r for r in rows if r.startswith(STREAM + ","))
    return result, dict(zip(rows[0].split(","), row.split(","), strict=True))


def test_lp_depth_passes(variants: dict[str | int, Any], tmp_path: Path) -> None:
    sizings = variants["compiled"].plan.sizings
    fifo = next(f for s in sizings for f in s.fifos if f.producer == "relu" and f.consumer == "join")
    assert fifo.tokens == 16 and fifo.depth >= 14  # the LP gives at least the analytic need
    source = (variants["base"] / "src" / "group0.cpp").read_text()
    assert f'hls::stream<tile<16>, 32> {STREAM}("{STREAM}");' in source  # 16 tokens (capped) x 2 items
    result, row = simulate(variants["lp_binary"], variants["base"], tmp_path)
    assert result.returncode == 0, result.stderr
    # rows 1..14 always wait together; rows 15 and 16 join them unless the join thread was faster than
    # relu's last writes (on a loaded machine it can lag until the FIFO is full, 32 items, and still pass)
    assert row["max_occupancy"] in ("28", "30", "32")


def test_depth_13_tokens_deadlocks_naming_the_stream(variants: dict[str | int, Any], tmp_path: Path) -> None:
    reports = set()
    for _ in range(3):
        result, _ = simulate(variants[13], variants["base"], tmp_path)
        assert result.returncode == 3
        reports.add(result.stderr)
    assert len(reports) == 1  # deterministic
    report = reports.pop()
    assert "DEADLOCK in dataflow region 'group0'" in report
    assert f"task k_relu blocked writing stream '{STREAM}' (FULL, 26/26)" in report
    assert "task k_join blocked reading stream 't2__transpose2_to_join' (EMPTY, 0/2)" in report


def test_depth_14_tokens_passes_with_the_fifo_full(variants: dict[str | int, Any], tmp_path: Path) -> None:
    for _ in range(3):
        result, row = simulate(variants[14], variants["base"], tmp_path)
        assert result.returncode == 0, result.stderr
        assert row["capacity"] == row["max_occupancy"] == "28"


def test_compile_check_names_the_too_shallow_fifo(variants: dict[str, Any]) -> None:
    """The design above with 13 tokens (the C simulation deadlocks) fails the compile's own model check."""
    design = variants["compiled"].design
    (group,) = design.groups
    streams = tuple(attrs.evolve(s, tokens=13) if s.name == STREAM else s for s in group.streams)
    shallow = attrs.evolve(design, groups=(attrs.evolve(group, streams=streams),))
    with pytest.raises(InfeasibleError, match=f"(?m)FIFO\\(s\\) too shallow: {STREAM}$"):
        predict(shallow)
    assert predict(design).groups[0].latency > 0  # the LP depth passes the same check
