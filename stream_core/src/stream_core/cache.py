"""Persistent, content-addressed cache of cost results.

One JSON file per entry under ``<dir>/<key[:2]>/<key>.json``, written to a temporary file and moved
into place atomically, so concurrent runs are safe (identical entries; the last write wins). An entry
carries a checksum of its result; one that cannot be trusted (not a regular file, not UTF-8 JSON, not
an object, a wrong type or range, NaN, a checksum that does not match) is dropped with a warning and
recomputed. A cache folder that cannot be used means an uncached run, with a warning; an entry that
cannot be written (a directory in its place, say) is left uncached, with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import attrs

from stream_core.ir.cost import CostResult
from stream_core.outputs import replace_atomically
from stream_core.yamlio import is_int, is_number

FORMAT_VERSION = 2
MAX_ENTRY_BYTES = 1 << 20  #: an entry larger than this is not one we wrote

log = logging.getLogger(__name__)


class CorruptEntry(ValueError):
    """A cache entry that cannot be trusted; the message says why."""


class CostCache:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.usable = True

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> CostResult | None:
        """The cached result for ``key``; ``None`` when absent, stale or untrustworthy (then dropped)."""
        if not self.usable:
            return None
        path = self._path(key)
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._disable(exc)
            return None
        try:
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                raise CorruptEntry("not a regular file of at most 1 MiB")
            with open(path, "rb") as handle:
                data = _decode(handle.read(MAX_ENTRY_BYTES + 1))
            if data.get("format") != FORMAT_VERSION:
                return None  # another version's entry: recomputed and replaced without a warning
            return _entry_result(data, key)
        except CorruptEntry as exc:
            log.warning("cost cache entry %s is unusable (%s): dropped and recomputed", path, exc)
            if stat.S_ISREG(info.st_mode):
                path.unlink(missing_ok=True)
            return None
        except OSError as exc:
            log.warning("cost cache entry %s cannot be read (%s): recomputed", path, exc.strerror or exc)
            return None

    def put(self, key: str, result: CostResult) -> None:
        if not self.usable:
            return
        path = self._path(key)
        body = _to_json(result)
        try:
            text = json.dumps(body, sort_keys=True, allow_nan=False)
        except ValueError:
            log.debug("cost result for %s holds a non-finite number: not cached", key)
            return
        payload = json.dumps({"format": FORMAT_VERSION, "key": key, "checksum": _checksum(key, text), "result": body})
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._disable(exc)
            return
        try:
            replace_atomically(path, payload.encode())
        except PermissionError as exc:
            self._disable(exc)
        except OSError as exc:
            log.warning("cost cache entry %s cannot be written (%s): not cached", path, exc.strerror or exc)

    def _disable(self, exc: OSError) -> None:
        self.usable = False
        log.warning("cost cache folder %s cannot be used (%s): running uncached", self.directory, exc.strerror or exc)


def _checksum(key: str, result_json: str) -> str:
    return hashlib.sha256(f"{key}|{result_json}".encode()).hexdigest()


def _decode(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_ENTRY_BYTES:
        raise CorruptEntry("larger than 1 MiB")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except CorruptEntry:
        raise
    except (UnicodeDecodeError, RecursionError):
        raise CorruptEntry("not UTF-8 JSON") from None
    except ValueError as exc:
        raise CorruptEntry(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CorruptEntry(f"not a JSON object but {type(data).__name__}")
    return data


def _no_constant(name: str) -> Any:
    raise CorruptEntry(f"holds {name}")


def _entry_result(data: dict[str, Any], key: str) -> CostResult:
    """The entry's result once its key, checksum and fields are checked."""
    if data.get("key") != key:
        raise CorruptEntry("its key is not its file name")
    body = data.get("result")
    if not isinstance(body, dict):
        raise CorruptEntry("no result object")
    if data.get("checksum") != _checksum(key, json.dumps(body, sort_keys=True)):
        raise CorruptEntry("checksum mismatch (truncated or edited)")
    return _from_json(body)


def _to_json(result: CostResult) -> dict[str, Any]:
    data = attrs.asdict(result, recurse=False)
    data["memory_utilisation"] = [list(pair) for pair in result.memory_utilisation]
    data["details"] = [[k, v] for k, v in result.details]
    return data


#: Field -> (type check, what it must be), for entries read back.
_FIELDS = {
    "latency": (lambda v: is_int(v) and v >= 0, "a whole number >= 0"),
    "energy_pj": (lambda v: is_number(v) and v >= 0, "a finite number >= 0"),
    "model": (lambda v: isinstance(v, str), "a string"),
    "ideal_cycles": (lambda v: is_int(v) and v >= 0, "a whole number >= 0"),
    "feasible": (lambda v: isinstance(v, bool), "true or false"),
    "reason": (lambda v: isinstance(v, str), "a string"),
    "memory_utilisation": (
        lambda v: (
            isinstance(v, list)
            and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and is_number(p[1]) for p in v)
        ),
        "a list of [memory, fraction] pairs",
    ),
    "details": (
        lambda v: isinstance(v, list) and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in v),
        "a list of [name, value] pairs",
    ),
}


def _from_json(data: dict[str, Any]) -> CostResult:
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown or not {"latency", "energy_pj", "model"} <= set(data):
        raise CorruptEntry(f"unexpected fields {unknown}" if unknown else "missing latency, energy_pj or model")
    for name, value in data.items():
        check, what = _FIELDS[name]
        if not check(value):
            raise CorruptEntry(f"{name} is not {what}")
    data = dict(data)
    data["memory_utilisation"] = [tuple(pair) for pair in data.get("memory_utilisation", [])]
    data["details"] = [(k, _tuplify(v)) for k, v in data.get("details", [])]
    return CostResult(**data)


def _tuplify(value: Any) -> Any:
    return tuple(_tuplify(v) for v in value) if isinstance(value, list) else value
