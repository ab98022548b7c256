"""The SQL statements that write replies, votes and choices (synchronous, one transaction each).

Votes and choices are upserts keyed by (reply, person). The reply row is locked first
(``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` locks the whole file), so two
processes voting at once are serialised and the outcome each one reports is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Insert, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.ports import Vote, VoteOutcome
from bot.storage.models import REPLY_ID_MAX, Base, ChoiceRow, ReplyRow, VoteRow


def _insert(connection: Connection, table: type[Base]) -> postgresql.Insert | sqlite.Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_replies(engine: Engine, rows: Sequence[dict[str, Any]]) -> None:
    """Insert reply rows; a reply id already stored is left as it was."""
    if not rows:
        return
    with engine.begin() as connection:
        statement: Insert = _insert(connection, ReplyRow).on_conflict_do_nothing(
            index_elements=["reply_id"]
        )
        connection.execute(statement, list(rows))


def _locked_reply_pk(connection: Connection, reply_id: str) -> int | None:
    if not reply_id or len(reply_id) > REPLY_ID_MAX:
        return None
    query = select(ReplyRow.id).where(ReplyRow.reply_id == reply_id).with_for_update()
    return connection.execute(query).scalar_one_or_none()


def upsert_vote(
    engine: Engine, *, reply_id: str, user_hash: str, vote: Vote, now: datetime
) -> VoteOutcome:
    with engine.begin() as connection:
        reply_pk = _locked_reply_pk(connection, reply_id)
        if reply_pk is None:
            return VoteOutcome.UNKNOWN_REPLY
        previous = connection.execute(
            select(VoteRow.vote).where(VoteRow.reply_pk == reply_pk, VoteRow.user_hash == user_hash)
        ).scalar_one_or_none()
        if previous == vote.value:
            return VoteOutcome.UNCHANGED
        statement = _insert(connection, VoteRow).values(
            reply_pk=reply_pk, user_hash=user_hash, vote=vote.value, created_at=now, updated_at=now
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["reply_pk", "user_hash"],
                set_={"vote": statement.excluded.vote, "updated_at": statement.excluded.updated_at},
            )
        )
        return VoteOutcome.RECORDED if previous is None else VoteOutcome.CHANGED


def upsert_choice(
    engine: Engine, *, reply_id: str, user_hash: str, chosen_intent: str | None, now: datetime
) -> bool:
    with engine.begin() as connection:
        reply_pk = _locked_reply_pk(connection, reply_id)
        if reply_pk is None:
            return False
        statement = _insert(connection, ChoiceRow).values(
            reply_pk=reply_pk, user_hash=user_hash, chosen_intent=chosen_intent, created_at=now
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["reply_pk", "user_hash"],
                set_={
                    "chosen_intent": statement.excluded.chosen_intent,
                    "created_at": statement.excluded.created_at,
                },
            )
        )
        return True
