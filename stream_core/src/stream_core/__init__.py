"""stream-core: map neural-network workloads onto heterogeneous dataflow accelerators.

Public API::

    import stream_core
    outcome = stream_core.run("model.onnx", "accelerator.yaml", output="out/")
    print(outcome.result.totals.latency)
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stream-core")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

from stream_core.context import RunContext, RunOptions
from stream_core.costing import cost_tiles
from stream_core.errors import InfeasibleError, InputError, PluginError, Problem, StreamError
from stream_core.hookspecs import HOOK_API_VERSION, hookimpl, hookspec
from stream_core.ir.problem import AllocationProblem
from stream_core.pipeline import RunOutcome, compile, parse_workload, resolve_target, run
from stream_core.plugins import Plugins, load_plugins

__all__ = [
    "HOOK_API_VERSION",
    "AllocationProblem",
    "InfeasibleError",
    "InputError",
    "PluginError",
    "Plugins",
    "Problem",
    "RunContext",
    "RunOptions",
    "RunOutcome",
    "StreamError",
    "__version__",
    "compile",
    "cost_tiles",
    "hookimpl",
    "hookspec",
    "load_plugins",
    "parse_workload",
    "resolve_target",
    "run",
]
