"""``python -m bot db`` and ``purge``, and what a database that cannot be reached looks like."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.core.reply import ReplyKind
from bot.ports import ReplyRecord, Vote
from bot.settings import Settings, SettingsError
from bot.storage.database import Database
from bot.storage.migrate import head_revision
from bot.storage.models import ChoiceRow, ReplyRow, VoteRow
from bot.storage.oauth import build_stores
from bot.storage.store import SqlReplyStore
from tests.storage.conftest import TEST_SECRET, make_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def environment(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("USER_HASH_SECRET", TEST_SECRET.reveal())
    return database_url


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_db_upgrade_then_current(environment: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "current"]) == 1
    assert "empty" in capsys.readouterr().out

    assert main(["db", "upgrade"]) == 0
    assert f"upgraded from empty to {head_revision()}" in capsys.readouterr().out

    assert main(["db", "upgrade"]) == 0
    assert f"already at {head_revision()}" in capsys.readouterr().out

    assert main(["db", "current"]) == 0
    assert "up to date" in capsys.readouterr().out


async def test_purge_deletes_old_rows_and_says_how_many(
    environment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    store = SqlReplyStore.open(make_settings(environment))
    try:
        for reply_id, age_days in (("old1", 91), ("old2", 400), ("new1", 89), ("new2", 0)):
            await store.record_reply(
                ReplyRecord(
                    reply_id=reply_id,
                    created_at=now - timedelta(days=age_days),
                    team_id="T1",
                    channel_type="im",
                    kind=ReplyKind.CLARIFY.value,
                    intent=None,
                    confidence=0.4,
                    latency_ms=2.0,
                    user_id="U1",
                    question="which companies",
                )
            )
        for reply_id in ("old1", "new1"):
            await store.record_vote(reply_id=reply_id, user_id="U2", vote=Vote.DOWN)
            await store.record_choice(reply_id=reply_id, user_id="U2", chosen_intent=None)
        await store.flush()

        assert main(["purge"]) == 0
        assert capsys.readouterr().out.strip() == (
            "Deleted 2 replies older than 90 days (with 1 vote and 1 clarify choice)."
        )
        with store.database.engine.connect() as connection:
            left = connection.execute(select(ReplyRow.reply_id).order_by(ReplyRow.reply_id))
            assert list(left.scalars()) == ["new1", "new2"]
            for table in (VoteRow, ChoiceRow):
                count = connection.execute(select(func.count()).select_from(table)).scalar_one()
                assert count == 1

        assert main(["purge"]) == 0
        assert capsys.readouterr().out.startswith("Deleted 0 replies older than 90 days")
    finally:
        await store.aclose()


@pytest.mark.parametrize("command", [["db", "upgrade"], ["purge"], ["db", "current"]])
def test_an_unreachable_database_names_the_host_never_the_password(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _closed_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://curator:Sup3rS3cretPw@127.0.0.1:{port}/bot")
    monkeypatch.setenv("USER_HASH_SECRET", TEST_SECRET.reveal())

    assert main(command) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"host 127.0.0.1:{port}" in captured.err
    assert "DATABASE_URL" in captured.err
    assert "Sup3rS3cretPw" not in captured.err
    assert "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_the_real_process_exits_with_status_2(tmp_path: Path) -> None:
    port = _closed_port()
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgresql+psycopg://curator:Sup3rS3cretPw@127.0.0.1:{port}/bot",
        "PYTHONPATH": str(REPO),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr
    assert "Sup3rS3cretPw" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://root@localhost/bot", "must name a sqlite:/// file or a postgresql:// server"),
        ("not a url", "is not a database URL"),
        ("postgresql+psycopg2://u@h/db", "psycopg 3"),
    ],
)
def test_a_database_url_we_cannot_use_is_a_settings_error(
    url: str, problem: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["purge"]) == 2
    assert problem in capsys.readouterr().err


def test_a_sqlite_file_that_cannot_be_opened_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-directory" / "bot.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    assert main(["db", "upgrade"]) == 2
    assert f"SQLite file {missing}" in capsys.readouterr().err


@pytest.mark.postgres
def test_a_server_database_needs_a_user_hash_secret(postgres_url: str) -> None:
    with pytest.raises(SettingsError, match="USER_HASH_SECRET: is required"):
        SqlReplyStore.open(Settings(database_url=postgres_url))


def test_purge_deletes_expired_install_states(
    environment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    database = Database.open(make_settings(environment))
    try:
        _installations, states = build_stores(database.engine, "client")
        live = states.issue()
        table = states.oauth_states
        an_hour_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
        with database.engine.begin() as connection:
            connection.execute(table.insert().values(state="expired", expire_at=an_hour_ago))

        assert main(["purge"]) == 0
        assert "Deleted 1 expired install link." in capsys.readouterr().out
        with database.engine.connect() as connection:
            left = connection.execute(select(table.c.state)).scalars().all()
        assert left == [live]
    finally:
        database.close()
