"""Two processes writing votes at once lose nothing (real processes, one real database)."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core.reply import ReplyKind
from bot.ports import ReplyRecord, Vote
from bot.storage.models import VoteRow
from bot.storage.store import SqlReplyStore
from tests.storage.conftest import TEST_SECRET, make_settings

REPO = Path(__file__).resolve().parents[2]
REPLIES = 12
USERS_PER_WORKER = 15
SHARED_USERS = 5

# Each worker waits for the "go" file, then votes: USERS_PER_WORKER people of its own on every
# reply, and SHARED_USERS people that both workers vote for (so their votes collide).
WORKER = """
import asyncio, os, sys, time
from pathlib import Path
from bot.ports import Vote, VoteOutcome
from bot.settings import Secret, Settings
from bot.storage.store import SqlReplyStore

url, name, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
replies, own, shared = map(int, sys.argv[4:7])

async def main() -> None:
    settings = Settings(database_url=url, user_hash_secret=Secret(os.environ["SECRET"]))
    store = SqlReplyStore.open(settings)
    deadline = time.monotonic() + 30
    while not go.exists():
        if time.monotonic() > deadline:
            raise SystemExit("never told to go")
        await asyncio.sleep(0.005)
    unknown = 0
    for number in range(replies):
        for person in range(own):
            outcome = await store.record_vote(
                reply_id=f"R{number}", user_id=f"U{name}{person}", vote=Vote.UP
            )
            unknown += outcome is VoteOutcome.UNKNOWN_REPLY
        for person in range(shared):
            vote = Vote.UP if name == "a" else Vote.DOWN
            outcome = await store.record_vote(
                reply_id=f"R{number}", user_id=f"Ushared{person}", vote=vote
            )
            unknown += outcome is VoteOutcome.UNKNOWN_REPLY
    await store.aclose()
    print(unknown)

asyncio.run(main())
"""


@pytest.mark.slow
async def test_two_processes_voting_at_once_lose_nothing(database_url: str, tmp_path: Path) -> None:
    store = SqlReplyStore.open(make_settings(database_url))
    for number in range(REPLIES):
        await store.record_reply(
            ReplyRecord(
                reply_id=f"R{number}",
                created_at=_now(),
                team_id="T1",
                channel_type="im",
                kind=ReplyKind.ANSWER.value,
                intent="what-was-built",
                confidence=0.9,
                latency_ms=1.0,
                user_id="U-asker",
                question="q",
            )
        )
    await store.flush()

    go = tmp_path / "go"
    environment = {**os.environ, "SECRET": TEST_SECRET.reveal(), "PYTHONPATH": str(REPO)}
    arguments = [str(go), str(REPLIES), str(USERS_PER_WORKER), str(SHARED_USERS)]
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WORKER,
            database_url,
            name,
            *arguments,
            cwd=REPO,
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for name in ("a", "b")
    ]
    try:
        go.touch()
        results = [await asyncio.wait_for(worker.communicate(), 120) for worker in workers]
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.communicate()
    for worker, (stdout, stderr) in zip(workers, results, strict=True):
        assert worker.returncode == 0, stderr.decode()
        assert stdout.decode().strip() == "0"  # every reply was found

    with store.database.engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(VoteRow)).scalar_one()
        per_vote = dict(
            connection.execute(select(VoteRow.vote, func.count()).group_by(VoteRow.vote)).all()
        )
    own_votes = 2 * REPLIES * USERS_PER_WORKER
    shared_votes = REPLIES * SHARED_USERS  # one row per shared person and reply: an upsert
    assert total == own_votes + shared_votes
    assert per_vote.get(Vote.UP.value, 0) >= own_votes
    await store.aclose()


def _now() -> datetime:
    return datetime.now(UTC)
