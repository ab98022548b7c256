"""Turning ``DATABASE_URL`` into a SQLAlchemy engine that is safe to share between processes.

SQLite (the default, a file) gets WAL journalling, a generous busy timeout and ``BEGIN
IMMEDIATE`` transactions, so that two processes writing at once queue up instead of failing.
PostgreSQL URLs are pointed at psycopg 3. Connection failures become
:class:`~bot.storage.errors.DatabaseUnavailableError`, naming the host and never the password.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from bot.settings import SettingsError
from bot.storage.errors import DatabaseUnavailableError

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_S = 5


def parse_database_url(raw: str) -> URL:
    """Parse and normalise a database URL: PostgreSQL always goes through psycopg 3."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise SettingsError("DATABASE_URL", "is not a database URL") from None
    backend = url.get_backend_name()
    if backend == "postgres":
        url = url.set(drivername="postgresql+psycopg")
    elif backend == "postgresql":
        if url.get_driver_name() not in ("psycopg", "psycopg2"):
            url = url.set(drivername="postgresql+psycopg")
        elif url.get_driver_name() == "psycopg2":
            raise SettingsError("DATABASE_URL", "use postgresql+psycopg:// (psycopg 3)")
    elif backend == "sqlite":
        if url.get_driver_name() not in ("pysqlite", ""):
            raise SettingsError("DATABASE_URL", "use sqlite:///PATH for SQLite")
    else:
        raise SettingsError("DATABASE_URL", "must name a sqlite:/// file or a postgresql:// server")
    return url


def is_in_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def describe_location(url: URL) -> str:
    """Where the database lives, for messages: a file or a host, never credentials."""
    if url.get_backend_name() == "sqlite":
        return (
            "an in-memory SQLite database" if is_in_memory(url) else f"SQLite file {url.database}"
        )
    host = url.host or "the local socket"
    port = f":{url.port}" if url.port else ""
    return f"host {host}{port} (database {url.database or 'default'})"


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN itself (the pysqlite driver's own is lazy).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def make_engine(raw_url: str) -> Engine:
    """Create (but do not yet connect) the engine for ``raw_url``."""
    url = parse_database_url(raw_url)
    if url.get_backend_name() == "sqlite":
        memory = is_in_memory(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # An in-memory database exists per connection: share one.
            poolclass=StaticPool if memory else None,
        )
        event.listen(engine, "connect", _sqlite_on_connect)

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            # Take the write lock up front: a read that later writes never hits SQLITE_BUSY.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def _safe_reason(error: DBAPIError, url: URL) -> str:
    text = str(error.orig) if error.orig is not None else type(error).__name__
    reason = next((line.strip() for line in text.splitlines() if line.strip()), "unknown error")
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return reason[:300]


def check_connection(engine: Engine) -> None:
    """Open one connection; raise :class:`DatabaseUnavailableError` when that fails."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except DBAPIError as error:
        raise DatabaseUnavailableError(
            describe_location(engine.url), _safe_reason(error, engine.url)
        ) from None
