"""The platform as a stream-itensor target: fusion budget, the compute of one dataflow kernel, the SLR
group check and the emitted kernels' timing. ``stream compile`` and ``stream fifo-size --target u55c``
(through the registered view, :func:`itensor_view`) plan with the same target, hence the same design."""

from __future__ import annotations

from pathlib import Path

import attrs
from stream_itensor.api import Target, kernel_target

from stream_core.context import RunContext
from stream_fpga_u55c.performance import design_timing
from stream_fpga_u55c.platform import Platform, load_platform
from stream_fpga_u55c.resources import slr_check

BACKEND = "u55c-hls"
DEFAULT_UNROLL = 16


def itensor_target(platform: Platform, lanes: int, budget_bytes: int | None = None) -> Target:
    """Budget: the BRAM36 + URAM bytes of the smallest SLR (or ``budget_bytes``), since a fused group is one
    kernel placed in one SLR; every kernel does ``lanes`` MACs or operations per cycle and moves one HBM word
    (``axi_data_bits``) per cycle (the search's cost model); converters likewise. Fusion also checks the
    group's BRAM36/URAM/DSPs against one SLR (:func:`~stream_fpga_u55c.resources.slr_check`), and the FIFO
    LP times kernels as the emitted code runs (:func:`~stream_fpga_u55c.performance.design_timing`)."""
    budget = platform.group_budget_bytes if budget_bytes is None else budget_bytes
    target = kernel_target(platform.name, budget, lanes, lanes, platform.axi_data_bits, platform.axi_data_bits)
    return attrs.evolve(target, group_check=slr_check(platform, lanes), timing=design_timing(platform, lanes))


def itensor_view(file: Path, context: RunContext) -> Target:
    """The target ``stream compile`` plans with for the platform ``file`` at the default unroll."""
    return itensor_target(load_platform(file), DEFAULT_UNROLL)
