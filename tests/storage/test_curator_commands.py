"""The curators' commands read and never write (issue 11, defect 13): ``report`` and
``suggest`` create no database and migrate none; the Markdown report links nothing people
typed; ``demo`` makes a throwaway database to look at."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.cli import main
from bot.ports import ReplyRecord
from bot.storage.report import render_markdown
from bot.storage.store import SqlReplyStore
from tests.storage.conftest import make_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", [["report", "--out", "-"], ["suggest"]])
def test_no_database_is_created_where_there_was_none(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the default: hackathon-bot.db here
    assert main(command) == 2
    assert "there is no database at SQLite file hackathon-bot.db" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["report", "--out", "-"], ["suggest"]])
def test_an_old_schema_is_reported_not_upgraded(
    command: list[str],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:  # a database, but not (yet) the bot's
        connection.execute(text("CREATE TABLE unrelated (id INTEGER)"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(command) == 2
    assert "run 'python -m bot db upgrade'" in capsys.readouterr().err
    with engine.connect() as connection:
        tables = set(
            connection.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    if engine.dialect.name == "sqlite"
                    else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
            ).scalars()
        )
    engine.dispose()
    assert tables == {"unrelated"}  # nothing migrated


async def test_the_markdown_report_links_and_shows_nothing_people_typed(
    database_url: str,
) -> None:
    from bot.core.knowledge import load_knowledge
    from bot.core.router import Router
    from bot.settings import DEFAULT_KNOWLEDGE_DIR
    from bot.storage.curation import collect

    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    store = SqlReplyStore.open(make_settings(database_url))
    hostile = [
        "[click me](javascript:alert(1))",
        "![tracker](https://tracker.example/pixel.png)",
        "see https://phish.example/login now",
        "<img src=x onerror=alert(1)>",
    ]
    try:
        for n, question in enumerate(hostile):
            await store.record_reply(
                ReplyRecord(
                    reply_id=f"R{n}",
                    created_at=datetime.now(UTC),
                    team_id="T1",
                    channel_type="channel",
                    kind="fallback",
                    intent=None,
                    confidence=0.1,
                    latency_ms=1.0,
                    user_id="U1",
                    question=question,
                )
            )
        await store.flush()
        now = datetime.now(UTC)
        data = collect(store.database.engine, kb, Router(kb), days=30, now=now)
        markdown = render_markdown(data, kb, generated_at=now, database="test")
    finally:
        await store.aclose()
    for link in ("](javascript:", "![", "](https://", "https://phish", "<img"):
        assert link not in markdown
    assert "click me" in markdown  # the text stays readable


def test_the_user_hash_key_is_ignored_by_git() -> None:
    assert "*.user-hash-key" in (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()


@pytest.mark.slow
def test_demo_makes_a_database_the_report_and_suggest_can_read(tmp_path: Path) -> None:
    database = tmp_path / "demo" / "demo.db"
    made = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--out", str(database), "--replies", "200"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    url = f"sqlite:///{database.resolve()}"
    assert f"DATABASE_URL={url} python -m bot report" in made.stdout
    assert f"DATABASE_URL={url} python -m bot suggest" in made.stdout
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    report = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--format", "md", "--out", "-"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "200 in all" in report.stdout
    suggest = subprocess.run(
        [sys.executable, "-m", "bot", "suggest"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "- id: " in suggest.stdout
    again = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--out", str(database)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert again.returncode == 2  # never over an existing file
    assert "Traceback" not in again.stderr
