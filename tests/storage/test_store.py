"""The SQL reply store: every stored field and every privacy rule, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.reply import ReplyKind
from bot.ports import ReplyRecord, ReplyStore, Vote, VoteOutcome
from bot.settings import Settings
from bot.storage.models import QUESTION_MAX, ChoiceRow, ReplyRow, VoteRow
from bot.storage.store import SqlReplyStore
from tests.storage.conftest import TEST_SECRET, dump_database, make_settings, table_counts

QUESTION = "what did the engineers build at the hackathon"
USER = "U0TESTUSER1"
MOMENT = datetime(2024, 3, 5, 14, 30, 15, 123000, tzinfo=UTC)


def record(
    reply_id: str = "R1",
    kind: ReplyKind | str = ReplyKind.ANSWER,
    *,
    question: str = QUESTION,
    user_id: str | None = USER,
    intent: str | None = "what-was-built",
    created_at: datetime = MOMENT,
    confidence: float = 0.82,
    latency_ms: float = 3.25,
) -> ReplyRecord:
    return ReplyRecord(
        reply_id=reply_id,
        created_at=created_at,
        team_id="T0TEAM",
        channel_type="channel",
        kind=str(kind),
        intent=intent,
        confidence=confidence,
        latency_ms=latency_ms,
        user_id=user_id,
        question=question,
    )


def expected_hash(user_id: str) -> str:
    return hmac.new(TEST_SECRET.reveal().encode(), user_id.encode(), hashlib.sha256).hexdigest()


def reply_rows(store: SqlReplyStore) -> list[ReplyRow]:
    with Session(store.database.engine) as session:
        return list(session.scalars(select(ReplyRow).order_by(ReplyRow.id)))


def all_values(store: SqlReplyStore) -> list[object]:
    return [value for _table, row in dump_database(store.database.engine) for value in row.values()]


def test_the_sql_store_satisfies_the_port(store: SqlReplyStore) -> None:
    port: ReplyStore = store
    assert port is store


async def test_an_answer_keeps_every_field_but_the_text(store: SqlReplyStore) -> None:
    await store.record_reply(record())
    await store.flush()

    [row] = reply_rows(store)
    assert row.reply_id == "R1"
    assert row.created_at == MOMENT
    assert row.created_at.tzinfo is not None
    assert row.team_id == "T0TEAM"
    assert row.channel_type == "channel"
    assert row.kind == "answer"
    assert row.intent == "what-was-built"
    assert row.confidence == pytest.approx(0.82)
    assert row.latency_ms == pytest.approx(3.25)
    assert row.user_hash == expected_hash(USER)
    assert row.question is None


async def test_the_raw_user_id_is_never_stored(store: SqlReplyStore) -> None:
    await store.record_reply(record("R1", ReplyKind.CLARIFY))
    await store.record_vote(reply_id="R1", user_id=USER, vote=Vote.UP)
    await store.record_choice(reply_id="R1", user_id=USER, chosen_intent="what-was-built")
    await store.flush()

    values = [str(value) for value in all_values(store)]
    assert not any(USER in value for value in values)
    assert expected_hash(USER) in values


@pytest.mark.parametrize("kind", [ReplyKind.CLARIFY, ReplyKind.NOT_IN_SOURCE, ReplyKind.FALLBACK])
async def test_unanswered_kinds_keep_the_question_text(
    store: SqlReplyStore, kind: ReplyKind
) -> None:
    await store.record_reply(record(kind=kind, intent=None))
    await store.flush()
    [row] = reply_rows(store)
    assert row.kind == kind.value
    assert row.question == QUESTION


@pytest.mark.parametrize("kind", [ReplyKind.ANSWER, ReplyKind.SMALLTALK])
async def test_answered_kinds_never_keep_the_question_text(
    store: SqlReplyStore, kind: ReplyKind
) -> None:
    await store.record_reply(record(kind=kind))
    await store.flush()
    assert QUESTION not in all_values(store)


@pytest.mark.parametrize("kind", [ReplyKind.SAFEGUARDING, ReplyKind.REFUSAL])
async def test_safeguarding_and_refusal_rows_keep_the_kind_alone(
    store: SqlReplyStore, kind: ReplyKind
) -> None:
    question = "someone online is grooming my child"
    await store.record_reply(record("R-private", kind, question=question, intent=None))
    await store.flush()

    [row] = reply_rows(store)
    assert row.kind == kind.value
    assert row.created_at == MOMENT
    assert (row.question, row.user_hash, row.team_id, row.channel_type) == (None, None, None, None)
    assert (row.intent, row.confidence, row.latency_ms) == (None, None, None)
    # Not even Slack's reply id: nothing can link the row back to a message or a person.
    assert row.reply_id != "R-private"
    values = [str(value) for value in all_values(store)]
    assert not any(question in value or USER in value for value in values)
    assert expected_hash(USER) not in values
    # So a vote on such a reply finds nothing and writes nothing.
    before = table_counts(store.database.engine)
    outcome = await store.record_vote(reply_id="R-private", user_id=USER, vote=Vote.DOWN)
    assert outcome is VoteOutcome.UNKNOWN_REPLY
    assert table_counts(store.database.engine) == before


async def test_with_text_retention_off_no_question_text_is_written(database_url: str) -> None:
    store = SqlReplyStore.open(make_settings(database_url, store_question_text=False))
    try:
        for number, kind in enumerate(ReplyKind):
            await store.record_reply(record(f"R{number}", kind, question=f"{QUESTION} {number}"))
        await store.flush()
        rows = reply_rows(store)
        assert len(rows) == len(ReplyKind)
        assert all(row.question is None for row in rows)
        assert not any(QUESTION in str(value) for value in all_values(store))
    finally:
        await store.aclose()


async def test_one_vote_per_person_per_reply_which_they_may_change(store: SqlReplyStore) -> None:
    await store.record_reply(record("R1"))
    assert (
        await store.record_vote(reply_id="R1", user_id="U1", vote=Vote.UP) is VoteOutcome.RECORDED
    )
    assert await store.record_vote(reply_id="R1", user_id="U1", vote=Vote.UP) is (
        VoteOutcome.UNCHANGED
    )
    assert await store.record_vote(reply_id="R1", user_id="U1", vote=Vote.DOWN) is (
        VoteOutcome.CHANGED
    )
    assert await store.record_vote(reply_id="R1", user_id="U2", vote=Vote.UP) is (
        VoteOutcome.RECORDED
    )

    with Session(store.database.engine) as session:
        votes = {row.user_hash: row.vote for row in session.scalars(select(VoteRow))}
    assert votes == {expected_hash("U1"): "down", expected_hash("U2"): "up"}


async def test_a_vote_right_after_its_reply_is_not_lost(store: SqlReplyStore) -> None:
    # The reply is still queued when the vote arrives; the vote must wait for it.
    for number in range(50):
        await store.record_reply(record(f"R{number}"))
        outcome = await store.record_vote(reply_id=f"R{number}", user_id="U1", vote=Vote.UP)
        assert outcome is VoteOutcome.RECORDED


async def test_a_vote_for_an_unknown_reply_writes_nothing(store: SqlReplyStore) -> None:
    await store.record_reply(record("R1"))
    await store.flush()
    before = table_counts(store.database.engine)
    for reply_id in ("NOPE", "", "x" * 500):
        outcome = await store.record_vote(reply_id=reply_id, user_id="U1", vote=Vote.UP)
        assert outcome is VoteOutcome.UNKNOWN_REPLY
        assert await store.record_choice(reply_id=reply_id, user_id="U1", chosen_intent=None) is (
            False
        )
    assert table_counts(store.database.engine) == before


async def test_did_you_mean_choices_including_none_of_these(store: SqlReplyStore) -> None:
    await store.record_reply(record("C1", ReplyKind.CLARIFY, intent=None))
    await store.record_reply(record("C2", ReplyKind.CLARIFY, intent=None))
    assert await store.record_choice(reply_id="C1", user_id="U1", chosen_intent="what-was-built")
    assert await store.record_choice(reply_id="C2", user_id="U1", chosen_intent=None)
    # Choosing again replaces the earlier choice.
    assert await store.record_choice(reply_id="C1", user_id="U1", chosen_intent="who-took-part")

    with store.database.engine.connect() as connection:
        rows = connection.execute(
            select(ReplyRow.reply_id, ChoiceRow.chosen_intent, ChoiceRow.user_hash)
            .join(ChoiceRow, ChoiceRow.reply_pk == ReplyRow.id)
            .order_by(ReplyRow.reply_id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("C1", "who-took-part", expected_hash("U1")),
        ("C2", None, expected_hash("U1")),
    ]


async def test_a_reply_recorded_twice_is_stored_once(store: SqlReplyStore) -> None:
    await store.record_reply(record("R1", confidence=0.5))
    await store.record_reply(record("R1", confidence=0.9))
    await store.flush()
    [row] = reply_rows(store)
    assert row.confidence == pytest.approx(0.5)


async def test_times_are_kept_in_utc(store: SqlReplyStore) -> None:
    plus_two = timezone(timedelta(hours=2))
    await store.record_reply(record("R1", created_at=MOMENT.astimezone(plus_two)))
    await store.record_reply(record("R2", created_at=MOMENT.replace(tzinfo=None)))
    await store.flush()
    assert [row.created_at for row in reply_rows(store)] == [MOMENT, MOMENT]


async def test_question_text_is_cleaned_and_bounded(store: SqlReplyStore) -> None:
    await store.record_reply(record("R1", ReplyKind.FALLBACK, question="a\x00b " + "z" * 5000))
    await store.record_reply(record("R2", ReplyKind.FALLBACK, question="   "))
    await store.flush()
    first, second = reply_rows(store)
    assert first.question is not None
    assert first.question.startswith("ab ")
    assert len(first.question) == QUESTION_MAX
    assert second.question is None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (record(kind="shouting"), "unknown reply kind"),
        (record(reply_id=""), "reply_id is empty"),
        (record(reply_id="r" * 129), "reply_id is longer"),
        (record(confidence=float("nan")), "confidence must be a finite number"),
        (record(latency_ms=-1.0), "latency_ms must be at least"),
        (record(intent=""), "intent must be"),
    ],
)
async def test_bad_records_are_refused_before_anything_is_queued(
    store: SqlReplyStore, bad: ReplyRecord, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await store.record_reply(bad)
    await store.flush()
    assert reply_rows(store) == []


async def test_bad_votes_and_choices_are_refused(store: SqlReplyStore) -> None:
    await store.record_reply(record("R1"))
    with pytest.raises(ValueError):
        await store.record_vote(reply_id="R1", user_id="U1", vote="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="user_id is empty"):
        await store.record_vote(reply_id="R1", user_id=" ", vote=Vote.UP)
    with pytest.raises(ValueError, match="intent must be"):
        await store.record_choice(reply_id="R1", user_id="U1", chosen_intent="i" * 500)
    await store.flush()
    assert table_counts(store.database.engine).get("reply_votes", 0) == 0


async def test_recording_a_reply_does_not_wait_for_the_database(store: SqlReplyStore) -> None:
    gate = threading.Event()
    blocked = store.writer.call(lambda: gate.wait(30))  # the writer thread is busy
    try:
        await store.record_reply(record("R1"))  # returns although nothing can be written yet
        assert store.writer.pending >= 1
        assert reply_rows(store) == []
    finally:
        gate.set()
    assert blocked.result(30) is True
    await store.flush()
    assert [row.reply_id for row in reply_rows(store)] == ["R1"]


async def test_a_full_queue_drops_and_counts_reply_records(settings: Settings) -> None:
    store = SqlReplyStore.open(settings)
    gate = threading.Event()
    try:
        store.writer.call(lambda: gate.wait(30))
        await store.record_reply(record("R0"))
        store.writer._queue.maxsize = store.writer.pending  # no room for one more
        await store.record_reply(record("R1"))
        assert store.writer.stats.replies_dropped == 1
    finally:
        gate.set()
        await store.aclose()


async def test_closing_writes_what_was_queued_then_refuses(settings: Settings) -> None:
    store = SqlReplyStore.open(settings)
    await store.record_reply(record("R1"))
    await store.aclose()
    reopened = SqlReplyStore.open(settings)
    try:
        assert [row.reply_id for row in reply_rows(reopened)] == ["R1"]
    finally:
        await reopened.aclose()
    await store.record_reply(record("R2"))
    assert store.writer.stats.replies_dropped == 1
    with pytest.raises(RuntimeError, match="closed"):
        await store.record_vote(reply_id="R1", user_id="U1", vote=Vote.UP)
