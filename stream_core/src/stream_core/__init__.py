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

from typing import TYPE_CHECKING, Any

#: Public name -> the module defining it, imported on first use (``import stream_core`` stays light).
_EXPORTS = {
    "RunContext": "stream_core.context",
    "RunOptions": "stream_core.context",
    "cost_tiles": "stream_core.costing",
    "InfeasibleError": "stream_core.errors",
    "InputError": "stream_core.errors",
    "PluginError": "stream_core.errors",
    "Problem": "stream_core.errors",
    "StreamError": "stream_core.errors",
    "HOOK_API_VERSION": "stream_core.hookspecs",
    "hookimpl": "stream_core.hookspecs",
    "hookspec": "stream_core.hookspecs",
    "AllocationProblem": "stream_core.ir.problem",
    "RunOutcome": "stream_core.pipeline",
    "compile": "stream_core.pipeline",
    "load_workload": "stream_core.pipeline",
    "parse_workload": "stream_core.pipeline",
    "resolve_target": "stream_core.pipeline",
    "run": "stream_core.pipeline",
    "Plugins": "stream_core.plugins",
    "load_plugins": "stream_core.plugins",
}

if TYPE_CHECKING:
    from stream_core.context import RunContext, RunOptions
    from stream_core.costing import cost_tiles
    from stream_core.errors import InfeasibleError, InputError, PluginError, Problem, StreamError
    from stream_core.hookspecs import HOOK_API_VERSION, hookimpl, hookspec
    from stream_core.ir.problem import AllocationProblem
    from stream_core.pipeline import RunOutcome, compile, load_workload, parse_workload, resolve_target, run
    from stream_core.plugins import Plugins, load_plugins


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'stream_core' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


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
    "load_workload",
    "parse_workload",
    "resolve_target",
    "run",
]
