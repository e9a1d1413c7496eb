"""Plugin discovery and per-kind registries.

Plugins are found through one entry-point group (:data:`~stream_core.hookspecs.ENTRY_POINT_GROUP`);
the core's own defaults register through the same hooks. Per kind, a :class:`Registry` holds the
records all plugins returned, tagged with the distribution that provided them:

* the same name from two distributions is an error naming both (raised when that name is used, so
  one conflict does not make everything else unusable);
* an unknown name is an error listing the available names with a did-you-mean;
* a plugin that fails to import is skipped with a warning naming it and the reason; in strict mode
  that is an error;
* plugins named in the environment variable :data:`DISABLE_ENV` (comma-separated distribution or
  entry-point names) are not loaded.
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
from stream_core.errors import PluginConflictError, PluginLoadError, UnknownPluginError

log = logging.getLogger("stream_core.plugins")

DISABLE_ENV = "STREAM_DISABLE_PLUGINS"
BUILTIN_NAME = "stream-core"

#: kind -> (record type, human label). The hook of a kind is ``stream_register_<kind>``.
KINDS: dict[str, tuple[type[records.PluginRecord], str]] = {
    "core_types": (records.CoreTypeRecord, "core type"),
    "cost_models": (records.CostModelRecord, "cost model"),
    "workload_parsers": (records.WorkloadParserRecord, "workload parser"),
    "frontends": (records.FrontendRecord, "frontend"),
    "op_parsers": (records.OpParserRecord, "op parser"),
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

    def __init__(self, kind: str, provided: Iterable[Provided[R]], failed: Iterable[PluginInfo] = ()):
        self.kind = kind
        self.label = KINDS[kind][1]
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
        if close:
            message += f"; did you mean {close[0]!r}?"
        message += f" Available: {', '.join(available) if available else '(none installed)'}."
        if self._failed:
            failed = "; ".join(f"{p.name} ({p.error})" for p in self._failed)
            message += f" Note: plugins that failed to load may provide it: {failed}."
        message += " Run 'stream plugins' to see what is installed."
        return message


class Plugins:
    """A plugin manager with its registries. Build one with :meth:`discover` (or :func:`load_plugins`)."""

    def __init__(self, manager: pluggy.PluginManager, infos: Iterable[PluginInfo] = ()):
        self.manager = manager
        self._infos: dict[str, PluginInfo] = {info.name: info for info in infos}
        self._registries: dict[str, Registry[Any]] = {}

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def empty(cls) -> Plugins:
        manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        manager.add_hookspecs(hookspecs)
        manager.hook.stream_add_hookspecs.call_historic(kwargs={"pluginmanager": manager})
        return cls(manager)

    @classmethod
    def discover(
        cls,
        *,
        strict: bool = False,
        disabled: Iterable[str] | None = None,
        builtins: bool = True,
        entry_points: bool = True,
    ) -> Plugins:
        """Load the built-in plugin and every installed plugin of the entry-point group."""
        plugins = cls.empty()
        blocked = set(_disabled_names() if disabled is None else (records.normalise_name(d) for d in disabled))
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
                plugins._load_entry_point(ep, blocked, strict)
        return plugins

    def _load_entry_point(self, ep: importlib.metadata.EntryPoint, blocked: set[str], strict: bool) -> None:
        dist = ep.dist.name if ep.dist is not None else ep.name
        version = ep.dist.version if ep.dist is not None else "?"
        if records.normalise_name(ep.name) in blocked or records.normalise_name(dist) in blocked:
            self._add_info(PluginInfo(ep.name, dist, version, ep.value, "disabled"))
            return
        try:
            if ep.name in self._infos or self.manager.has_plugin(ep.name):
                other = self._infos.get(ep.name)
                owner = other.distribution if other else "another plugin"
                raise RuntimeError(f"entry point name {ep.name!r} is already used by {owner}")
            module = ep.load()
            self.manager.register(module, name=ep.name)
        except Exception as exc:  # a broken plugin must not take the tool down
            reason = f"{type(exc).__name__}: {exc}"
            if strict:
                raise PluginLoadError(f"plugin {ep.name!r} ({dist} {version}) failed to load: {reason}") from exc
            log.warning("plugin %r (%s %s) failed to load and was skipped: %s", ep.name, dist, version, reason)
            self._add_info(PluginInfo(ep.name, dist, version, ep.value, "failed", reason))
            return
        self._add_info(PluginInfo(ep.name, dist, version, ep.value, "active"))

    def register(self, plugin: object, name: str, *, distribution: str | None = None, version: str = "0") -> None:
        """Register a plugin object in-process (tests, notebooks). ``name`` is required and unique."""
        self.manager.register(plugin, name=name)
        self._add_info(PluginInfo(name, distribution or name, version, _module_name(plugin), "active"))
        self._registries.clear()

    def unregister(self, name: str) -> None:
        self.manager.unregister(name=name)
        self._infos.pop(name, None)
        self._registries.clear()

    def _add_info(self, info: PluginInfo) -> None:
        self._infos[info.name] = info
        self._registries.clear()

    # -- queries ----------------------------------------------------------------------------
    @property
    def hook(self) -> Any:
        """The pluggy hook relay, including hooks that plugins added (``stream_add_hookspecs``)."""
        return self.manager.hook

    def infos(self) -> list[PluginInfo]:
        return sorted(self._infos.values(), key=lambda i: (i.name != BUILTIN_NAME, i.name))

    def failed(self) -> list[PluginInfo]:
        return [i for i in self.infos() if i.status == "failed"]

    def registry(self, kind: str) -> Registry[Any]:
        if kind not in KINDS:
            raise KeyError(f"unknown plugin kind {kind!r}; kinds: {', '.join(KINDS)}")
        if kind not in self._registries:
            self._registries[kind] = Registry(kind, self._collect(kind), self.failed())
        return self._registries[kind]

    def provided_by(self, plugin_name: str) -> dict[str, list[str]]:
        """What one plugin registered, per kind (for ``stream plugins``)."""
        out: dict[str, list[str]] = {}
        for kind in KINDS:
            names = sorted(p.record.name for p in self._collect(kind, only=plugin_name))
            if names:
                out[kind] = names
        return out

    def _collect(self, kind: str, only: str | None = None) -> list[Provided[Any]]:
        record_type, _label = KINDS[kind]
        caller = getattr(self.manager.hook, f"stream_register_{kind}")
        found: list[Provided[Any]] = []
        for impl in caller.get_hookimpls():
            if only is not None and impl.plugin_name != only:
                continue
            info = self._infos.get(impl.plugin_name)
            distribution = info.distribution if info else impl.plugin_name
            version = info.version if info else "?"
            for record in impl.function() or ():
                if not isinstance(record, record_type):
                    raise PluginLoadError(
                        f"plugin {impl.plugin_name!r} returned {type(record).__name__} from "
                        f"stream_register_{kind}; expected {record_type.__name__}"
                    )
                found.append(Provided(record, impl.plugin_name, distribution, version))
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
