"""Persistent cache of the pure stages of a run: the parsed workload, the mapper's mapping and the allocation.

An entry is keyed by the content of what the stage reads (:func:`content_key`: a canonical hash of
the values, never of object identities or set order) together with :func:`code_stamp`, the installed
plugin distributions, their versions and the size and modification time of their source files, so
editing a plugin in an editable install invalidates its entries. Entries live beside the cost cache
(``<cache dir>/stages/<kind>/<key[:2]>/<key>.pkl``), written to a temporary file and moved into place
atomically. Each starts with a header naming the format version, its key and a digest of its payload;
one with another header (another version, key or content), or that cannot be read back, is deleted
and rebuilt, never trusted.

The payload is a pickle: the cache directory is the user's own, as trusted as the inputs themselves.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import hashlib
import json
import logging
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Mapping
from importlib import metadata
from pathlib import Path, PurePath
from typing import Any

import attrs

from stream_core.ir.problem import CostTable
from stream_core.outputs import replace_atomically
from stream_core.plugins import Plugins

log = logging.getLogger("stream_core")

FORMAT_VERSION = 2
MAGIC = b"stream-core stage cache\n"


class Unkeyable(TypeError):
    """A value :func:`content_key` cannot hash canonically (the stage then runs uncached)."""


def content_key(*parts: Any) -> str:
    """A hex digest of ``parts`` that depends only on their content (see :class:`_Encoder`)."""
    return hashlib.blake2b(_Encoder().encode(parts), digest_size=20).hexdigest()


class _Encoder:
    """Canonical bytes of plain values, attrs instances (their ``init`` fields: derived fields such as
    graphs and caches are left out), :class:`CostTable` (its entries and the model asked for each) and
    objects offering ``fingerprint()``. Mappings and sets are sorted by their encoded keys."""

    def __init__(self) -> None:
        self._seen: dict[int, bytes] = {}

    def encode(self, value: Any) -> bytes:
        if value is None or isinstance(value, bool | int | float | str | bytes):
            return f"{type(value).__name__}:{value!r};".encode()
        if isinstance(value, enum.Enum):
            return f"enum:{type(value).__qualname__}:{value.value!r};".encode()
        if isinstance(value, PurePath):
            return f"path:{value};".encode()
        if isinstance(value, list | tuple):
            return b"[" + b"".join(self.encode(v) for v in value) + b"]"
        if isinstance(value, Mapping):
            items = sorted((self.encode(k), self.encode(v)) for k, v in value.items())
            return b"{" + b"".join(k + b"=" + v for k, v in items) + b"}"
        if isinstance(value, set | frozenset):
            return b"<" + b"".join(sorted(self.encode(v) for v in value)) + b">"
        known = self._seen.get(id(value))
        if known is None:
            known = self._seen[id(value)] = self._object(value)
        return known

    def _object(self, value: Any) -> bytes:
        name = f"{type(value).__module__}.{type(value).__qualname__}".encode()
        if isinstance(value, CostTable):
            entries = [(key, result, value.asked(*key)) for key, result in value.items()]
            return name + self.encode(sorted(entries, key=lambda e: self.encode(e[0])))
        if attrs.has(type(value)):
            fields = [(f.name, getattr(value, f.name)) for f in attrs.fields(type(value)) if f.init]
            return name + self.encode(fields)
        fingerprint = getattr(value, "fingerprint", None)
        if callable(fingerprint):
            return name + self.encode(fingerprint())
        if hasattr(value, "dtype") and hasattr(value, "tobytes"):  # numpy-like arrays
            return name + self.encode((str(value.dtype), tuple(value.shape), value.tobytes()))
        raise Unkeyable(f"cannot key a {type(value).__qualname__}")


def code_stamp(plugins: Plugins) -> tuple[Any, ...] | None:
    """What identifies the code of the active plugins: per plugin its distribution, version and the
    size and mtime of every ``.py`` file of its top-level package. ``None`` when a plugin was
    registered in-process rather than installed (its code cannot be identified: no caching)."""
    stamp: list[Any] = []
    for info in plugins.infos():
        if info.status != "active":
            continue
        try:
            installed = metadata.version(info.distribution)
        except metadata.PackageNotFoundError:
            return None
        package = sys.modules.get(info.module.split(".")[0].split(":")[0])
        if installed != info.version or package is None:
            return None
        stamp.append((info.name, info.distribution, info.version, _source_stamp(package)))
    return tuple(stamp)


def _source_stamp(package: Any) -> tuple[tuple[str, int, int], ...]:
    roots = list(getattr(package, "__path__", ())) or [os.path.dirname(package.__file__ or "")]
    found = []
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                if name.endswith(".py"):
                    info = os.stat(os.path.join(folder, name))
                    found.append((os.path.join(folder, name), info.st_size, info.st_mtime_ns))
    return tuple(sorted(found))


class StageCache:
    """Entries of one ``kind`` (``workload``, ``allocation``) under ``directory``."""

    def __init__(self, directory: Path, kind: str):
        self.directory = Path(directory) / "stages" / kind

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.pkl"

    def get(self, key: str) -> Any | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            magic, header, payload = data[: len(MAGIC)], *data[len(MAGIC) :].split(b"\n", 1)
            if magic != MAGIC or json.loads(header) != _header(key, payload):
                raise ValueError("an entry of another format, key or content")
            with _gc_paused():
                return pickle.loads(payload)
        except Exception as exc:  # corrupt or foreign: rebuilt, never trusted
            log.debug("stage cache entry %s ignored: %s", path, exc)
            path.unlink(missing_ok=True)
            return None

    def put(self, key: str, value: Any) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        replace_atomically(path, MAGIC + json.dumps(_header(key, payload)).encode() + b"\n" + payload)


def _header(key: str, payload: bytes) -> dict[str, Any]:
    return {"format": FORMAT_VERSION, "key": key, "payload": hashlib.blake2b(payload, digest_size=20).hexdigest()}


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No garbage collection while a payload is read: each few hundred of its new objects made the
    collector walk the growing heap again, a third of the load time; what is garbage waits until after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def cached(
    directory: Path | None, kind: str, parts: Callable[[], tuple[Any, ...]], compute: Callable[[], Any]
) -> tuple[Any, bool]:
    """``compute()`` through the cache of ``kind`` (none when ``directory`` is ``None``); ``parts``
    gives what the key hashes. Returns the value and whether it came from the cache. A value whose
    inputs cannot be keyed is computed and not stored."""
    if directory is None:
        return compute(), False
    try:
        key = content_key(kind, *parts())
    except Unkeyable as exc:
        log.debug("%s not cached: %s", kind, exc)
        return compute(), False
    cache = StageCache(directory, kind)
    hit = cache.get(key)
    if hit is not None:
        return hit, True
    value = compute()
    cache.put(key, value)
    return value, False
