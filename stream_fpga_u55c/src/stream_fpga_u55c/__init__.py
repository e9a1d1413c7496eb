"""stream-fpga-u55c: compile workloads to Vitis HLS dataflow projects for the AMD Alveo U55C."""

__version__ = "0.1.0"
