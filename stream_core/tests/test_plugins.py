"""Plugin registries: discovery, provenance, duplicate/unknown/broken plugins, disabling."""

from __future__ import annotations

import importlib.metadata
import logging

import pytest
from stream_example_plugin import plugin as toy_plugin

from stream_core import hookimpl
from stream_core.errors import PluginConflictError, PluginLoadError, UnknownPluginError
from stream_core.plugins import DISABLE_ENV, Plugins
from stream_core.records import AllocatorRecord, CostModelRecord
from stream_core.testing import make_plugins


class _DuplicateCostModel:
    @hookimpl
    def stream_register_cost_models(self):
        yield CostModelRecord(name="Toy-Cost ", description="clash", factory=lambda: None)


def test_builtins_register_through_the_hooks():
    plugins = make_plugins(entry_points=False)
    assert plugins.registry("cost_models").names() == ["roofline"]
    assert plugins.registry("allocators").default().name == "greedy"
    assert plugins.provided_by("stream-core")["exporters"] == ["gantt", "perfetto", "summary"]


def test_in_process_registration_and_provenance():
    plugins = make_plugins(("toy-plugin", toy_plugin), entry_points=False)
    assert plugins.registry("core_types").names() == ["toy"]
    assert plugins.origin("cost_models", "toy-cost") == "toy-cost (toy-plugin 0)"
    plugins.unregister("toy-plugin")
    assert "toy" not in plugins.registry("core_types")


def test_duplicate_name_from_two_distributions_names_both():
    plugins = make_plugins(entry_points=False)
    plugins.register(toy_plugin, name="toy-plugin", distribution="stream-example-plugin", version="0.1.0")
    plugins.register(_DuplicateCostModel(), name="other", distribution="acme-costs", version="2.0")
    with pytest.raises(PluginConflictError) as info:
        plugins.get("cost_models", "toy-cost")
    assert "stream-example-plugin 0.1.0" in str(info.value) and "acme-costs 2.0" in str(info.value)
    assert plugins.registry("cost_models").conflicts() == {
        "toy-cost": ["acme-costs 2.0", "stream-example-plugin 0.1.0"]
    }
    # the other names of that kind stay usable
    assert plugins.get("cost_models", "roofline").name == "roofline"


def test_unknown_name_lists_available_and_suggests():
    plugins = make_plugins(("toy-plugin", toy_plugin), entry_points=False)
    with pytest.raises(UnknownPluginError) as info:
        plugins.get("cost_models", "toy-cots")
    text = str(info.value)
    assert "unknown cost model 'toy-cots'" in text
    assert "did you mean 'toy-cost'?" in text
    assert "Available: roofline, toy-cost." in text


def _fake_entry_points(monkeypatch, *eps):
    real = importlib.metadata.entry_points

    def fake(**kwargs):
        if kwargs.get("group") == "stream_core.plugins":
            return list(eps)
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)


def test_broken_plugin_is_skipped_with_a_warning(monkeypatch, caplog):
    broken = importlib.metadata.EntryPoint("broken-plugin", "no_such_module_xyz.plugin", "stream_core.plugins")
    _fake_entry_points(monkeypatch, broken)
    with caplog.at_level(logging.WARNING, logger="stream_core.plugins"):
        plugins = Plugins.discover(disabled=())
    assert "broken-plugin" in caplog.text and "No module named 'no_such_module_xyz'" in caplog.text
    [info] = plugins.failed()
    assert info.status == "failed" and "ModuleNotFoundError" in info.error
    # an unknown name now mentions the failed plugin
    with pytest.raises(UnknownPluginError, match="failed to load may provide it: broken-plugin"):
        plugins.get("allocators", "tetra")


def test_strict_mode_turns_a_broken_plugin_into_an_error(monkeypatch):
    broken = importlib.metadata.EntryPoint("broken-plugin", "no_such_module_xyz.plugin", "stream_core.plugins")
    _fake_entry_points(monkeypatch, broken)
    with pytest.raises(PluginLoadError, match=r"plugin 'broken-plugin'.*failed to load"):
        Plugins.discover(strict=True, disabled=())


def test_plugins_disabled_by_environment(monkeypatch):
    good = importlib.metadata.EntryPoint("toy", "stream_example_plugin.plugin", "stream_core.plugins")
    _fake_entry_points(monkeypatch, good)
    monkeypatch.setenv(DISABLE_ENV, "toy, something-else")
    plugins = Plugins.discover()
    assert [i.status for i in plugins.infos() if i.name == "toy"] == ["disabled"]
    assert "toy" not in plugins.registry("core_types")
    monkeypatch.setenv(DISABLE_ENV, "")
    assert "toy" in Plugins.discover().registry("core_types")


def test_default_is_highest_priority_then_name():
    class Better:
        @hookimpl
        def stream_register_allocators(self):
            yield AllocatorRecord(name="zeta", factory=lambda: None, priority=5)
            yield AllocatorRecord(name="alpha", factory=lambda: None, priority=5)

    plugins = make_plugins(("better", Better()), entry_points=False)
    assert plugins.registry("allocators").default().name == "alpha"


def test_wrong_record_type_is_reported():
    class Wrong:
        @hookimpl
        def stream_register_allocators(self):
            yield CostModelRecord(name="x", factory=lambda: None)

    plugins = make_plugins(("wrong", Wrong()), entry_points=False)
    with pytest.raises(PluginLoadError, match="returned CostModelRecord from stream_register_allocators"):
        plugins.registry("allocators")
