"""Replicas of the bot as real processes on loopback, and Slack's way of delivering to them.

Each replica is ``python -m bot serve --http --port 0`` (optionally ``--workers N``), talking
to the fake Slack of ``tests/slack`` over HTTP. Its log lines are collected as they come; its
``/metrics`` tell the tests when it has finished what it was given, so tests wait by polling
with deadlines, never by sleeping.

Shared with ``benchmarks/replicas.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.bot_process import BotProcess, bot_environment, spawn
from tests.slack.fake_slack import BOT_TOKEN, Call, FakeSlack
from tests.slack.slack_requests import SIGNING_SECRET, event_envelope, mention, signed_headers

ROOT = Path(__file__).resolve().parents[2]
SERVING = re.compile(r"serving Slack on http://([\d.]+):(\d+)/slack/events")
START_WITHIN = 60.0

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def replica_environment(fake: FakeSlack, **overrides: str) -> dict[str, str]:
    """The environment for a replica: this one without any bot setting, plus the test's."""
    settings = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "STORE_REPLIES": "false",
        "SHUTDOWN_GRACE_SECONDS": "10",
        "KNOWLEDGE_POLL_SECONDS": "0",
    }
    return bot_environment(fake, **{**settings, **overrides})


class Replica(BotProcess):
    """One ``python -m bot serve --http`` process tree and what it printed."""

    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        super().__init__(process, name)
        self.url = ""

    @classmethod
    async def start(  # type: ignore[override]
        cls,
        name: str,
        env: Mapping[str, str],
        session: aiohttp.ClientSession,
        *,
        workers: int = 1,
    ) -> Replica:
        args = ("--http", "--host", "127.0.0.1", "--port", "0", "--workers", str(workers))
        replica = cls(await spawn(*args, env=env), name)
        try:
            match = await replica.wait_for_line(SERVING, within=START_WITHIN)
            replica.url = f"http://{match.group(1)}:{match.group(2)}"
            await replica.wait_healthy(session)
        except BaseException:
            await replica.kill()
            raise
        return replica

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    async def wait_healthy(self, session: aiohttp.ClientSession, within: float = 30.0) -> None:
        async def healthy() -> bool:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{self.url}/health") as response:
                    return response.status == 200
            return False

        await poll(healthy, within=within, what=f"{self.name} healthy")

    async def metrics(self, session: aiohttp.ClientSession) -> Samples:
        async with session.get(f"{self.url}/metrics") as response:
            assert response.status == 200
            text = await response.text()
        samples: Samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


async def poll(
    condition: Callable[[], Any], *, within: float, what: str, every: float = 0.05
) -> None:
    """Call (and await) ``condition`` until it is true; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for: {what}")
        await asyncio.sleep(every)


# --- Slack's side ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """One Events API delivery body (the same bytes on every retry) and the message's ts."""

    body: str
    ts: str

    @classmethod
    def mention(cls, question: str, **extra: Any) -> Event:
        event = mention(question, **extra)
        return cls(json.dumps(event_envelope(event)), event["ts"])


@dataclass
class Attempt:
    replica: str
    status: int | None  # None: the connection failed
    no_retry_header: bool = False
    seconds: float = 0.0


async def deliver(
    session: aiohttp.ClientSession, replica: Replica, event: Event, *, retry_num: int | None
) -> Attempt:
    """One delivery of ``event`` to ``replica``, signed as Slack signs it."""
    headers = signed_headers(event.body, "application/json")
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_error"
    started = time.perf_counter()
    try:
        async with session.post(
            replica.events_url, data=event.body.encode(), headers=headers
        ) as response:
            await response.read()
            return Attempt(
                replica.name,
                response.status,
                "X-Slack-No-Retry" in response.headers,
                time.perf_counter() - started,
            )
    except (aiohttp.ClientError, OSError):
        return Attempt(replica.name, None, seconds=time.perf_counter() - started)


async def deliver_like_slack(
    session: aiohttp.ClientSession, replicas: list[Replica], event: Event, *, first: int
) -> list[Attempt]:
    """Deliver as Slack does behind a load balancer: a failed delivery (not 200, or no
    connection) is retried, up to 3 times, each time to the next replica."""
    attempts: list[Attempt] = []
    for number in range(4):
        replica = replicas[(first + number) % len(replicas)]
        attempt = await deliver(session, replica, event, retry_num=number or None)
        attempts.append(attempt)
        if attempt.status == 200 or attempt.no_retry_header:
            break
    return attempts


def replies_by_ts(fake: FakeSlack) -> dict[str, list[Call]]:
    """Delivered replies to mentions, by the ts of the message they answer (their thread)."""
    found: dict[str, list[Call]] = {}
    for call in fake.delivered("chat.postMessage", "chat.postEphemeral"):
        thread = call.body.get("thread_ts")
        if isinstance(thread, str):
            found.setdefault(thread, []).append(call)
    return found


async def wait_until_settled(
    session: aiohttp.ClientSession,
    replicas: Iterable[Replica],
    *,
    event_claims: int,
    within: float = 60.0,
) -> Samples:
    """Wait until the replicas have decided ``event_claims`` deliveries and sent a reply for
    every message they claimed first (so no reply is still on its way)."""
    live = [r for r in replicas if r.running]
    merged: Samples = {}

    async def settled() -> bool:
        nonlocal merged
        merged = {}
        for replica in live:
            for key, value in (await replica.metrics(session)).items():
                merged[key] = merged.get(key, 0.0) + value
        claims = total(merged, "hackathon_bot_dedupe_claims_total", key="event")
        first = total(merged, "hackathon_bot_dedupe_claims_total", key="message", result="first")
        replies = total(merged, "hackathon_bot_replies_total")
        return claims >= event_claims and replies >= first

    await poll(settled, within=within, what=f"{event_claims} deliveries decided and answered")
    return merged
