"""The side environment with stream-dse 2.1.1, and the 1.13.14 example inputs fetched into the work folder.

Stream is only ever run as a separate program (its venv's Python); nothing here imports it.
"""

from __future__ import annotations

import glob
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

STREAM_VERSION = "2.1.1"
OLD_STREAM_VERSION = "1.13.14"
PACKAGES = (f"stream-dse=={STREAM_VERSION}", "six")

_VERSIONS = """
import importlib.metadata as m, importlib.util as u, json, os
spec = u.find_spec("stream")
print(json.dumps({
    "python": ".".join(map(str, __import__("sys").version_info[:3])),
    "stream-dse": m.version("stream-dse") if spec else None,
    "zigzag-dse": m.version("zigzag-dse") if spec else None,
    "root": os.path.dirname(os.path.dirname(spec.origin)) if spec else None,
}))
"""


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def environment_facts(python: Path) -> dict:
    """Python, stream-dse and zigzag-dse versions of an environment, and the folder holding its ``stream``."""
    out = subprocess.run([str(python), "-c", _VERSIONS], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def pyenv_python312() -> Path:
    """The newest ``~/.pyenv/versions/3.12.*`` interpreter."""
    found = glob.glob(str(Path.home() / ".pyenv/versions/3.12.*/bin/python"))
    if not found:
        raise SystemExit("no Python 3.12 under ~/.pyenv/versions; pass --python312 PATH")
    return Path(max(found, key=lambda p: tuple(int(x) for x in re.findall(r"\d+", Path(p).parts[-3]))))


def ensure_stream_venv(venv: Path, python312: Path | None) -> dict:
    """Reuse ``venv`` when it has stream-dse 2.1.1, else create it and install stream-dse 2.1.1 and six."""
    python = python_of(venv)
    if python.exists():
        facts = environment_facts(python)
        if facts["stream-dse"] == STREAM_VERSION:
            return facts
        _say(f"{venv}: stream-dse {facts['stream-dse']} found; installing {STREAM_VERSION}")
    else:
        interpreter = python312 or pyenv_python312()
        _say(f"creating {venv} from {interpreter}")
        subprocess.run([str(interpreter), "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PACKAGES], check=True)
    return environment_facts(python)


def ensure_old_inputs(python: Path, work: Path) -> tuple[Path | None, str]:
    """The folder holding 1.13.14's ``stream/inputs`` (downloaded once with pip, then reused), or None and why."""
    root = work / f"stream-dse-{OLD_STREAM_VERSION}"
    if (root / "stream" / "inputs").is_dir():
        return root, "cached"
    downloads = work / "downloads"
    command = [str(python), "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:"]
    command += ["-d", str(downloads), f"stream-dse=={OLD_STREAM_VERSION}"]
    done = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(downloads.glob(f"stream_dse-{OLD_STREAM_VERSION}-*.whl"))
    if done.returncode or not wheels:
        return None, (done.stderr.strip().splitlines() or ["pip download failed"])[-1]
    with zipfile.ZipFile(wheels[0]) as wheel:
        members = [name for name in wheel.namelist() if name.startswith("stream/inputs/")]
        if not members:
            return None, f"{wheels[0].name} ships no stream/inputs"
        wheel.extractall(root, members)
    return root, f"unpacked {wheels[0].name}"
