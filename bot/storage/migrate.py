"""Applying the Alembic migrations shipped in ``bot/storage/migrations``.

Used by ``python -m bot db upgrade`` and at start-up when ``DATABASE_AUTO_UPGRADE`` is on.
Several replicas may start at once: on PostgreSQL an advisory lock serialises the upgrade,
on SQLite the ``BEGIN IMMEDIATE`` transaction does.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from bot.storage.errors import SchemaOutOfDateError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Arbitrary constant naming "this bot's schema upgrade" among PostgreSQL advisory locks.
_UPGRADE_LOCK_KEY = 0x48_41_43_4B_42_4F_54


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a migration
        raise RuntimeError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, target: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the schema to ``target``; returns the revisions before and after."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK_KEY})")
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(_config(connection), target)
        after = MigrationContext.configure(connection).get_current_revision()
    return before, after


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> None:
    """Bring the schema to the newest revision, or refuse when upgrading is switched off."""
    head = head_revision()
    if auto_upgrade:
        if current_revision(engine) != head:
            upgrade(engine)
        return
    current = current_revision(engine)
    if current != head:
        raise SchemaOutOfDateError(current, head)
