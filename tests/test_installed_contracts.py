"""Every implementation the installed distributions register satisfies its kind's protocol."""

from __future__ import annotations

from stream_core import protocols
from stream_core.protocols import PROTOCOL_OF_KIND
from stream_core.testing import make_plugins


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
