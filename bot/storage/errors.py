"""Errors the storage layer raises, shaped so the command line can report them in one line.

They subclass :class:`~bot.settings.SettingsError`: a database that cannot be reached or a
schema that is out of date is a deployment setting to fix, so the CLI exits with status 2.
Messages name the host or file, never a password.
"""

from __future__ import annotations

from bot.settings import SettingsError


class DatabaseUnavailableError(SettingsError):
    """``DATABASE_URL`` names a database that cannot be opened."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__("DATABASE_URL", f"cannot connect to the database at {where}: {reason}")
        self.where = where


class SchemaOutOfDateError(SettingsError):
    """The database schema is older than this code and automatic upgrade is off."""

    def __init__(self, current: str | None, head: str) -> None:
        super().__init__(
            "DATABASE_AUTO_UPGRADE",
            f"is off and the database schema is at {current or 'nothing'}, not {head}; "
            "run 'python -m bot db upgrade'",
        )


class NoDatabaseError(SettingsError):
    """A read-only command found no database where ``DATABASE_URL`` points (it creates none)."""

    def __init__(self, where: str) -> None:
        super().__init__(
            "DATABASE_URL",
            f"there is no database at {where}: nothing has been stored yet "
            "('python -m bot serve' stores replies; 'python -m bot demo' makes a sample one)",
        )
        self.where = where


class SchemaNotCurrentError(SettingsError):
    """A read-only command found a schema older (or newer) than this code; it migrates nothing."""

    def __init__(self, where: str, current: str | None, head: str) -> None:
        state = f"at {current}" if current else "empty"
        super().__init__(
            "DATABASE_URL",
            f"the schema of the database at {where} is {state}, not {head}; "
            "run 'python -m bot db upgrade'",
        )
