"""The ``stream aie-examples [DIR]`` command: list the bundled AIE hardware files and, given a
directory, write the example workloads with a mapping per (workload, hardware)."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from stream_core.context import RunContext
from stream_cores_aie import HARDWARE, hardware_file, workloads


def write_examples(directory: Path, tile: int = 64) -> list[Path]:
    """Write ``gemm_<M>x<K>x<N>.onnx`` (big and small), ``swiglu_<S>x<E>x<H>.onnx`` and their
    mappings ``<workload>.<hardware>.mapping.yaml``; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for m, k, n in (workloads.GEMM_BIG, workloads.GEMM_SMALL):
        stem = f"gemm_{m}x{k}x{n}"
        written.append(workloads.gemm(directory / f"{stem}.onnx", m, k, n))
        for hw in HARDWARE:
            written.append(
                _dump(directory / f"{stem}.{hw}.mapping.yaml", workloads.gemm_mapping(hw, min(tile, m, k, n)))
            )
    seq, width, hidden = workloads.SWIGLU_SMALL
    stem = f"swiglu_{seq}x{width}x{hidden}"
    written.append(workloads.swiglu(directory / f"{stem}.onnx", seq, width, hidden))
    for hw in HARDWARE:
        written.append(_dump(directory / f"{stem}.{hw}.mapping.yaml", workloads.swiglu_mapping(hw, min(tile, 32))))
    return written


def _dump(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class ExamplesCommand:
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("directory", nargs="?", help="write the example workloads and mappings here")
        parser.add_argument("--tile", type=int, default=64, help="GEMM tile size (M, K, N) of the mappings")

    def run(self, args: argparse.Namespace, context: RunContext) -> int:
        for name in HARDWARE:
            print(f"{name:<18} {hardware_file(name)}")
        if args.directory:
            for path in write_examples(Path(args.directory), args.tile):
                print(path)
        return 0
