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
