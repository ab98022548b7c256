"""A small, realistic history of replies for the report and suggestion tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.reply import ReplyKind
from bot.ports import ReplyRecord, Vote
from bot.storage.store import SqlReplyStore

# (days ago, kind, intent, question, asker)
HISTORY: list[tuple[int, ReplyKind, str | None, str, str]] = [
    *[
        (day, ReplyKind.ANSWER, "hackathon-companies", "which companies took part", f"U{day}")
        for day in range(5)
    ],
    *[
        (day, ReplyKind.ANSWER, "prototype-tool", "what did they build", f"U{day}")
        for day in (1, 2, 3)
    ],
    (
        0,
        ReplyKind.NOT_IN_SOURCE,
        "unstated-hackathon-cost",
        "how much did the hackathon cost",
        "U1",
    ),
    (
        1,
        ReplyKind.NOT_IN_SOURCE,
        "unstated-hackathon-cost",
        "How much did the hackathon cost?",
        "U2",
    ),
    (
        2,
        ReplyKind.NOT_IN_SOURCE,
        "unstated-hackathon-cost",
        "how much did the hackathon  cost",
        "U3",
    ),
    (
        2,
        ReplyKind.NOT_IN_SOURCE,
        "unstated-hackathon-cost",
        "how much did the hackathon costs",
        "U4",
    ),
    (3, ReplyKind.FALLBACK, None, "what's the weather like in London", "U5"),
    (4, ReplyKind.FALLBACK, None, "whats the weather like in london", "U6"),
    (1, ReplyKind.CLARIFY, None, "who was involved in the event <!channel>", "U7"),
    (2, ReplyKind.CLARIFY, None, "the tool thing", "U8"),
    (3, ReplyKind.CLARIFY, None, "tell me about the taskforce money", "U9"),
    (1, ReplyKind.SAFEGUARDING, None, "someone online is grooming my child", "U10"),
    (2, ReplyKind.SMALLTALK, "greeting", "hello", "U11"),
]
# (reply index in HISTORY, voter, vote)
VOTES = [(0, "V1", Vote.UP), (1, "V1", Vote.UP), (2, "V2", Vote.UP), (3, "V3", Vote.DOWN)]
VOTES += [(5, "V1", Vote.DOWN), (6, "V2", Vote.DOWN), (7, "V3", Vote.UP)]
# (reply index, chooser, chosen intent or None for "none of these")
CHOICES = [(14, "U7", "hackathon-companies"), (15, "U8", None)]


async def seed(store: SqlReplyStore, now: datetime) -> None:
    for index, (days_ago, kind, intent, question, asker) in enumerate(HISTORY):
        await store.record_reply(
            ReplyRecord(
                reply_id=f"R{index}",
                created_at=now - timedelta(days=days_ago, minutes=index),
                team_id="T1",
                channel_type="channel",
                kind=kind.value,
                intent=intent,
                confidence=0.5,
                latency_ms=2.0,
                user_id=asker,
                question=question,
            )
        )
    for index, voter, vote in VOTES:
        await store.record_vote(reply_id=f"R{index}", user_id=voter, vote=vote)
    for index, chooser, intent in CHOICES:
        await store.record_choice(reply_id=f"R{index}", user_id=chooser, chosen_intent=intent)
    await store.flush()
