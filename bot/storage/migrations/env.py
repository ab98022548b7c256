"""Alembic's environment: run migrations on the connection :mod:`bot.storage.migrate` hands in.

There is no ``alembic.ini``; the bot builds the configuration itself, so that the database URL
comes from the settings like everything else.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bot.storage.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("run migrations with 'python -m bot db upgrade', not the alembic command")
_run(_connection)
