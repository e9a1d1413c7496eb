"""stream-tetra: the TETRA steady-state MILP allocator and the fused auto-mapper for stream-core."""

__version__ = "0.1.0"
