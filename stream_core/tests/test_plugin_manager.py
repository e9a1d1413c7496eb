"""The plugin manager's checks: unknown hook names, per-plugin isolation of failures, unknown names in
STREAM_DISABLE_PLUGINS and unknown ``--set`` keys."""

from __future__ import annotations

import importlib.metadata
import logging

import pytest
from stream_example_plugin import plugin as toy_plugin

from stream_core import hookimpl
from stream_core.errors import PluginLoadError, UnknownPluginError
from stream_core.plugins import DISABLE_ENV, Plugins
from stream_core.records import CostModelRecord, SettingRecord
from stream_core.testing import make_plugins


class _Misspelled:
    @hookimpl
    def stream_register_costmodels(self):
        yield CostModelRecord(name="never-seen", factory=lambda: None)


class _Raising:
    @hookimpl
    def stream_register_cost_models(self):
        yield CostModelRecord(name="half", factory=lambda: None)
        raise KeyError("vendor_sdk_path")


class _Exiting:
    @hookimpl
    def stream_register_cost_models(self):
        raise SystemExit(3)


def _status(plugins: Plugins, name: str) -> tuple[str, str | None]:
    [info] = [i for i in plugins.infos() if i.name == name]
    return info.status, info.error


def test_a_misspelled_hook_fails_its_plugin_with_a_did_you_mean(caplog):
    with caplog.at_level(logging.WARNING, logger="stream_core.plugins"):
        plugins = make_plugins(("typo", _Misspelled()), ("toy", toy_plugin), entry_points=False)
    status, error = _status(plugins, "typo")
    assert status == "failed"
    assert error == "unknown hook 'stream_register_costmodels'; did you mean 'stream_register_cost_models'?"
    assert "plugin 'typo' (typo 0) failed to load and was skipped" in caplog.text
    assert not plugins.manager.has_plugin("typo")  # unregistered: none of its hooks run
    assert _status(plugins, "toy") == ("active", None)
    assert plugins.registry("cost_models").names() == ["roofline", "toy-cost"]


def test_an_unknown_core_hook_far_from_any_is_rejected_too():
    class Odd:
        @hookimpl
        def stream_on_startup(self):
            return []

    status, error = _status(make_plugins(("odd", Odd()), entry_points=False), "odd")
    assert status == "failed"
    assert error.startswith("unknown hook 'stream_on_startup'; stream-core's hooks are ")
    assert "stream_register_cost_models" in error


def test_another_plugins_hook_is_dormant_until_that_plugin_declares_it():
    """stream-cores-aie implements stream-tetra's hook; installed without stream-tetra it still works."""

    class Extends:
        @hookimpl
        def tetra_register_constraints(self):
            return []

    plugins = make_plugins(("aie-like", Extends()), entry_points=False)
    assert _status(plugins, "aie-like") == ("active", None)


def test_a_misspelled_hook_of_a_loaded_plugin_is_rejected():
    class Typo:
        @hookimpl
        def tetra_register_constrains(self):
            return []

    plugins = make_plugins(("typo", Typo()))  # installed plugins: stream-tetra declares its hook
    assert _status(plugins, "typo") == (
        "failed",
        "unknown hook 'tetra_register_constrains'; did you mean 'tetra_register_constraints'?",
    )


def test_optional_hook_implementations_pass():
    class Optional:
        @hookimpl(optionalhook=True)
        def stream_register_later(self):
            return []

    assert _status(make_plugins(("opt", Optional()), entry_points=False), "opt") == ("active", None)


def test_a_raising_registration_hook_fails_only_that_plugin(caplog):
    with caplog.at_level(logging.WARNING, logger="stream_core.plugins"):
        plugins = make_plugins(("bad", _Raising()), ("exits", _Exiting()), ("toy", toy_plugin), entry_points=False)
    assert _status(plugins, "bad") == ("failed", "its registration hook raised KeyError: 'vendor_sdk_path'")
    assert _status(plugins, "exits") == ("failed", "its registration hook raised SystemExit: 3")
    # nothing half-registered: the record yielded before the exception is dropped
    assert plugins.registry("cost_models").names() == ["roofline", "toy-cost"]
    assert plugins.get("core_types", "toy").name == "toy"
    with pytest.raises(UnknownPluginError, match=r"failed to load may provide it: bad \(its registration"):
        plugins.get("cost_models", "half")


def test_strict_mode_raises_for_a_raising_registration_hook():
    plugins = Plugins.discover(entry_points=False, disabled=(), strict=True)
    with pytest.raises(PluginLoadError, match=r"plugin 'bad' \(bad 0\) failed to load: its registration hook raised"):
        plugins.register(_Raising(), name="bad")


def _fake_entry_points(monkeypatch, *eps):
    real = importlib.metadata.entry_points

    def fake(**kwargs):
        return list(eps) if kwargs.get("group") == "stream_core.plugins" else real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)


def test_a_plugin_calling_sys_exit_on_import_is_failed_not_fatal(monkeypatch, tmp_path):
    (tmp_path / "exiting_plugin_xyz.py").write_text("import sys\nsys.exit('no licence')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    exiting = importlib.metadata.EntryPoint("exiting", "exiting_plugin_xyz", "stream_core.plugins")
    good = importlib.metadata.EntryPoint("toy", "stream_example_plugin.plugin", "stream_core.plugins")
    _fake_entry_points(monkeypatch, exiting, good)
    plugins = Plugins.discover(disabled=())
    assert _status(plugins, "exiting") == ("failed", "SystemExit: no licence")
    assert "toy" in plugins.registry("core_types")


def test_unknown_disabled_names_warn_with_a_did_you_mean_and_fail_when_strict(monkeypatch, caplog):
    good = importlib.metadata.EntryPoint("toy", "stream_example_plugin.plugin", "stream_core.plugins")
    _fake_entry_points(monkeypatch, good)
    monkeypatch.setenv(DISABLE_ENV, "toi")
    with caplog.at_level(logging.WARNING, logger="stream_core.plugins"):
        plugins = Plugins.discover()
    assert f"{DISABLE_ENV} names 'toi', which is no installed plugin; did you mean 'toy'?" in caplog.text
    assert "toy" in plugins.registry("core_types")  # the typo disabled nothing
    with pytest.raises(UnknownPluginError, match="names 'toi', which is no installed plugin"):
        Plugins.discover(strict=True)


class _Settings:
    @hookimpl
    def stream_register_settings(self):
        yield SettingRecord(name="toy.unroll", description="lanes")


def test_unknown_settings_warn_with_a_did_you_mean_and_fail_when_strict(caplog):
    plugins = make_plugins(("settings", _Settings()), entry_points=False)
    with caplog.at_level(logging.WARNING, logger="stream_core.plugins"):
        plugins.check_settings(["toy.unroll", "toy.unrol"])
    assert caplog.text.count("no installed plugin reads this setting") == 1
    assert "settings['toy.unrol']: no installed plugin reads this setting; did you mean 'toy.unroll'?" in caplog.text
    plugins.strict = True
    with pytest.raises(UnknownPluginError, match=r"settings\['toy\.unrol'\]: no installed plugin"):
        plugins.check_settings(["toy.unrol"])


def _cli(monkeypatch, plugins: Plugins):
    from stream_core import cli

    monkeypatch.setattr(cli, "load_plugins", lambda strict=False: (setattr(plugins, "strict", strict), plugins)[1])
    return cli


def test_cli_checks_settings_and_solver_before_any_work(monkeypatch, capsys, tmp_path):
    plugins = make_plugins(("settings", _Settings()), entry_points=False)  # no solver installed
    cli = _cli(monkeypatch, plugins)
    missing = [str(tmp_path / "none.onnx"), str(tmp_path / "none.yaml")]
    assert cli.main(["run", *missing, "--solver", "highs"]) == 2
    assert "error: unknown solver 'highs'. Available: (none installed)." in capsys.readouterr().err
    assert cli.main(["run", *missing, "--set", "toy.unrol=4"]) == 2  # warned, then the missing file
    err = capsys.readouterr().err
    assert "WARNING: --set toy.unrol: no installed plugin reads this setting; did you mean 'toy.unroll'?" in err
    assert "file not found" in err
    assert cli.main(["run", *missing, "--set", "toy.unrol=4", "--strict-plugins"]) == 2
    err = capsys.readouterr().err
    assert "error: --set toy.unrol: no installed plugin reads this setting" in err and "file not found" not in err
