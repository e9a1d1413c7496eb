"""docs/api.md is runnable: its Python blocks run in order in one namespace, and what they compute
agrees with the CLI on the same inputs; every run option is documented."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import attrs

from stream_core import RunOptions

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def blocks(text: str) -> list[tuple[int, str]]:
    """Each Python block with the line its code starts on (so a traceback points into the doc)."""
    return [(text.count("\n", 0, match.start(1)), match.group(1)) for match in BLOCK.finditer(text)]


def cli(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "stream_core.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_api_doc_runs_and_agrees_with_the_cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "api_doc"}
    found = blocks(DOC.read_text())
    assert len(found) >= 8
    for line, code in found:
        exec(compile("\n" * line + code, str(DOC), "exec"), namespace)

    expected = json.loads(cli("run", "--json", "-q", "-o", "cli-run", cwd=tmp_path))
    result = namespace["result"]
    assert result.totals.latency == expected["latency_cycles"]  # type: ignore[attr-defined]
    assert round(result.totals.energy_pj, 6) == expected["energy_pj"]  # type: ignore[attr-defined]

    workload = namespace["workload_file"]
    cli("fifo-size", str(workload), "-o", "cli-fifo.json", cwd=tmp_path)
    sized = json.loads((tmp_path / "cli-fifo.json").read_text())
    assert namespace["plan"].total_fifo_bits == sized["totals"]["fifo_bits"]  # type: ignore[attr-defined]


def test_every_run_option_is_documented():
    text = DOC.read_text()
    missing = [f.name for f in attrs.fields(RunOptions) if f"`{f.name}`" not in text]
    assert missing == []
