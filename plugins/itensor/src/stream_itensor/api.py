"""Public API of stream-itensor (stable; backends such as the U55C HLS generator build on it).

Typical use::

    from stream_itensor.api import plan_streams, KernelTiling
    plan = plan_streams(workload, context, target=target, tilings={"conv1": KernelTiling({"oy": 1})})
    for group in plan.fusion.groups:                  # one dataflow region per group
        for edge in plan.fusion.intra_edges(group.name):
            edge.source, edge.target, edge.converter  # itensor types, converter (buffer_shape, ...)
        plan.sizing(group.name).fifos                 # FifoDepth: channel, depth, token_bits, ...

Pieces:

* types: :class:`ITensorType` (:func:`parse_itensor`), :class:`AffineMap`, :class:`AffineResult`;
* typing a workload: :class:`KernelTiling`, :func:`build_stream_graph` -> :class:`StreamGraph` of
  :class:`StreamKernel` (ports: :class:`Port`) and :class:`StreamEdge` (built by :func:`connect`, with an
  optional :class:`Converter`);
* converters: :func:`infer_converter`, :class:`NotCastableError`;
* fusion: :func:`fuse` -> :class:`FusionPlan` of :class:`FusionGroup`; :func:`budget_bits`;
* targets and timing: :class:`Target` (a backend's :data:`Timing` and group check ride on it),
  :func:`load_target`, :func:`kernel_target`, :class:`KernelProfile`, :func:`profiles_from_cost_model`;
  :class:`ITensorTargetRecord` registers a code generator's view of its targets (``stream fifo-size``);
* token model: :func:`build_dataflow` -> :class:`DataflowGraph` (:class:`Actor`, :class:`Channel`),
  :func:`token_curves` -> :class:`TokenCurves`;
* sizing: :func:`size_fifos` -> :class:`GroupSizing` (:class:`FifoDepth`, :class:`ConverterBuffers`);
* checking: :func:`simulate` -> :class:`SimResult`; :func:`search_min_depths`;
* everything at once: :func:`plan_streams` -> :class:`StreamPlan`;
* parsing for a streaming flow: :func:`streaming_context` (layout ops stay nodes).
"""

from stream_itensor.affine import AffineMap, AffineResult
from stream_itensor.converter import Converter, NotCastableError, infer_converter
from stream_itensor.curves import TokenCurves, paced_period, token_curves
from stream_itensor.dataflow import Actor, Channel, DataflowGraph, build_dataflow, reconvergent_channels
from stream_itensor.derive import Port
from stream_itensor.fusion import FusionGroup, FusionPlan, GroupCheck, budget_bits, fuse
from stream_itensor.graph import StreamEdge, StreamGraph, StreamKernel, build_stream_graph, connect
from stream_itensor.hookspecs import ITensorTargetRecord, TargetView
from stream_itensor.itype import MLIR_NAMES, ITensorType, dtype_from_name, parse_itensor
from stream_itensor.lp import PING_PONG, ConverterBuffers, FifoDepth, GroupSizing, size_fifos
from stream_itensor.parsing import KEEP_LAYOUT_NODES, streaming_context
from stream_itensor.plan import StreamPlan, plan_streams
from stream_itensor.profiles import KernelProfile, profiles_from_cost_model
from stream_itensor.search import SearchResult, search_min_depths
from stream_itensor.simulate import Blocked, SimResult, simulate
from stream_itensor.target import DEFAULT_TARGET, Target, Timing, kernel_target, load_target
from stream_itensor.tiling import IterLoop, KernelTiling, tilings_from_mapping

__all__ = [
    "DEFAULT_TARGET",
    "KEEP_LAYOUT_NODES",
    "MLIR_NAMES",
    "PING_PONG",
    "Actor",
    "AffineMap",
    "AffineResult",
    "Blocked",
    "Channel",
    "Converter",
    "ConverterBuffers",
    "DataflowGraph",
    "FifoDepth",
    "FusionGroup",
    "FusionPlan",
    "GroupCheck",
    "GroupSizing",
    "ITensorTargetRecord",
    "ITensorType",
    "IterLoop",
    "KernelProfile",
    "KernelTiling",
    "NotCastableError",
    "Port",
    "SearchResult",
    "SimResult",
    "StreamEdge",
    "StreamGraph",
    "StreamKernel",
    "StreamPlan",
    "Target",
    "TargetView",
    "Timing",
    "TokenCurves",
    "budget_bits",
    "build_dataflow",
    "build_stream_graph",
    "connect",
    "dtype_from_name",
    "fuse",
    "infer_converter",
    "kernel_target",
    "load_target",
    "paced_period",
    "parse_itensor",
    "plan_streams",
    "profiles_from_cost_model",
    "reconvergent_channels",
    "search_min_depths",
    "simulate",
    "size_fifos",
    "streaming_context",
    "tilings_from_mapping",
    "token_curves",
]
