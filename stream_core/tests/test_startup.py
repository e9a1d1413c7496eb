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


END = """
import atexit, sys, threading, time
from stream_core.cli import main
atexit.register(print, "exit handler ran", flush=False)
threading.Thread(target=lambda: (time.sleep(0.2), print("thread done", flush=False))).start()
print("buffered", end=" ")
main()
print("never printed")
"""


@pytest.mark.parametrize(
    ("argv", "code", "said"), [(("--version",), 0, "stream-core "), (("run", "--set", "x", "-q"), 2, "")]
)
def test_the_program_ends_as_python_would_after_its_command(argv, code, said):
    """As the program (no ``argv``), ``main`` ends the process itself: other threads are waited for,
    exit handlers run and buffered output is written; with the command's exit code."""
    done = subprocess.run([sys.executable, "-c", END, *argv], capture_output=True, text=True, check=False)
    assert done.returncode == code
    assert done.stdout.startswith("buffered " + said)
    assert done.stdout.rstrip().endswith("thread done\nexit handler ran")
    assert "never printed" not in done.stdout
