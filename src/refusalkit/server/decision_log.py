"""The decision log: one row per API request, written as the request goes, in SQLite (one
server) or PostgreSQL (replicas sharing one log), through SQLAlchemy Core.

A row is inserted when the request arrives and updated at each decision, each in its own
committed transaction, so a server killed mid-stream leaves every row it had started.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from refusalkit.errors import ConfigError, RefusalkitError

log = logging.getLogger("refusalkit.server")
SCHEMA_VERSION = 1
TRIM_EVERY = 500  # inserts between retention passes

metadata = sa.MetaData()
decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("created", sa.Float, nullable=False, index=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("model", sa.Text),
    sa.Column("stage", sa.Text),  # input | output | null (nothing flagged)
    sa.Column("action", sa.Text, nullable=False),  # in_progress | pass | block | flag | ...
    sa.Column("category", sa.Text),
    sa.Column("input_score", sa.Float),
    sa.Column("output_score", sa.Float),
    sa.Column("classifier_error", sa.Integer, nullable=False, server_default="0"),
    sa.Column("completion_tokens", sa.Integer),
    sa.Column("latency_ms", sa.Float),
    sa.Column("detail", sa.Text),
    sa.Column("prompt", sa.Text),
)
schema_table = sa.Table(
    "refusalkit_schema", metadata, sa.Column("version", sa.Integer, nullable=False)
)
FIELDS = tuple(column.name for column in decisions.columns)


class DecisionLogError(RefusalkitError):
    """The log database failed while serving (gone, full, refusing connections)."""

    exit_code = 1


def database_url(value: str | Path) -> URL:
    """A database URL from `sqlite:///PATH`, `postgresql://…`, or a bare SQLite file path."""
    text = str(value)
    if "://" not in text:
        return URL.create("sqlite", database=str(Path(text).expanduser()))
    try:
        url = make_url(text)
    except (sa.exc.ArgumentError, ValueError):
        raise ConfigError(
            f"[server] decision_log {text!r} is not a database URL; use sqlite:///PATH or "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        ) from None
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg")  # psycopg 3, whatever the URL named
    if url.get_backend_name() != "sqlite":
        raise ConfigError(
            f"[server] decision_log: {url.get_backend_name()} is not supported; use sqlite:///PATH "
            "or postgresql://…"
        )
    return url


def _sqlite_engine(url: URL) -> Engine:
    path = Path(url.database or "")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the folder of the decision log {path}: {exc.strerror}; set [server] "
            "decision_log to a writable place"
        ) from None
    engine = sa.create_engine(url, connect_args={"check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _wal(connection: Any, _: Any) -> None:
        # WAL + NORMAL: a committed row survives the process being killed.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=5000")

    return engine


class DecisionLog:
    def __init__(
        self, url: str | Path, keep_prompts: bool, retention_days: float, max_rows: int
    ) -> None:
        self.url = database_url(url)
        #: where the log is, for messages: no password
        self.location = (
            str(self.url.database)
            if self.url.get_backend_name() == "sqlite"
            else self.url.render_as_string(hide_password=True)
        )
        self.keep_prompts = keep_prompts
        self.retention_s = retention_days * 86400
        self.max_rows = max_rows
        self._inserts = 0
        self._count_lock = threading.Lock()
        is_sqlite = self.url.get_backend_name() == "sqlite"
        # SQLite has one writer; PostgreSQL takes concurrent writers from the pool.
        self._write_lock: Any = threading.Lock() if is_sqlite else nullcontext()
        if is_sqlite:
            self.engine = _sqlite_engine(self.url)
        else:
            self.engine = sa.create_engine(
                self.url, pool_pre_ping=True, pool_size=8, connect_args={"connect_timeout": 5}
            )
        try:
            self._create_schema()
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            raise ConfigError(
                f"cannot open the decision log {self.location}: {_reason(exc)}; check [server] "
                "decision_log (a writable SQLite file, or a PostgreSQL server, user and password "
                "that accept connections)"
            ) from None
        self.trim()

    def _create_schema(self) -> None:
        with self.engine.begin() as connection:
            metadata.create_all(connection)
            version = connection.execute(sa.select(schema_table.c.version)).scalar()
            if version is None:
                connection.execute(schema_table.insert().values(version=SCHEMA_VERSION))
            elif version > SCHEMA_VERSION:
                raise ConfigError(
                    f"the decision log {self.location} has schema version {version}, newer than "
                    f"this refusalkit's {SCHEMA_VERSION}: upgrade refusalkit or use another log"
                )

    def _write(self, statement: sa.Executable, strict: bool = False) -> None:
        """One committed statement. A failure raises when `strict` (a request must not be
        served without its row); otherwise it is logged: the row exists, its update is lost."""
        try:
            with self._write_lock, self.engine.begin() as connection:
                connection.execute(statement)
        except sa.exc.SQLAlchemyError as exc:
            message = f"the decision log {self.location} is unavailable: {_reason(exc)}"
            if strict:
                raise DecisionLogError(message) from None
            log.warning("%s (a row keeps its earlier values)", message)

    def start(self, request_id: str, path: str) -> None:
        """The request's row; raises DecisionLogError when the log cannot take it."""
        self._write(
            decisions.insert().values(
                request_id=request_id, created=time.time(), path=path, action="in_progress"
            ),
            strict=True,
        )
        with self._count_lock:
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
        if values:
            self._write(
                decisions.update().where(decisions.c.request_id == request_id).values(**values)
            )

    def trim(self) -> None:
        """Retention: drop rows older than the retention period, then the oldest over the cap."""
        self._write(decisions.delete().where(decisions.c.created < time.time() - self.retention_s))
        newest_first = sa.select(decisions.c.request_id).order_by(decisions.c.created.desc())
        over_cap = newest_first.offset(self.max_rows)
        self._write(decisions.delete().where(decisions.c.request_id.in_(over_cap)))

    def rows(self, since: float | None = None) -> list[dict[str, Any]]:
        """Rows in arrival order; `since`: only those created at or after that time."""
        query = sa.select(decisions).order_by(decisions.c.created)
        if since is not None:
            query = query.where(decisions.c.created >= since)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def close(self) -> None:
        self.engine.dispose()


def _reason(exc: sa.exc.SQLAlchemyError) -> str:
    """The driver's own words, on one line, without SQLAlchemy's statement dump."""
    original = getattr(exc, "orig", None) or exc
    return " ".join(str(original).split())[:300]
