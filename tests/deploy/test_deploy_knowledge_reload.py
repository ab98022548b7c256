"""Knowledge reloads in running replicas: file edits and SIGHUP, valid and invalid, under load.

The replicas serve a copy of the knowledge in a temporary directory, which the tests edit. An
invalid edit must be rejected with one log line per replica while every request is still
answered, with the old answers; a valid edit must then be picked up by every process.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
from pathlib import Path

import aiohttp
import pytest

from bot.core.knowledge import load_knowledge
from bot.core.router import Router
from tests.deploy.conftest import StartReplica
from tests.deploy.knowledge_edits import MARK, break_faq, mark_answer
from tests.deploy.replicas import Attempt, Event, Replica, deliver, poll, replies_by_ts
from tests.slack.fake_slack import FakeSlack

pytestmark = pytest.mark.slow

QUESTION = "Who co-hosted the hackathon?"
REJECTED = re.compile(r"knowledge reload rejected \((file change|SIGHUP)\)")
RELOADED = re.compile(r"knowledge reloaded \((file change|SIGHUP)\)")


def reply_texts(fake: FakeSlack, batch: list[Event]) -> list[str]:
    replies = replies_by_ts(fake)
    return [json.dumps(call.body, ensure_ascii=False) for e in batch for call in replies[e.ts]]


class Load:
    """Sends one mention after another to the replicas in turn, four at a time."""

    def __init__(self, http: aiohttp.ClientSession, replicas: list[Replica]) -> None:
        self.http = http
        self.replicas = replicas
        self.sent: list[Event] = []
        self.attempts: list[Attempt] = []
        self._stop = asyncio.Event()
        self._tasks = [asyncio.create_task(self._run(lane)) for lane in range(4)]

    async def _run(self, lane: int) -> None:
        turn = lane
        while not self._stop.is_set():
            event = Event.mention(QUESTION)
            self.sent.append(event)
            replica = self.replicas[turn % len(self.replicas)]
            self.attempts.append(await deliver(self.http, replica, event, retry_num=None))
            turn += 1

    async def until(self, count: int) -> None:
        await poll(lambda: len(self.attempts) >= count, within=30, what=f"{count} deliveries")

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


async def test_invalid_edit_under_load_is_rejected_and_old_answers_continue(
    start_replica: StartReplica,
    fake_slack: FakeSlack,
    http: aiohttp.ClientSession,
    knowledge_dir: Path,
) -> None:
    env = {"BOT_KNOWLEDGE_DIR": str(knowledge_dir), "KNOWLEDGE_POLL_SECONDS": "0.1"}
    replicas = list(
        await asyncio.gather(
            start_replica("single", **env), start_replica("workers", workers=2, **env)
        )
    )
    expected = Router(load_knowledge(knowledge_dir)).reply(QUESTION)
    assert expected.intent is not None
    load = Load(http, replicas)
    try:
        await load.until(10)
        original_faq = break_faq(knowledge_dir)
        for replica in replicas:
            await replica.wait_for_line(REJECTED)
        await load.until(len(load.attempts) + 20)
    finally:
        await load.stop()

    assert {a.status for a in load.attempts} == {200}
    await poll(
        lambda: all(e.ts in replies_by_ts(fake_slack) for e in load.sent),
        within=30,
        what="a reply to every event",
    )
    texts = reply_texts(fake_slack, load.sent)
    assert len(texts) == len(load.sent)
    assert all(expected.body in text and MARK not in text for text in texts)
    for replica in replicas:  # one line per rejected edit (the supervisor's, with workers)
        assert len(replica.matching(REJECTED)) == 1, replica.log
        assert not replica.matching(re.compile(r" (ERROR|CRITICAL) ")), replica.log

    # The same replicas then take a valid edit, in every process.
    mark_answer(knowledge_dir, original_faq, expected.intent)
    await replicas[0].wait_for_lines(RELOADED, count=1)
    await replicas[1].wait_for_lines(RELOADED, count=2)  # both workers
    after = [Event.mention(QUESTION) for _ in range(6)]
    statuses = await asyncio.gather(
        *(deliver(http, replicas[i % 2], e, retry_num=None) for i, e in enumerate(after))
    )
    assert {a.status for a in statuses} == {200}
    await poll(
        lambda: all(e.ts in replies_by_ts(fake_slack) for e in after), within=30, what="replies"
    )
    assert all(MARK + expected.body in text for text in reply_texts(fake_slack, after))


async def test_sighup_reloads_a_valid_edit_and_rejects_an_invalid_one(
    start_replica: StartReplica,
    fake_slack: FakeSlack,
    http: aiohttp.ClientSession,
    knowledge_dir: Path,
) -> None:
    replica = await start_replica("replica", BOT_KNOWLEDGE_DIR=str(knowledge_dir))
    expected = Router(load_knowledge(knowledge_dir)).reply(QUESTION)
    assert expected.intent is not None
    faq_text = (knowledge_dir / "faq.yaml").read_text(encoding="utf-8")

    async def answer() -> str:
        event = Event.mention(QUESTION)
        assert (await deliver(http, replica, event, retry_num=None)).status == 200
        await poll(lambda: event.ts in replies_by_ts(fake_slack), within=20, what="a reply")
        return reply_texts(fake_slack, [event])[0]

    mark_answer(knowledge_dir, faq_text, expected.intent)
    replica.send_signal(signal.SIGHUP)
    await replica.wait_for_line(RELOADED)
    assert MARK + expected.body in await answer()

    break_faq(knowledge_dir)
    replica.send_signal(signal.SIGHUP)
    await replica.wait_for_line(REJECTED)
    assert MARK + expected.body in await answer()
    assert len(replica.matching(REJECTED)) == 1
    assert replica.running
