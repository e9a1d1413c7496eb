"""The results database: SQLite, one row per variant keyed by the hash of its inputs.

Each finished variant is committed at once, so an interrupted sweep keeps every finished row and a
rerun evaluates only hashes not yet stored. ``meta`` keeps the last sweep's objectives and variant
hashes (for ``--show`` and the reports).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stream_explore.sweep import METRICS

FILE_NAME = "results.sqlite"
JSON_COLUMNS = ("params", "details", "provenance")
COLUMNS = (
    "input_hash",
    "seq",
    "workload",
    "accelerator",
    "params",
    "status",
    "error",
    *METRICS,
    "seconds",
    "finished_at",
    "details",
    "provenance",
)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS variants (
    input_hash TEXT PRIMARY KEY, seq INTEGER, workload TEXT, accelerator TEXT, params TEXT,
    status TEXT NOT NULL, error TEXT, {", ".join(f"{m} REAL" for m in METRICS)},
    seconds REAL, finished_at TEXT, details TEXT, provenance TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


class Store:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / FILE_NAME
        self.db = sqlite3.connect(self.path)
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def known(self) -> dict[str, dict[str, Any]]:
        """Every stored row by input hash."""
        return {row["input_hash"]: row for row in self.rows()}

    def rows(self, hashes: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Stored rows (only ``hashes`` when given, in that order), JSON columns decoded."""
        cursor = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM variants ORDER BY seq")
        rows = {}
        for values in cursor:
            row = dict(zip(COLUMNS, values, strict=True))
            for column in JSON_COLUMNS:
                row[column] = json.loads(row[column] or "{}")
            rows[row["input_hash"]] = row
        if hashes is None:
            return list(rows.values())
        return [rows[h] for h in dict.fromkeys(hashes) if h in rows]

    def put(self, row: dict[str, Any]) -> None:
        """Insert or replace one row and commit."""
        values = {**row, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        for column in JSON_COLUMNS:
            values[column] = json.dumps(values.get(column, {}), sort_keys=True, default=str)
        marks = ", ".join("?" for _ in COLUMNS)
        self.db.execute(
            f"INSERT OR REPLACE INTO variants ({', '.join(COLUMNS)}) VALUES ({marks})",
            [values.get(c) for c in COLUMNS],
        )
        self.db.commit()

    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))
        self.db.commit()

    def meta(self, key: str, default: Any = None) -> Any:
        found = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(found[0]) if found else default
