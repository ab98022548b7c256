"""Opening the database named by the settings: engine, connection check, schema upgrade."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from bot.settings import Settings
from bot.storage.engine import (
    check_connection,
    describe_location,
    is_in_memory,
    make_engine,
    parse_database_url,
)
from bot.storage.errors import NoDatabaseError, SchemaNotCurrentError
from bot.storage.migrate import current_revision, ensure_schema, head_revision


@dataclass(frozen=True, slots=True)
class Database:
    """An engine whose database was reachable and whose schema is current when opened."""

    engine: Engine

    @classmethod
    def open(cls, settings: Settings, *, upgrade: bool | None = None) -> Database:
        """Connect and bring the schema up to date (``upgrade`` overrides the setting)."""
        engine = make_engine(settings.database_url)
        try:
            check_connection(engine)
            auto = settings.database_auto_upgrade if upgrade is None else upgrade
            ensure_schema(engine, auto_upgrade=auto)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @classmethod
    def open_existing(cls, settings: Settings) -> Database:
        """Open a database that already exists with the current schema, for reading.

        Creates nothing and migrates nothing (the curators' commands): no SQLite file is made
        where there was none, and an old schema is reported, not upgraded.
        """
        url = parse_database_url(settings.database_url)
        where = describe_location(url)
        is_file = url.get_backend_name() == "sqlite" and not is_in_memory(url)
        if is_file and not Path(str(url.database)).is_file():
            raise NoDatabaseError(where)
        engine = make_engine(settings.database_url)
        try:
            check_connection(engine)
            current, head = current_revision(engine), head_revision()
            if current != head:
                raise SchemaNotCurrentError(where, current, head)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def location(self) -> str:
        return describe_location(self.engine.url)

    def close(self) -> None:
        self.engine.dispose()
