"""stream-core hook implementations of stream-fpga-u55c (lazy: listing plugins imports nothing heavy)."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from stream_itensor.hookspecs import ITensorTargetRecord

from stream_core.hookspecs import hookimpl
from stream_core.plugins import lazy
from stream_core.records import CodeGeneratorRecord, SettingRecord, TargetRecord


def _platform_file() -> Path:
    return Path(str(resources.files("stream_fpga_u55c") / "data" / "u55c.yaml"))


@hookimpl
def stream_register_targets() -> Iterator[TargetRecord]:
    yield TargetRecord(
        name="u55c",
        description="AMD Alveo U55C (HBM2 32 x 512 MB, 3 SLRs); its platform file carries the itensor view",
        factory=_platform_file,
        code_generator="u55c-hls",
    )


@hookimpl
def stream_register_code_generators() -> Iterator[CodeGeneratorRecord]:
    yield CodeGeneratorRecord(
        name="u55c-hls",
        description="Vitis HLS dataflow project (kernels, link config, XRT host, csim) for the AMD Alveo U55C",
        factory=lazy("stream_fpga_u55c.backend", "U55cHlsBackend"),
    )


@hookimpl
def stream_register_itensor_targets() -> Iterator[ITensorTargetRecord]:
    """``stream fifo-size --target u55c`` plans as ``stream compile`` does (timing and SLR group check)."""
    yield ITensorTargetRecord(
        name="u55c-hls",
        description="the U55C as stream compile plans it: emitted kernels' cycles, BRAM36/URAM/DSP per SLR",
        factory=lazy("stream_fpga_u55c.target", "itensor_view"),
    )


@hookimpl
def stream_register_settings() -> Iterator[SettingRecord]:
    """Options of the ``u55c-hls`` code generator."""
    yield SettingRecord(name="u55c.tiles", description="tile sizes, a list of [NODE:]LOOP=SIZE")
    yield SettingRecord(name="u55c.unroll", description="lanes per kernel", default="16")
    yield SettingRecord(
        name="u55c.budget_bytes", description="fusion memory budget (default: the smallest SLR's BRAM + URAM bytes)"
    )
