"""Persistent, content-addressed cache of cost results.

One JSON file per entry under ``<dir>/<key[:2]>/<key>.json``, written to a temporary file and moved
into place atomically, so concurrent runs are safe (the last identical write wins). An entry that
cannot be read back is deleted and recomputed.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import attrs

from stream_core.ir.cost import CostResult

FORMAT_VERSION = 1


class CostCache:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> CostResult | None:
        path = self._path(key)
        try:
            text = path.read_text()
        except OSError:
            return None
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT_VERSION or data.get("key") != key:
                raise ValueError("stale entry")
            return _from_json(data["result"])
        except (ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            return None

    def put(self, key: str, result: CostResult) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"format": FORMAT_VERSION, "key": key, "result": _to_json(result)}, sort_keys=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _to_json(result: CostResult) -> dict[str, Any]:
    data = attrs.asdict(result, recurse=False)
    data["memory_utilisation"] = [list(pair) for pair in result.memory_utilisation]
    data["details"] = [[k, v] for k, v in result.details]
    return data


def _from_json(data: dict[str, Any]) -> CostResult:
    data = dict(data)
    data["memory_utilisation"] = [tuple(pair) for pair in data.get("memory_utilisation", [])]
    data["details"] = [(k, _tuplify(v)) for k, v in data.get("details", [])]
    return CostResult(**data)


def _tuplify(value: Any) -> Any:
    return tuple(_tuplify(v) for v in value) if isinstance(value, list) else value
