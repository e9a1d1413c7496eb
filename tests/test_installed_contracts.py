"""Every implementation the installed distributions register satisfies its kind's protocol."""

from __future__ import annotations

from stream_core import protocols
from stream_core.testing import make_plugins

PROTOCOL_OF_KIND = {
    "core_types": protocols.CoreType,
    "cost_models": protocols.CostModel,
    "workload_parsers": protocols.WorkloadParser,
    "frontends": protocols.Frontend,
    "mappers": protocols.Mapper,
    "allocators": protocols.Allocator,
    "solvers": protocols.Solver,
    "exporters": protocols.Exporter,
    "code_generators": protocols.CodeGenerator,
    "commands": protocols.Command,
}


def test_installed_implementations_satisfy_their_protocols():
    plugins = make_plugins()
    wrong = [
        f"{kind} {plugins.origin(kind, record.name)}"
        for kind, protocol in PROTOCOL_OF_KIND.items()
        for record in plugins.registry(kind)
        if not isinstance(record.load(), protocol)
    ]
    assert wrong == []
    zigzag = plugins.load("cost_models", "zigzag")
    assert isinstance(zigzag, protocols.CacheableCostModel)
