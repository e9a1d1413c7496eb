"""Start-up imports only what the chosen command uses (issue 16)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Heavy packages no listing or help command needs.
HEAVY = {"ortools", "highspy", "matplotlib", "onnx", "zigzag", "numpy", "torch", "PIL", "networkx", "rich"}

PROBE = """
import contextlib, io, json, sys
from stream_core.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps({"out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _probe(*argv: str) -> tuple[str, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    data = json.loads(done.stdout.splitlines()[-1])
    return data["out"], set(data["modules"])


def test_version_loads_no_plugin():
    out, modules = _probe("--version")
    assert out.startswith("stream-core ")
    assert "stream_core.plugins" not in modules and "stream_core.pipeline" not in modules


@pytest.mark.parametrize("argv", [("plugins",), ("--help",), ("run", "--help")])
def test_listing_and_help_import_no_heavy_package(argv):
    out, modules = _probe(*argv)
    assert out
    assert not {m.split(".")[0] for m in modules} & HEAVY
    assert "stream_core.pipeline" not in modules
