"""Plugin discovery and per-kind registries.

Plugins are found through one entry-point group (:data:`~stream_core.hookspecs.ENTRY_POINT_GROUP`);
the core's own defaults register through the same hooks. Per kind, a :class:`Registry` holds the
records all plugins returned, tagged with the distribution that provided them:

* the same name from two distributions is an error naming both (raised when that name is used, so
  one conflict does not make everything else unusable);
* an unknown name is an error listing the available names with a did-you-mean;
* a plugin is checked once every plugin is registered (so hooks that other plugins add count): a
  plugin that fails to import (``SystemExit`` included), implements a hook no spec declares (pluggy's
  ``check_pending``, per plugin, with a did-you-mean) or whose registration hook raises is marked
  ``failed`` with the reason, unregistered and skipped with a warning; the others keep working. In
  strict mode that is an error;
* an undeclared hook outside the core's ``stream_`` namespace that is close to no declared hook is
  another plugin's hook (e.g. ``tetra_register_constraints`` while stream-tetra is not installed):
  it stays dormant, as pluggy's ``optionalhook`` would;
* plugins named in the environment variable :data:`DISABLE_ENV` (comma-separated distribution or
  entry-point names) are not loaded; a name no installed plugin has is a warning with a
  did-you-mean (an error in strict mode), as is a ``--set`` key no plugin registered
  (:meth:`Plugins.check_settings`).
"""

from __future__ import annotations

import difflib
import importlib.metadata
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

import attrs
import pluggy

from stream_core import hookspecs, records
from stream_core.errors import PluginConflictError, PluginLoadError, UnknownPluginError, setting

log = logging.getLogger("stream_core.plugins")

DISABLE_ENV = "STREAM_DISABLE_PLUGINS"
BUILTIN_NAME = "stream-core"
#: Hooks the core declares start with this; an undeclared one is always a mistake.
CORE_HOOK_PREFIX = "stream_"

#: The core's kinds: kind -> (record type, human label). The hook of a kind is ``stream_register_<kind>``;
#: plugins add kinds of their own (:meth:`Plugins.kinds`).
KINDS: dict[str, tuple[type[records.PluginRecord], str]] = {
    "core_types": (records.CoreTypeRecord, "core type"),
    "cost_models": (records.CostModelRecord, "cost model"),
    "workload_parsers": (records.WorkloadParserRecord, "workload parser"),
    "frontends": (records.FrontendRecord, "frontend"),
    "mappers": (records.MapperRecord, "mapper"),
    "allocators": (records.AllocatorRecord, "allocator"),
    "solvers": (records.SolverRecord, "solver"),
    "exporters": (records.ExporterRecord, "exporter"),
    "code_generators": (records.CodeGeneratorRecord, "code generator"),
    "targets": (records.TargetRecord, "target"),
    "commands": (records.CommandRecord, "command"),
    "settings": (records.SettingRecord, "setting"),
}

R = TypeVar("R", bound=records.PluginRecord)


@attrs.frozen
class PluginInfo:
    """One plugin as ``stream plugins`` shows it."""

    name: str
    distribution: str
    version: str
    module: str
    status: str  # "active" | "disabled" | "failed"
    error: str | None = None


@attrs.frozen
class Provided(Generic[R]):
    record: R
    plugin: str
    distribution: str
    version: str

    @property
    def origin(self) -> str:
        return f"{self.distribution} {self.version}"


class Registry(Generic[R]):
    """All records of one kind, by name."""

    def __init__(
        self, kind: str, provided: Iterable[Provided[R]], failed: Iterable[PluginInfo] = (), *, label: str = ""
    ):
        self.kind = kind
        self.label = label or KINDS[kind][1]
        self._failed = tuple(failed)
        self._by_name: dict[str, list[Provided[R]]] = {}
        for item in provided:
            self._by_name.setdefault(item.record.name, []).append(item)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and records.normalise_name(name) in self._by_name

    def __iter__(self) -> Iterator[R]:
        return (self.get(name) for name in self.names())

    def __len__(self) -> int:
        return len(self._by_name)

    def entry(self, name: str) -> Provided[R]:
        """The record registered under ``name`` with its provenance; raises a helpful error otherwise."""
        key = records.normalise_name(name)
        found = self._by_name.get(key)
        if not found:
            raise UnknownPluginError(self._unknown_message(key))
        distributions = {p.distribution for p in found}
        if len(found) > 1:
            origins = ", ".join(sorted(p.origin for p in found))
            same = " (the same distribution registers it twice)" if len(distributions) == 1 else ""
            raise PluginConflictError(
                f"conflicting plugins for {self.label} {key!r}: provided by {origins}{same}; "
                f"uninstall one or disable it with {DISABLE_ENV}=<distribution>"
            )
        return found[0]

    def get(self, name: str) -> R:
        return self.entry(name).record

    def conflicts(self) -> dict[str, list[str]]:
        return {n: sorted(p.origin for p in ps) for n, ps in self._by_name.items() if len(ps) > 1}

    def default(self) -> R | None:
        """The record with the highest ``priority`` (ties: first by name); ``None`` if the kind is empty."""
        if not self._by_name:
            return None
        best = min(self.names(), key=lambda n: (-getattr(self._by_name[n][0].record, "priority", 0), n))
        return self.get(best)

    def _unknown_message(self, key: str) -> str:
        available = self.names()
        message = f"unknown {self.label} {key!r}"
        close = difflib.get_close_matches(key, available, n=1)
        message += f"; did you mean {close[0]!r}?" if close else "."
        message += f" Available: {', '.join(available) if available else '(none installed)'}."
        if self._failed:
            failed = "; ".join(f"{p.name} ({p.error})" for p in self._failed)
            message += f" Note: plugins that failed to load may provide it: {failed}."
        message += " Run 'stream plugins' to see what is installed."
        return message


class Plugins:
    """A plugin manager with its registries. Build one with :meth:`discover` (or :func:`load_plugins`).
    ``strict`` turns every plugin problem (see the module docstring) into a :class:`PluginLoadError`."""

    def __init__(self, manager: pluggy.PluginManager, infos: Iterable[PluginInfo] = (), *, strict: bool = False):
        self.manager = manager
        self.strict = strict
        self._infos: dict[str, PluginInfo] = {info.name: info for info in infos}
        self._registries: dict[str, Registry[Any]] = {}
        #: plugin name -> kind -> the records its registration hook returned (called once, when checked)
        self._returned: dict[str, dict[str, list[Any]]] = {}

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def empty(cls, *, strict: bool = False) -> Plugins:
        manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        manager.add_hookspecs(hookspecs)
        manager.hook.stream_add_hookspecs.call_historic(kwargs={"pluginmanager": manager})
        return cls(manager, strict=strict)

    @classmethod
    def discover(
        cls,
        *,
        strict: bool = False,
        disabled: Iterable[str] | None = None,
        builtins: bool = True,
        entry_points: bool = True,
    ) -> Plugins:
        """Load the built-in plugin and every installed plugin of the entry-point group, then check
        each (see the module docstring)."""
        plugins = cls.empty(strict=strict)
        blocked = set(_disabled_names() if disabled is None else (records.normalise_name(d) for d in disabled))
        known = {BUILTIN_NAME}
        if builtins:
            from stream_core import builtin

            version = _distribution_version(BUILTIN_NAME)
            if BUILTIN_NAME in blocked:
                plugins._add_info(PluginInfo(BUILTIN_NAME, BUILTIN_NAME, version, builtin.__name__, "disabled"))
            else:
                plugins.manager.register(builtin, name=BUILTIN_NAME)
                plugins._add_info(PluginInfo(BUILTIN_NAME, BUILTIN_NAME, version, builtin.__name__, "active"))
        if entry_points:
            for ep in sorted(importlib.metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP), key=lambda e: e.name):
                known |= {records.normalise_name(ep.name), records.normalise_name(_distribution_of(ep))}
                plugins._load_entry_point(ep, blocked)
        for info in plugins.infos():
            if info.status == "active":
                plugins._check(info.name)
        plugins._check_disabled(blocked, known)
        return plugins

    def _load_entry_point(self, ep: importlib.metadata.EntryPoint, blocked: set[str]) -> None:
        dist = _distribution_of(ep)
        version = ep.dist.version if ep.dist is not None else "?"
        if records.normalise_name(ep.name) in blocked or records.normalise_name(dist) in blocked:
            self._add_info(PluginInfo(ep.name, dist, version, ep.value, "disabled"))
            return
        self._add_info(PluginInfo(ep.name, dist, version, ep.value, "active"))
        try:
            if self.manager.has_plugin(ep.name):
                raise RuntimeError(f"entry point name {ep.name!r} is already used by another plugin")
            module = ep.load()
            self.manager.register(module, name=ep.name)
        except (Exception, SystemExit) as exc:  # a broken plugin must not take the tool down
            self._fail(ep.name, f"{type(exc).__name__}: {exc}", exc)

    def register(self, plugin: object, name: str, *, distribution: str | None = None, version: str = "0") -> None:
        """Register a plugin object in-process (tests, notebooks) and check it as :meth:`discover`
        does. ``name`` is required and unique."""
        self.manager.register(plugin, name=name)
        self._add_info(PluginInfo(name, distribution or name, version, _module_name(plugin), "active"))
        self._check(name)

    def unregister(self, name: str) -> None:
        self.manager.unregister(name=name)
        self._infos.pop(name, None)
        self._returned.pop(name, None)
        self._registries.clear()

    def _add_info(self, info: PluginInfo) -> None:
        self._infos[info.name] = info
        self._registries.clear()

    def _check(self, name: str) -> None:
        """Check a registered plugin's hook names, then run its registration hooks once; a plugin
        failing either is marked failed (see :meth:`_fail`)."""
        reason = self._unknown_hooks(name)
        if reason:
            self._fail(name, reason)
            return
        try:
            returned = self._call_registrations(name)
        except (Exception, SystemExit) as exc:
            self._fail(name, f"its registration hook raised {type(exc).__name__}: {exc}", exc)
            return
        self._returned[name] = returned
        self._registries.clear()

    def _fail(self, name: str, reason: str, cause: BaseException | None = None) -> None:
        """Mark plugin ``name`` failed and unregister it; in strict mode raise instead."""
        info = self._infos[name]
        where = f"plugin {name!r} ({info.distribution} {info.version})"
        if self.strict:
            raise PluginLoadError(f"{where} failed to load: {reason}") from cause
        log.warning("%s failed to load and was skipped: %s", where, reason)
        if self.manager.has_plugin(name):
            self.manager.unregister(name=name)
        self._returned.pop(name, None)
        self._add_info(attrs.evolve(info, status="failed", error=reason))

    def _unknown_hooks(self, name: str) -> str:
        """The hooks plugin ``name`` implements that no spec declares, as one reason ("" if none):
        pluggy's ``check_pending`` for one plugin, with a did-you-mean. ``optionalhook``
        implementations and dormant hooks of other plugins (see the module docstring) pass."""
        callers = {n: c for n, c in vars(self.manager.hook).items() if not n.startswith("_")}
        declared = sorted(n for n, c in callers.items() if c.has_spec())
        problems = []
        for hook_name, caller in sorted(callers.items()):
            mine = [i for i in caller.get_hookimpls() if i.plugin_name == name and not i.optionalhook]
            if caller.has_spec() or not mine:
                continue
            close = difflib.get_close_matches(hook_name, declared, n=1, cutoff=0.8)
            if close:
                problems.append(f"unknown hook {hook_name!r}; did you mean {close[0]!r}?")
            elif hook_name.startswith(CORE_HOOK_PREFIX):
                core = ", ".join(n for n in declared if n.startswith(CORE_HOOK_PREFIX))
                problems.append(f"unknown hook {hook_name!r}; stream-core's hooks are {core}")
            else:
                log.debug("plugin %r implements %r, a hook no loaded plugin declares; it stays unused", name, hook_name)
        return "; ".join(problems)

    def _call_registrations(self, name: str) -> dict[str, list[Any]]:
        returned: dict[str, list[Any]] = {}
        for kind in self.kinds():
            for impl in getattr(self.manager.hook, f"stream_register_{kind}").get_hookimpls():
                if impl.plugin_name == name:
                    returned[kind] = list(impl.function() or ())
        return returned

    def _check_disabled(self, blocked: set[str], known: set[str]) -> None:
        """Warn about (strict: refuse) names in :data:`DISABLE_ENV` that no installed plugin has."""
        for name in sorted(blocked - known):
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "."
            message = f"{DISABLE_ENV} names {name!r}, which is no installed plugin{hint}"
            message += f" Installed: {', '.join(sorted(known))}"
            if self.strict:
                raise UnknownPluginError(message)
            log.warning("%s", message)

    def check_settings(self, keys: Iterable[str]) -> None:
        """Warn about (strict: refuse) ``--set`` keys that no plugin registered as a setting."""
        registry = self.registry("settings")
        for key in keys:
            if key in registry:
                continue
            close = difflib.get_close_matches(records.normalise_name(key), registry.names(), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            message = f"{setting(key)}: no installed plugin reads this setting{hint} (see 'stream plugins')"
            if self.strict:
                raise UnknownPluginError(message)
            log.warning("%s", message)

    # -- queries ----------------------------------------------------------------------------
    @property
    def hook(self) -> Any:
        """The pluggy hook relay, including hooks that plugins added (``stream_add_hookspecs``)."""
        return self.manager.hook

    def infos(self) -> list[PluginInfo]:
        return sorted(self._infos.values(), key=lambda i: (i.name != BUILTIN_NAME, i.name))

    def failed(self) -> list[PluginInfo]:
        return [i for i in self.infos() if i.status == "failed"]

    def kinds(self) -> dict[str, tuple[type[records.PluginRecord[Any]], str]]:
        """The core's :data:`KINDS`, then the kinds plugins declared with
        :func:`~stream_core.hookspecs.registration_hookspec` (kind -> record type, label)."""
        kinds = dict(KINDS)
        for hook_name, caller in vars(self.manager.hook).items():
            declared = hookspecs.declared_kind(caller)
            if declared is not None:
                kinds.setdefault(hook_name.removeprefix(hookspecs.REGISTER_PREFIX), declared)
        return kinds

    def registry(self, kind: str) -> Registry[Any]:
        if kind not in self._registries:
            kinds = self.kinds()
            if kind not in kinds:
                raise KeyError(f"unknown plugin kind {kind!r}; kinds: {', '.join(kinds)}")
            self._registries[kind] = Registry(kind, self._collect(kind), self.failed(), label=kinds[kind][1])
        return self._registries[kind]

    def provided_by(self, plugin_name: str) -> dict[str, list[str]]:
        """What one plugin registered, per kind (for ``stream plugins``)."""
        out: dict[str, list[str]] = {}
        for kind in self.kinds():
            names = sorted(p.record.name for p in self._collect(kind, only=plugin_name))
            if names:
                out[kind] = names
        return out

    def _collect(self, kind: str, only: str | None = None) -> list[Provided[Any]]:
        """The records of ``kind`` the checked plugins returned; a record of the wrong type is an
        error naming the plugin when that kind is used."""
        record_type, _label = self.kinds()[kind]
        found: list[Provided[Any]] = []
        for plugin_name, returned in self._returned.items():
            if only is not None and plugin_name != only:
                continue
            info = self._infos[plugin_name]
            for record in returned.get(kind, ()):
                if not isinstance(record, record_type):
                    raise PluginLoadError(
                        f"plugin {plugin_name!r} returned {type(record).__name__} from "
                        f"stream_register_{kind}; expected {record_type.__name__}"
                    )
                found.append(Provided(record, plugin_name, info.distribution, info.version))
        return found

    # -- conveniences --------------------------------------------------------------------------
    def get(self, kind: str, name: str) -> Any:
        return self.registry(kind).get(name)

    def load(self, kind: str, name: str) -> Any:
        """Resolve ``name`` and call its factory."""
        return self.registry(kind).get(name).load()

    def origin(self, kind: str, name: str) -> str:
        entry = self.registry(kind).entry(name)
        return f"{entry.record.name} ({entry.origin})"


def _disabled_names() -> set[str]:
    raw = os.environ.get(DISABLE_ENV, "")
    return {records.normalise_name(part) for part in raw.split(",") if part.strip()}


def _distribution_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _distribution_of(ep: importlib.metadata.EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else ep.name


def _module_name(plugin: object) -> str:
    return getattr(plugin, "__name__", None) or type(plugin).__module__


_default: Plugins | None = None


def load_plugins(*, strict: bool = False, refresh: bool = False) -> Plugins:
    """The process-wide plugin set (discovered once; ``refresh`` re-discovers)."""
    global _default
    if _default is None or refresh or strict:
        plugins = Plugins.discover(strict=strict)
        if strict:
            return plugins
        _default = plugins
    return _default


def lazy(module: str, attribute: str) -> Callable[[], Any]:
    """A record factory that imports ``module`` and returns a new ``attribute`` instance when called."""

    def factory() -> Any:
        import importlib

        target = getattr(importlib.import_module(module), attribute)
        return target() if isinstance(target, type) else target

    factory.__qualname__ = f"lazy({module}:{attribute})"
    return factory
