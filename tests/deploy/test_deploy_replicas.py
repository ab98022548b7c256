"""Three replicas behind Slack's retries, as real processes on loopback with a shared Redis.

Slack delivers an event again when it did not see a 200 in time, and a load balancer may hand
each delivery to a different replica. These tests deliver every event four times (the first
delivery and Slack's three retries), spread over the replicas at once, and count the replies
the fake Slack received: exactly one per event, also while a replica is stopped and while the
Web API answers 429 and 500.
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter

import aiohttp
import pytest

from tests.deploy.conftest import RedisTarget, StartReplica
from tests.deploy.replicas import (
    Attempt,
    Event,
    Replica,
    deliver,
    deliver_like_slack,
    poll,
    replies_by_ts,
    total,
    wait_until_settled,
)
from tests.slack.fake_slack import FakeSlack

pytestmark = [pytest.mark.redis, pytest.mark.slow]

QUESTIONS = (
    "Who co-hosted the hackathon?",
    "Which tech companies took part in the hackathon?",
    "What did the engineers build?",
)
DRAINING = re.compile(r"draining: .* (\d+) replies in flight")
DRAINED = re.compile(r"drained: every reply in flight was sent")


async def start_three(start_replica: StartReplica, redis: RedisTarget) -> list[Replica]:
    env = {"REDIS_URL": redis.url, "REDIS_KEY_PREFIX": redis.prefix}
    # One replica runs two worker processes, so the supervisor path is under test too.
    return list(
        await asyncio.gather(
            start_replica("replica-0", **env),
            start_replica("replica-1", workers=2, **env),
            start_replica("replica-2", **env),
        )
    )


def events(count: int) -> list[Event]:
    return [Event.mention(QUESTIONS[i % len(QUESTIONS)]) for i in range(count)]


async def deliver_four_times(
    http: aiohttp.ClientSession, replicas: list[Replica], batch: list[Event]
) -> list[Attempt]:
    """Every event's first delivery and three retries, each to another replica, all at once."""
    return list(
        await asyncio.gather(
            *(
                deliver(http, replicas[(i + n) % len(replicas)], event, retry_num=n or None)
                for i, event in enumerate(batch)
                for n in range(4)
            )
        )
    )


def assert_one_reply_each(fake: FakeSlack, batch: list[Event]) -> None:
    replies = replies_by_ts(fake)
    counts = Counter({event.ts: len(replies.get(event.ts, [])) for event in batch})
    wrong = {ts: n for ts, n in counts.items() if n != 1}
    assert not wrong, f"events without exactly one reply (ts: replies): {wrong}"
    assert sum(len(calls) for calls in replies.values()) == len(batch)


async def test_each_event_delivered_four_times_across_replicas_gets_one_reply(
    start_replica: StartReplica,
    redis_target: RedisTarget,
    fake_slack: FakeSlack,
    http: aiohttp.ClientSession,
) -> None:
    replicas = await start_three(start_replica, redis_target)
    batch = events(30)

    attempts = await deliver_four_times(http, replicas, batch)

    assert [a.status for a in attempts] == [200] * len(attempts)
    samples = await wait_until_settled(http, replicas, event_claims=len(attempts))
    assert_one_reply_each(fake_slack, batch)
    # Each replica decided some of the deliveries, and only one per event went ahead.
    assert total(samples, "hackathon_bot_dedupe_claims_total", key="event", result="first") == 30
    assert total(samples, "hackathon_bot_slack_event_deliveries_total", delivery="retry") == 90
    for replica in replicas:
        own = await replica.metrics(http)
        assert total(own, "hackathon_bot_dedupe_claims_total", key="event") == 40


async def test_a_replica_stopped_mid_load_loses_and_doubles_no_reply(
    start_replica: StartReplica,
    redis_target: RedisTarget,
    fake_slack: FakeSlack,
    http: aiohttp.ClientSession,
) -> None:
    replicas = await start_three(start_replica, redis_target)
    stopping, survivors = replicas[0], [replicas[1], replicas[2]]
    # Replies take a while, so the stopping replica has some in flight when SIGTERM arrives.
    fake_slack.slow_down("chat.postMessage", 2.0)
    before = events(12)
    first_deliveries = await asyncio.gather(
        *(deliver(http, replicas[i % 3], event, retry_num=None) for i, event in enumerate(before))
    )
    assert [a.status for a in first_deliveries] == [200] * 12

    stopping.send_signal(signal.SIGTERM)
    in_flight = int((await stopping.wait_for_line(DRAINING)).group(1))
    after = events(12)
    deliveries = await asyncio.gather(
        *(deliver_like_slack(http, replicas, event, first=i % 3) for i, event in enumerate(after))
    )

    assert in_flight > 0, "the replica had no reply in flight when it was stopped"
    assert all(attempts[-1].status == 200 for attempts in deliveries), deliveries
    refused = [a for attempts in deliveries for a in attempts if a.replica == stopping.name]
    assert all(a.status in (503, None) for a in refused)
    assert any(a.status == 503 for a in refused), "the stopping replica never answered 503"
    assert not any(a.no_retry_header for attempts in deliveries for a in attempts)
    assert await stopping.wait_exit(within=30) == 0
    assert stopping.matching(DRAINED), stopping.log

    every_attempt = [*first_deliveries, *(a for attempts in deliveries for a in attempts)]
    to_survivors = sum(1 for a in every_attempt if a.replica != stopping.name and a.status == 200)
    await wait_until_settled(http, survivors, event_claims=to_survivors)
    await fake_slack.wait_for_calls("chat.postMessage", count=24, within=30)
    assert_one_reply_each(fake_slack, before + after)


async def test_web_api_429_and_500_still_deliver_every_reply_once(
    start_replica: StartReplica,
    redis_target: RedisTarget,
    fake_slack: FakeSlack,
    http: aiohttp.ClientSession,
) -> None:
    replicas = await start_three(start_replica, redis_target)
    fake_slack.fail_next("chat.postMessage", 429, times=3, retry_after=1)
    fake_slack.fail_next("chat.postMessage", 500, times=3)
    batch = events(12)

    attempts = await deliver_four_times(http, replicas, batch)

    assert [a.status for a in attempts] == [200] * len(attempts)
    samples = await wait_until_settled(http, replicas, event_claims=len(attempts))
    assert_one_reply_each(fake_slack, batch)
    assert len(fake_slack.attempts("chat.postMessage")) == 12 + 6
    errors = "hackathon_bot_slack_api_errors_total"
    assert total(samples, errors, method="chat.postMessage", status="429") == 3
    assert total(samples, errors, method="chat.postMessage", status="500") == 3
    retries = "hackathon_bot_slack_api_retries_total"
    assert total(samples, retries, method="chat.postMessage", reason="rate_limited") == 3
    assert total(samples, retries, method="chat.postMessage", reason="server_error") == 3


async def test_slack_retrying_after_503_reaches_a_replica_that_answers(
    start_replica: StartReplica,
    redis_target: RedisTarget,
    fake_slack: FakeSlack,
    http: aiohttp.ClientSession,
) -> None:
    env = {"REDIS_URL": redis_target.url, "REDIS_KEY_PREFIX": redis_target.prefix}
    stopping, serving = await asyncio.gather(
        start_replica("stopping", **env), start_replica("serving", **env)
    )
    fake_slack.slow_down("chat.postMessage", 2.0)
    held = Event.mention(QUESTIONS[0])
    assert (await deliver(http, stopping, held, retry_num=None)).status == 200
    stopping.send_signal(signal.SIGTERM)
    await stopping.wait_for_line(DRAINING)

    event = Event.mention(QUESTIONS[1])
    attempts = await deliver_like_slack(http, [stopping, serving], event, first=0)

    assert [(a.replica, a.status) for a in attempts] == [("stopping", 503), ("serving", 200)]
    assert not attempts[0].no_retry_header
    await poll(lambda: len(replies_by_ts(fake_slack)) == 2, within=30, what="both replies")
    assert await stopping.wait_exit(within=30) == 0
    assert_one_reply_each(fake_slack, [held, event])
