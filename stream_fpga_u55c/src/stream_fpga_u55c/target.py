"""The platform as a stream-itensor target: fusion budget and the compute of one dataflow kernel."""

from __future__ import annotations

from stream_itensor.api import Target, kernel_target

from stream_fpga_u55c.platform import Platform

BACKEND = "u55c-hls"


def itensor_target(platform: Platform, lanes: int, budget_bytes: int | None = None) -> Target:
    """Budget: the BRAM36 + URAM bytes of the smallest SLR (or ``budget_bytes``), since a fused group is one
    kernel placed in one SLR; every kernel does ``lanes`` MACs or operations per cycle and moves one HBM word
    (``axi_data_bits``) per cycle; converters likewise."""
    budget = platform.group_budget_bytes if budget_bytes is None else budget_bytes
    return kernel_target(platform.name, budget, lanes, lanes, platform.axi_data_bits, platform.axi_data_bits)
