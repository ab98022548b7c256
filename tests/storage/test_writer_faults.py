"""The storage writer under faults: a row it cannot encode, a row the database refuses, an
outage shorter than the retry window, and one longer (issue 11, defects 2 and 3)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, OperationalError

import bot.storage.store as store_module
import bot.storage.writer as writer_module
from bot.core.reply import ReplyKind
from bot.ports import Vote, VoteOutcome
from bot.settings import Settings
from bot.storage.store import SqlReplyStore
from tests.storage.test_store import record, reply_rows

DEADLINE = 30.0  # a bound on waits that end much sooner; never a timing assertion


def outage() -> OperationalError:
    return OperationalError("INSERT", {}, Exception("connection refused (simulated)"))


class Switch:
    """Makes a storage function fail with a connection error while ``down`` is set."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.down = threading.Event()
        self.failures = 0
        self.retried = threading.Event()  # failed three times: the writer is retrying

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.down.is_set():
            self.failures += 1
            if self.failures >= 3:
                self.retried.set()
            raise outage()
        return self.real(*args, **kwargs)


async def test_a_lone_surrogate_is_stored_and_the_writer_lives_on(store: SqlReplyStore) -> None:
    # A lone surrogate used to raise UnicodeEncodeError and kill the writer thread for good.
    await store.record_reply(record("R1", ReplyKind.CLARIFY, question="odd \ud800 text\x00"))
    await store.record_reply(record("R2"))
    async with asyncio.timeout(DEADLINE):
        await store.flush()
        outcome = await store.record_vote(reply_id="R2", user_id="U0VOTER1", vote=Vote.UP)
    assert outcome is VoteOutcome.RECORDED
    rows = {row.reply_id: row for row in reply_rows(store)}
    assert set(rows) == {"R1", "R2"}
    assert rows["R1"].question == "odd \ufffd text"
    assert store.writer.alive
    assert store.health() is None


async def test_the_bots_own_mention_is_not_stored(store: SqlReplyStore) -> None:
    await store.record_reply(
        record("R1", ReplyKind.NOT_IN_SOURCE, question="<@UBOT0001> how much did it cost")
    )
    await store.flush()
    assert [row.question for row in reply_rows(store)] == ["how much did it cost"]


async def test_a_row_the_database_refuses_costs_only_that_row(
    store: SqlReplyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = writer_module.insert_replies

    def refusing(engine: Engine, rows: Sequence[dict[str, Any]]) -> None:
        if any(row["reply_id"] == "R-refused" for row in rows):
            raise DataError("INSERT", {}, Exception("value refused (simulated)"))
        real(engine, rows)

    monkeypatch.setattr(writer_module, "insert_replies", refusing)
    gate = threading.Event()
    store.writer.call(lambda: gate.wait(DEADLINE))  # so that all three share one batch
    for reply_id in ("R1", "R-refused", "R3"):
        await store.record_reply(record(reply_id))
    gate.set()
    async with asyncio.timeout(DEADLINE):
        await store.flush()
    assert [row.reply_id for row in reply_rows(store)] == ["R1", "R3"]
    assert store.writer.stats.replies_dropped == 1
    assert store.writer.alive


async def test_an_outage_within_the_retry_window_loses_nothing(
    store: SqlReplyStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Every row and vote used to be dropped, with a warning each, during a 5-second outage.
    inserts = Switch(writer_module.insert_replies)
    votes = Switch(store_module.upsert_vote)
    monkeypatch.setattr(writer_module, "insert_replies", inserts)
    monkeypatch.setattr(store_module, "upsert_vote", votes)
    await store.record_reply(record("R0"))
    async with asyncio.timeout(DEADLINE):
        await store.flush()
    inserts.down.set()
    votes.down.set()
    for n in range(1, 41):
        await store.record_reply(record(f"R{n}"))
    vote = asyncio.ensure_future(store.record_vote(reply_id="R0", user_id="U0V1", vote=Vote.UP))
    assert await asyncio.to_thread(inserts.retried.wait, DEADLINE)
    assert not vote.done()
    inserts.down.clear()
    votes.down.clear()
    async with asyncio.timeout(DEADLINE):
        assert await vote is VoteOutcome.RECORDED
        await store.flush()
    assert len(reply_rows(store)) == 41
    assert store.writer.stats.replies_dropped == 0
    assert store.writer.stats.retries >= 3
    unreachable = [r for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(unreachable) == 1  # once per outage, not once per row


async def test_rows_lost_after_the_retry_window_are_counted_and_logged_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.storage")
    inserts = Switch(writer_module.insert_replies)
    monkeypatch.setattr(writer_module, "insert_replies", inserts)
    lost: list[int] = []
    store = SqlReplyStore.open(settings)
    store.writer._retry_seconds = 0.2
    store.writer.on_lost = lost.append
    try:
        inserts.down.set()
        for n in range(5):
            await store.record_reply(record(f"R{n}"))
            async with asyncio.timeout(DEADLINE):
                await store.flush()
        assert store.writer.stats.replies_dropped == 5
        assert sum(lost) == 5
        assert store.writer.alive
        messages = [r.getMessage() for r in caplog.records if r.name.startswith("bot.storage")]
        assert sum("cannot be reached" in m for m in messages) == 1
        assert sum("could not store" in m for m in messages) == 1
        inserts.down.clear()
        await store.record_reply(record("R-after"))
        async with asyncio.timeout(DEADLINE):
            await store.flush()
        assert [row.reply_id for row in reply_rows(store)] == ["R-after"]
    finally:
        inserts.down.clear()
        await store.aclose()


async def test_closing_during_an_outage_gives_up_when_told(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    inserts = Switch(writer_module.insert_replies)
    monkeypatch.setattr(writer_module, "insert_replies", inserts)
    store = SqlReplyStore.open(settings)  # retries for 60 s by default
    inserts.down.set()
    for n in range(3):
        await store.record_reply(record(f"R{n}"))
    async with asyncio.timeout(DEADLINE):
        await store.aclose(give_up_after=0.2)
    assert not store.writer.alive
    assert store.writer.stats.replies_dropped == 3
