"""stream-cores-aie: AMD AIE-ML / AIE2 core types, a native AIE cost model, TETRA constraints and NPU
hardware files for stream-core (reached only through stream-core's entry points and public IR)."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"
#: Version of the ``aie`` cost formulas, part of its cache token: bump it when a formula changes.
MODEL_VERSION = "3"

HARDWARE_DIR = Path(__file__).resolve().parent / "hardware"

#: The bundled accelerator files (Stream's format), by name.
HARDWARE = ("single_tile", "single_col", "whole_array", "whole_array_strix")


def hardware_file(name: str) -> Path:
    """Path of a bundled accelerator file: ``single_tile``, ``single_col``, ``whole_array`` (Phoenix)
    or ``whole_array_strix``."""
    if name not in HARDWARE:
        raise KeyError(f"unknown AIE hardware {name!r}; bundled: {', '.join(HARDWARE)}")
    return HARDWARE_DIR / f"{name}.yaml"
