"""Opening the database named by the settings: engine, connection check, schema upgrade."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bot.settings import Settings
from bot.storage.engine import check_connection, describe_location, make_engine
from bot.storage.migrate import ensure_schema


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

    @property
    def location(self) -> str:
        return describe_location(self.engine.url)

    def close(self) -> None:
        self.engine.dispose()
