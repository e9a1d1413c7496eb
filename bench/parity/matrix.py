"""The hardware x workload pairs compared, from the example inputs of each Stream release.

A *set* is a folder holding ``stream/inputs/`` (the side environment's site-packages for 2.1.1, the
unpacked 1.13.14 wheel); both tools run with that folder as working directory, so references of the
form ``stream/inputs/...`` in the files resolve as in Stream's repository. The workloads and mappings
are always made by 2.1.1's builder scripts (``stream_driver.py make``): the 1.13.14 wheel ships the
same builders and no ONNX files.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

# Stream's testing workloads, paired with every example hardware; Stream's generic mapping generator and
# our default mapper choose the mapping. make_scan.py is left out: it builds an in-memory Workload, no ONNX.
TESTING_WORKLOADS = (
    "2conv",
    "swiglu",
    "attention_head",
    "conv_relu_flatten_gemm",
    "resnet_basic_residual",
    "resnet_stride2_downsample",
    "resnet_frontend",
    "resnet_dual_residual",
)

# Workloads that come with a mapping: (workload, hardware stems it fits, SolveOptions.nb_cols_to_use).
# The mappings name fixed core ids, so each goes only where Stream's own tests run it.
MAPPED_WORKLOADS = (
    ("2conv+map", "examples", ("tpu_like_quad_core",), None),
    ("aie_gemm_64", "aie", ("single_core", "single_col", "whole_array", "whole_array_strix"), 1),
    ("aie_gemm_128", "aie", ("whole_array", "whole_array_strix"), 2),
    ("aie_gemm_256x8192x2048", "aie", ("whole_array_strix",), 8),
    ("aie_swiglu_256x512x2048", "aie", ("whole_array_strix",), 8),
)


@dataclass(frozen=True)
class Pair:
    """One hardware file of one set and one workload (with its mapping, if it has one)."""

    set: str  # the Stream release the hardware file comes from
    group: str  # "examples" or "aie"
    hardware: str  # file stem
    workload: str  # builder name in stream_driver.BUILDERS
    nb_cols: int | None = None  # Stream's SolveOptions.nb_cols_to_use, AIE only

    @property
    def id(self) -> str:
        return f"{self.set}/{self.group}/{self.hardware}/{self.workload}"

    def hardware_file(self, root: Path) -> Path:
        return root / "stream" / "inputs" / self.group / "hardware" / f"{self.hardware}.yaml"


def hardware_stems(root: Path, group: str) -> list[str]:
    return sorted(path.stem for path in (root / "stream" / "inputs" / group / "hardware").glob("*.yaml"))


def pairs_of_set(name: str, root: Path) -> list[Pair]:
    """Every pair of one set, testing workloads first, in a stable order."""
    examples = hardware_stems(root, "examples")
    pairs = [Pair(name, "examples", hw, wl) for hw in examples for wl in TESTING_WORKLOADS]
    available = {"examples": set(examples), "aie": set(hardware_stems(root, "aie"))}
    for workload, group, stems, nb_cols in MAPPED_WORKLOADS:
        pairs += [Pair(name, group, hw, workload, nb_cols) for hw in stems if hw in available[group]]
    return pairs


def select(pairs: list[Pair], patterns: list[str]) -> list[Pair]:
    """Pairs whose id matches any pattern: a glob when it has ``*?[``, else a substring."""
    if not patterns:
        return pairs

    def matches(pair: Pair, pattern: str) -> bool:
        if any(char in pattern for char in "*?["):
            return fnmatch.fnmatchcase(pair.id, pattern)
        return pattern in pair.id

    return [pair for pair in pairs if any(matches(pair, pattern) for pattern in patterns)]
