"""Synthetic history for ``python -m bot demo``: replies, votes and choices that look like a
month of use, made by asking the real router realistic questions. Nobody's data: askers are
made-up ids, and every question is written here or taken from the knowledge itself."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.reply import ReplyKind
from bot.core.router import Router
from bot.ports import ReplyRecord, Vote
from bot.storage.store import SqlReplyStore

# Questions people ask that the source does not answer, or that are vague, off topic or
# misspelt: what the report's "unanswered" table and suggest are for.
EXTRA_QUESTIONS = (
    "how much did the hackathon cost",
    "How much did the hackathon cost?",
    "what did the hackathon cost in total",
    "who paid for the hackathon",
    "how many people went to the hackathon",
    "how many engineers were there",
    "is the tool open source",
    "can I download the grooming detection tool",
    "when will the tool be released",
    "what programming language is the tool written in",
    "which city was the hackathon in",
    "what's the weather like in London",
    "who won the football last night",
    "tell me about the Home Secretary",
    "tell me about the home secretary",
    "tell me about the minister",
    "the tool thing",
    "what about the money",
    "who was involved",
    "wich companys took part in the hackaton",
    "wat did they bild",
    "is there a helpline number",
    "what is CAID",
    "thanks",
    "hello",
)


@dataclass(frozen=True, slots=True)
class DemoCounts:
    replies: int
    votes: int
    choices: int


def entry_questions(router: Router) -> list[str]:
    """Every entry's question and alternates."""
    asked: list[str] = []
    for entry in router.kb.entries:
        asked.append(entry.question)
        asked.extend(entry.alternates)
    return asked


async def fill(
    store: SqlReplyStore,
    router: Router,
    *,
    now: datetime,
    replies: int = 300,
    days: int = 30,
    seed: int = 2018,
) -> DemoCounts:
    """Record ``replies`` replies over ``days`` days, with votes and clarify choices."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, nothing secret
    pool = entry_questions(router)
    askers = [f"UDEMO{n:04d}" for n in range(60)]
    # Some entries are liked less than others, so that the feedback table has a story.
    disliked = {entry.id for entry in rng.sample(list(router.kb.entries), k=3)}
    votes = choices = 0
    for n in range(replies):
        # Later days are busier, as a bot's use grows.
        day = min(days - 1, int(rng.triangular(0, days, 0)))  # days ago
        question = rng.choice(EXTRA_QUESTIONS if rng.random() < 0.4 else pool)
        reply = router.reply(question)
        reply_id = f"demo{n:06d}"
        asker = rng.choice(askers)
        await store.record_reply(
            ReplyRecord(
                reply_id=reply_id,
                created_at=now - timedelta(days=day, minutes=rng.randrange(24 * 60)),
                team_id="TDEMO0001",
                channel_type=rng.choice(("channel", "channel", "im", "command")),
                kind=reply.kind.value,
                intent=reply.intent,
                confidence=reply.confidence,
                latency_ms=round(rng.uniform(0.2, 4.0), 3),
                user_id=asker,
                question=reply.question or question,
            )
        )
        if reply.kind in (ReplyKind.ANSWER, ReplyKind.NOT_IN_SOURCE) and rng.random() < 0.35:
            down = 0.6 if reply.intent in disliked else 0.15
            vote = Vote.DOWN if rng.random() < down else Vote.UP
            await store.record_vote(reply_id=reply_id, user_id=asker, vote=vote)
            votes += 1
        if reply.kind is ReplyKind.CLARIFY and reply.suggestions and rng.random() < 0.7:
            chosen = None if rng.random() < 0.25 else rng.choice(reply.suggestions).intent
            await store.record_choice(reply_id=reply_id, user_id=asker, chosen_intent=chosen)
            choices += 1
    await store.flush()
    return DemoCounts(replies=replies, votes=votes, choices=choices)
