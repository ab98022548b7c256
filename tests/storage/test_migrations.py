"""Schema migrations: the initial migration builds the tables the models describe."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Index, MetaData, inspect

from bot.storage.database import Database
from bot.storage.engine import make_engine
from bot.storage.errors import SchemaOutOfDateError
from bot.storage.migrate import current_revision, head_revision, upgrade
from bot.storage.models import Base
from bot.storage.oauth import build_stores
from tests.storage.conftest import make_settings

REPO = Path(__file__).resolve().parents[2]


def test_upgrade_builds_the_tables_of_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        before, after = upgrade(engine)
        assert (before, after) == (None, head_revision())
        assert upgrade(engine) == (after, after)  # a second upgrade does nothing

        # Alembic's own comparison: the migrated schema and the models do not differ, and
        # neither do slack_sdk's own definitions of its installation and OAuth state tables.
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, expected_schema()) == []
        tables = set(inspect(engine).get_table_names())
        assert {"replies", "reply_votes", "clarify_choices", "alembic_version"} <= tables
        assert {"slack_installations", "slack_bots", "slack_oauth_states"} <= tables
    finally:
        engine.dispose()


def expected_schema() -> MetaData:
    """The bot's models plus slack_sdk's tables (with the bot's unique index on the state)."""
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    engine = make_engine("sqlite://")
    installations, states = build_stores(engine, "client")
    for table in (*installations.metadata.sorted_tables, *states.metadata.sorted_tables):
        table.to_metadata(metadata)
    engine.dispose()
    oauth_states = metadata.tables["slack_oauth_states"]
    Index("slack_oauth_states_state_idx", oauth_states.c.state, unique=True)
    return metadata


def test_opening_upgrades_when_the_setting_asks(database_url: str) -> None:
    database = Database.open(make_settings(database_url, database_auto_upgrade=True))
    try:
        assert current_revision(database.engine) == head_revision()
    finally:
        database.close()


def test_opening_refuses_an_old_schema_when_upgrading_is_off(database_url: str) -> None:
    with pytest.raises(SchemaOutOfDateError, match="python -m bot db upgrade"):
        Database.open(make_settings(database_url, database_auto_upgrade=False))
    engine = make_engine(database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    Database.open(make_settings(database_url, database_auto_upgrade=False)).close()


UPGRADER = """
import sys, time
from pathlib import Path
from bot.settings import Secret, Settings
from bot.storage.database import Database

go = Path(sys.argv[2])
deadline = time.monotonic() + 30
while not go.exists():
    assert time.monotonic() < deadline, "never told to go"
    time.sleep(0.005)
Database.open(Settings(database_url=sys.argv[1], user_hash_secret=Secret("s" * 32))).close()
"""


@pytest.mark.slow
async def test_replicas_starting_at_once_upgrade_the_schema_once(
    database_url: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    starting = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            UPGRADER,
            database_url,
            str(go),
            env=environment,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    go.touch()
    for process in starting:
        _out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, err.decode()
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
