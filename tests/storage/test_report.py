"""The curators' report: what it finds in the stored replies, and the pages it writes."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.knowledge import KnowledgeBase
from bot.core.messages import MessageKey
from bot.core.reply import ReplyKind
from bot.core.router import Router
from bot.storage.curation import CurationData, collect, group_questions
from bot.storage.database import Database
from tests.storage.conftest import SEEDED_AT, TEST_SECRET, make_settings
from tests.storage.curation_data import CHOICES, HISTORY, VOTES

NOW = SEEDED_AT
PRIVATE_QUESTION = "someone online is grooming my child"


def _collect(database_url: str, kb: KnowledgeBase, days: int = 30) -> CurationData:
    database = Database.open(make_settings(database_url))
    try:
        return collect(database.engine, kb, Router(kb), days=days, now=NOW)
    finally:
        database.close()


def test_the_report_data_matches_what_was_stored(seeded: str, kb: KnowledgeBase) -> None:
    data = _collect(seeded, kb)

    assert data.per_kind == dict(Counter(kind.value for _d, kind, *_rest in HISTORY))
    assert data.total == len(HISTORY)
    assert sum(sum(day.values()) for day in data.per_day.values()) == len(HISTORY)
    answered = sum(1 for _d, kind, *_rest in HISTORY if kind is ReplyKind.ANSWER)
    asked = sum(
        1
        for _d, kind, *_rest in HISTORY
        if kind
        in (ReplyKind.ANSWER, ReplyKind.CLARIFY, ReplyKind.NOT_IN_SOURCE, ReplyKind.FALLBACK)
    )
    assert (data.answered, data.asked) == (answered, asked)
    assert data.answer_rate == pytest.approx(answered / asked)

    # The four ways of asking the cost form the biggest group; its nearest entry is the router's.
    biggest = data.unanswered[0]
    assert biggest.count == 4
    assert biggest.representative.lower().startswith("how much did the hackathon cost")
    best = Router(kb).rank(biggest.representative, 1)[0]
    assert biggest.nearest is not None
    assert (biggest.nearest.intent, biggest.nearest.score) == (best.intent, best.probability)
    weather = [group for group in data.unanswered if "weather" in group.representative]
    assert [group.count for group in weather] == [2]
    assert data.unanswered_without_text == 0

    assert [(item.intent, item.up, item.down) for item in data.feedback] == [
        ("prototype-tool", 1, 2),
        ("hackathon-companies", 3, 1),
    ]
    assert len(VOTES) == 7
    assert {(item.intent, item.count) for item in data.choices} == {
        ("hackathon-companies", 1),
        (None, 1),
    }
    assert len(CHOICES) == 2
    assert data.clarify_without_choice == 1

    never = {intent for intent, _question in data.never_matched}
    assert never == {entry.id for entry in kb.entries} - {"hackathon-companies", "prototype-tool"}


def test_since_limits_the_period(seeded: str, kb: KnowledgeBase) -> None:
    data = _collect(seeded, kb, days=2)
    expected = sum(1 for days_ago, *_rest in HISTORY if days_ago < 2)
    assert data.total == expected
    assert all((NOW.date() - day).days <= 2 for day in data.per_day)


def test_similar_questions_are_grouped_and_different_ones_are_not() -> None:
    groups = group_questions(
        [
            "Who chairs the taskforce?",
            "who chairs the  taskforce",
            "who chair the taskforce",
            "who funds the taskforce",
            "how much is the innovation call",
            "who chairs the taskforce",
        ]
    )
    # Repeats (ignoring case, spaces, punctuation) are one phrasing, shown as most often typed.
    assert groups == [
        [("who chairs the taskforce", 3), ("who chair the taskforce", 1)],
        [("how much is the innovation call", 1)],
        [("who funds the taskforce", 1)],
    ]


async def test_the_html_report_is_self_contained_and_escaped(
    seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")

    assert page.startswith("<!DOCTYPE html>")
    assert '<figure id="volume-chart"' in page
    assert "<svg" in page
    for table in ("kinds", "unanswered", "feedback", "choices", "never-matched"):
        assert f'<table id="{table}">' in page
    # Nothing is fetched to view it.
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "<script" not in page
    # What people typed is escaped, and safeguarding questions were never stored.
    assert "&lt;!channel&gt;" in page
    assert "<!channel>" not in page
    assert PRIVATE_QUESTION not in page


async def test_the_markdown_report(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--format", "md", "--out", "-"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# ")
    assert "| Day | Total |" in text
    assert "how much did the hackathon cost" in text
    assert "<" not in text
    assert PRIVATE_QUESTION not in text


def test_an_empty_database_says_so(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kb: KnowledgeBase,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("USER_HASH_SECRET", TEST_SECRET.reveal())
    empty = kb.message(MessageKey.REPORT_EMPTY, days=30)
    out = tmp_path / "report.html"
    assert main(["db", "upgrade"]) == 0  # report itself creates and migrates nothing
    assert main(["report", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert 'id="empty"' in page
    assert "<svg" not in page
    assert main(["report", "--out", "-", "--format", "md"]) == 0
    assert empty in capsys.readouterr().out


@pytest.mark.parametrize("since", ["0", "-3", "lots", "99999"])
def test_a_bad_since_is_a_usage_error(since: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--since", since])
    assert exit_info.value.code == 2
    assert "--since" in capsys.readouterr().err
