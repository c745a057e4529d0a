"""The decision log: one SQLite row per API request, written as the request goes.

A row is inserted when the request arrives and updated at each decision, each in its own
committed transaction (WAL), so a server killed mid-stream leaves every row it had started.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from refusalkit.errors import ConfigError

COLUMNS = (
    "request_id TEXT PRIMARY KEY",
    "created REAL NOT NULL",
    "path TEXT NOT NULL",
    "status_code INTEGER",
    "model TEXT",
    "stage TEXT",  # input | output | null (nothing flagged)
    "action TEXT NOT NULL",  # in_progress | pass | block | flag | rejected | error | ...
    "category TEXT",
    "input_score REAL",
    "output_score REAL",
    "classifier_error INTEGER NOT NULL DEFAULT 0",
    "completion_tokens INTEGER",
    "latency_ms REAL",
    "detail TEXT",
    "prompt TEXT",
)
FIELDS = tuple(column.split()[0] for column in COLUMNS)
TRIM_EVERY = 500  # inserts between retention passes


class DecisionLog:
    def __init__(
        self, path: Path, keep_prompts: bool, retention_days: float, max_rows: int
    ) -> None:
        self.path = path
        self.keep_prompts = keep_prompts
        self.retention_s = retention_days * 86400
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._inserts = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a committed row survives the process being killed.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"CREATE TABLE IF NOT EXISTS decisions ({', '.join(COLUMNS)})")
            self._db.execute("CREATE INDEX IF NOT EXISTS decisions_created ON decisions(created)")
        except sqlite3.Error as exc:
            raise ConfigError(
                f"cannot open the decision log {path}: {exc}; set [server] log_path to a "
                "writable file"
            ) from None
        self.trim()

    def start(self, request_id: str, path: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO decisions (request_id, created, path, action) VALUES (?, ?, ?, ?)",
                (request_id, time.time(), path, "in_progress"),
            )
            self._inserts += 1
            due = self._inserts % TRIM_EVERY == 0
        if due:
            self.trim()

    def update(self, request_id: str, **values: Any) -> None:
        if "prompt" in values and not self.keep_prompts:
            values.pop("prompt")
        if "detail" in values and not isinstance(values["detail"], str | None):
            values["detail"] = json.dumps(values["detail"], ensure_ascii=False)
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown decision-log fields: {sorted(unknown)}")
        if not values:
            return
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._lock:
            self._db.execute(
                f"UPDATE decisions SET {assignments} WHERE request_id = ?",
                (*values.values(), request_id),
            )

    def trim(self) -> None:
        """Retention: drop rows older than the retention period, then the oldest over the cap."""
        with self._lock:
            self._db.execute(
                "DELETE FROM decisions WHERE created < ?", (time.time() - self.retention_s,)
            )
            self._db.execute(
                "DELETE FROM decisions WHERE request_id IN (SELECT request_id FROM decisions "
                "ORDER BY created DESC LIMIT -1 OFFSET ?)",
                (self.max_rows,),
            )

    def rows(self) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._db.execute(f"SELECT {', '.join(FIELDS)} FROM decisions ORDER BY created")
            return [dict(zip(FIELDS, row, strict=True)) for row in cursor]

    def close(self) -> None:
        with self._lock:
            self._db.close()
