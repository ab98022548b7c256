"""The in-process reply store and event deduplicator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.ports import ReplyRecord, Vote, VoteOutcome
from bot.slack.memory import InMemoryReplyStore, TTLEventDeduplicator


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(reply_id: str) -> ReplyRecord:
    return ReplyRecord(
        reply_id=reply_id,
        created_at=datetime.now(UTC),
        team_id="T1",
        channel_type="im",
        kind="answer",
        intent="hackathon-hosts",
        confidence=0.9,
        latency_ms=1.0,
        user_id="U1",
        question="Who co-hosted the hackathon?",
    )


async def test_a_key_is_claimed_once_within_the_ttl() -> None:
    clock = Clock()
    dedupe = TTLEventDeduplicator(900, clock=clock)
    assert await dedupe.claim("event:Ev1")
    assert not await dedupe.claim("event:Ev1")
    clock.now += 899
    assert not await dedupe.claim("event:Ev1")
    assert await dedupe.claim("event:Ev2")


async def test_keys_expire_after_the_ttl_and_are_forgotten() -> None:
    clock = Clock()
    dedupe = TTLEventDeduplicator(900, clock=clock)
    for n in range(100):
        await dedupe.claim(f"event:{n}")
    clock.now += 901
    assert await dedupe.claim("event:0"), "claimable again once expired"
    assert len(dedupe) == 1, "expired keys no longer take memory"


def test_the_ttl_covers_slacks_retry_window() -> None:
    with pytest.raises(ValueError, match="at least 900"):
        TTLEventDeduplicator(60)


async def test_votes_are_one_per_person_and_may_change() -> None:
    store = InMemoryReplyStore()
    await store.record_reply(record("r1"))
    assert (
        await store.record_vote(reply_id="r1", user_id="U1", vote=Vote.UP) is VoteOutcome.RECORDED
    )
    assert (
        await store.record_vote(reply_id="r1", user_id="U1", vote=Vote.UP) is VoteOutcome.UNCHANGED
    )
    assert (
        await store.record_vote(reply_id="r1", user_id="U1", vote=Vote.DOWN) is VoteOutcome.CHANGED
    )
    assert (
        await store.record_vote(reply_id="r1", user_id="U2", vote=Vote.UP) is VoteOutcome.RECORDED
    )
    assert store.votes["r1"] == {"U1": Vote.DOWN, "U2": Vote.UP}


async def test_votes_and_choices_for_unknown_replies_write_nothing() -> None:
    store = InMemoryReplyStore()
    outcome = await store.record_vote(reply_id="nope", user_id="U1", vote=Vote.UP)
    assert outcome is VoteOutcome.UNKNOWN_REPLY
    assert not await store.record_choice(reply_id="nope", user_id="U1", chosen_intent=None)
    assert not store.votes
    assert not store.choices


async def test_choices_are_kept_per_person() -> None:
    store = InMemoryReplyStore()
    await store.record_reply(record("r1"))
    assert await store.record_choice(reply_id="r1", user_id="U1", chosen_intent="taskforce-chair")
    assert await store.record_choice(reply_id="r1", user_id="U2", chosen_intent=None)
    assert store.choices["r1"] == {"U1": "taskforce-chair", "U2": None}


async def test_the_store_keeps_only_the_most_recent_replies() -> None:
    store = InMemoryReplyStore(max_replies=3)
    for n in range(5):
        await store.record_reply(record(f"r{n}"))
        await store.record_vote(reply_id=f"r{n}", user_id="U1", vote=Vote.UP)
    assert list(store.replies) == ["r2", "r3", "r4"]
    assert set(store.votes) == {"r2", "r3", "r4"}
