"""Choosing the op parser of each ``(domain, op_type)`` from the ``op_parsers`` plugin registry.

Every record names its ``domain`` and ``op_type``. When several records cover the same op, one from
a distribution other than stream-onnx wins over the built-in one (that is how a plugin overrides a
built-in parser); two such overrides of the same op are a conflict, reported when a model uses it.
Two records with the same *name* are the core registry's conflict, likewise reported on use.

An op of a custom domain without a record of its own is parsed by the parser of its op type in the
default domain (``com.example:Silu`` by the ``Silu`` parser), as Stream dispatches on the op type
whatever the domain; a record for the explicit ``(domain, op_type)`` wins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stream_core.errors import PluginConflictError
from stream_core.plugins import Provided, Registry
from stream_core.records import normalise_name
from stream_onnx.fold import default_domain
from stream_onnx.hookspecs import op_parser_name

#: The distribution whose op parsers are the defaults that other plugins override.
OWN_DISTRIBUTION = "stream-onnx"

Key = tuple[str, str]


class OpParserTable:
    """The chosen op parser per ``(domain, op_type)``; parsers are loaded on first use."""

    def __init__(self, registry: Registry[Any]):
        self._registry = registry
        self._name_conflicts = set(registry.conflicts())
        groups: dict[Key, list[Provided[Any]]] = {}
        for name in registry.names():
            if name in self._name_conflicts:
                continue
            entry = registry.entry(name)
            groups.setdefault((default_domain(entry.record.domain), entry.record.op_type), []).append(entry)
        self._chosen: dict[Key, Provided[Any]] = {}
        self._clashes: dict[Key, list[Provided[Any]]] = {}
        for key, entries in groups.items():
            overrides = [e for e in entries if e.distribution != OWN_DISTRIBUTION]
            candidates = overrides or entries
            if len(candidates) == 1:
                self._chosen[key] = candidates[0]
            else:
                self._clashes[key] = candidates
        self._loaded: dict[Key, Callable[..., Any]] = {}

    def _conflicted_name(self, key: Key) -> str | None:
        name = normalise_name(op_parser_name(*key))
        return name if name in self._name_conflicts else None

    def _registered(self, key: Key) -> bool:
        return key in self._chosen or key in self._clashes or self._conflicted_name(key) is not None

    def key(self, domain: str, op_type: str) -> Key | None:
        """The ``(domain, op_type)`` whose parser parses the op: its own, else (custom domains) the
        default domain's parser of the same op type; ``None`` when neither exists."""
        own = (default_domain(domain), op_type)
        if self._registered(own):
            return own
        return ("", op_type) if own[0] and self._registered(("", op_type)) else None

    def has(self, domain: str, op_type: str) -> bool:
        return self.key(domain, op_type) is not None

    def description(self, key: Key) -> str:
        """The description of the record chosen for ``key`` (empty for a conflict)."""
        entry = self._chosen.get(key)
        return entry.record.description if entry is not None else ""

    def lookup(self, domain: str, op_type: str) -> Callable[..., Any]:
        """The parser callable of an op :meth:`has` accepted; a conflict raises :class:`PluginConflictError`."""
        key = self.key(domain, op_type)
        assert key is not None, f"no parser for {op_parser_name(domain, op_type)}"
        found = self._loaded.get(key)
        if found is not None:
            return found
        name = self._conflicted_name(key)
        if name is not None:
            self._registry.entry(name)  # raises the registry's conflict error, naming both distributions
        if key in self._clashes:
            origins = ", ".join(f"{e.record.name} ({e.origin})" for e in self._clashes[key])
            raise PluginConflictError(
                f"several plugins override the op parser of {op_parser_name(*key)}: {origins}; "
                "uninstall one or disable it with STREAM_DISABLE_PLUGINS=<distribution>"
            )
        found = self._chosen[key].record.load()
        self._loaded[key] = found
        return found

    def describe(self) -> str:
        """``ai.onnx: Add, Conv, ...; com.example: Silu``: the ops that have a parser, per domain."""
        by_domain: dict[str, list[str]] = {}
        for domain, op_type in [*self._chosen, *self._clashes]:
            by_domain.setdefault(domain or "ai.onnx", []).append(op_type)
        return "; ".join(f"{d}: {', '.join(sorted(ops))}" for d, ops in sorted(by_domain.items())) or "none"
