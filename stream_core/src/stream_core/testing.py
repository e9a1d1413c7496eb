"""Test helpers for plugin authors (opt in with ``pytest_plugins = ["stream_core.testing"]``).

The ``stream_plugins`` fixture gives a fresh plugin set (built-ins plus installed plugins) so a test
can register a plugin object in-process, without installing anything::

    def test_my_cost_model(stream_plugins):
        stream_plugins.register(my_plugin_module, name="my-plugin")
        outcome = stream_core.run(model, hardware, plugins=stream_plugins, options=RunOptions(cost_model="mine"))
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stream_core.plugins import Plugins


def make_plugins(*extra: tuple[str, object], entry_points: bool = True) -> Plugins:
    """A new plugin set with the built-ins, the installed plugins (optionally) and ``extra``
    ``(name, plugin object)`` pairs registered in-process."""
    plugins = Plugins.discover(entry_points=entry_points, disabled=())
    for name, plugin in extra:
        plugins.register(plugin, name=name)
    return plugins


@pytest.fixture
def stream_plugins() -> Iterator[Plugins]:
    """A fresh plugin set for one test; register plugin objects with ``.register(obj, name=...)``."""
    yield make_plugins()
