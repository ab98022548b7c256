"""Retention: deleting rows older than ``RETENTION_DAYS`` (``python -m bot purge``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, column, delete, select, table

from bot.storage.models import ChoiceRow, ReplyRow, VoteRow


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    replies: int
    votes: int
    choices: int


def purge_before(engine: Engine, cutoff: datetime) -> PurgeCounts:
    """Delete replies made before ``cutoff``, with their votes and choices, in one transaction."""
    with engine.begin() as connection:
        old = select(ReplyRow.id).where(ReplyRow.created_at < cutoff).scalar_subquery()
        votes = connection.execute(delete(VoteRow).where(VoteRow.reply_pk.in_(old))).rowcount
        choices = connection.execute(delete(ChoiceRow).where(ChoiceRow.reply_pk.in_(old))).rowcount
        replies = connection.execute(delete(ReplyRow).where(ReplyRow.created_at < cutoff)).rowcount
    return PurgeCounts(replies=replies, votes=votes, choices=choices)


# slack_sdk's OAuth state table (migration 0002), named here without importing slack_sdk.
_oauth_states = table("slack_oauth_states", column("expire_at"))


def delete_expired_oauth_states(engine: Engine, now: datetime) -> int:
    """Delete OAuth install states that expired (they can never be used again)."""
    naive_now = now.astimezone(UTC).replace(tzinfo=None)  # slack_sdk stores naive UTC
    with engine.begin() as connection:
        result = connection.execute(
            delete(_oauth_states).where(_oauth_states.c.expire_at <= naive_now)
        )
    return result.rowcount
