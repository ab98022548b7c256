"""PostgreSQL cut away under load (issue 11, defect 3): with a TCP proxy between the store and
the server, the proxy drops every connection and refuses new ones part-way through a stream
of replies and votes, then comes back. After the retry window every row is there.

Before, every reply row and vote written during a 5-second outage was discarded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from bot.ports import ReplyRecord, Vote, VoteOutcome
from bot.storage.models import ReplyRow, VoteRow
from bot.storage.store import SqlReplyStore
from tests.storage.conftest import make_settings
from tests.storage.tcp_proxy import TcpProxy
from tests.storage.test_store import record

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPLIES = 600
CUT_AT, RESTORE_AT = 150, 400  # positions in the stream: the outage spans 250 replies
DEADLINE = 120.0


@pytest.fixture
async def proxy(postgres_url: str) -> AsyncIterator[TcpProxy]:
    url = make_url(postgres_url)
    running = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await running.start()
    try:
        yield running
    finally:
        await running.close()


def through(postgres_url: str, proxy: TcpProxy) -> str:
    url = make_url(postgres_url).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


def counts(postgres_url: str) -> tuple[int, int]:
    engine = create_engine(postgres_url)  # straight to the server, not through the proxy
    try:
        with engine.connect() as connection:
            replies = connection.execute(select(func.count()).select_from(ReplyRow)).scalar_one()
            votes = connection.execute(select(func.count()).select_from(VoteRow)).scalar_one()
    finally:
        engine.dispose()
    return replies, votes


async def test_no_row_is_lost_when_postgres_is_cut_away_under_load(
    postgres_url: str, proxy: TcpProxy
) -> None:
    settings = make_settings(through(postgres_url, proxy), storage_retry_seconds=60.0)
    store = await asyncio.to_thread(SqlReplyStore.open, settings)
    votes: list[asyncio.Future[VoteOutcome]] = []
    try:
        for n in range(REPLIES):
            if n == CUT_AT:
                await store.flush()  # rows before the cut are in; connections are pooled
                proxy.cut()
            if n == RESTORE_AT:
                proxy.restore()
            reply: ReplyRecord = record(f"R{n}")
            await store.record_reply(reply)
            if n % 50 == 10:  # votes on rows written before, during and after the cut
                votes.append(
                    asyncio.ensure_future(
                        store.record_vote(reply_id=f"R{n - 5}", user_id=f"U{n}", vote=Vote.UP)
                    )
                )
            await asyncio.sleep(0.002)  # paced, about 300 replies a second
        async with asyncio.timeout(DEADLINE):
            await store.flush()
            outcomes = await asyncio.gather(*votes)
    finally:
        proxy.restore()
        await store.aclose()
    assert proxy.refused > 0, "the cut never reached the store"
    assert store.writer.stats.retries > 0
    assert store.writer.stats.replies_dropped == 0
    assert all(outcome is VoteOutcome.RECORDED for outcome in outcomes)
    assert counts(postgres_url) == (REPLIES, len(votes))


async def test_a_serving_bot_loses_no_reply_row_when_postgres_is_cut_away(
    postgres_url: str, proxy: TcpProxy
) -> None:
    """The same, end to end: ``python -m bot serve`` answering signed mentions over HTTP while
    its database connection is cut for a third of them."""
    from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
    from tests.slack.slack_requests import SlackSender, mention
    from tests.storage.test_serve_with_storage import SERVING, start_serve

    events = 300
    fake = FakeSlack()
    await fake.start()
    bot = await start_serve(
        fake,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        DATABASE_URL=through(postgres_url, proxy),
        STORAGE_RETRY_SECONDS="60",
    )
    try:
        base = (await bot.wait_for_line(SERVING, within=60)).group(1)
        async with aiohttp.ClientSession() as session:
            sender = SlackSender(session, f"{base}/slack/events")
            for n in range(events):
                if n == events // 3:
                    await fake.wait_for_calls("chat.postMessage", count=n, within=60)
                    proxy.cut()
                if n == 2 * events // 3:
                    proxy.restore()
                response = await sender.event(mention("Which tech companies took part?"))
                assert response.status == 200
                await asyncio.sleep(0.005)
        await fake.wait_for_calls("chat.postMessage", count=events, within=60)
        assert await bot.stop(within=60) == 0  # SIGTERM: the writer finishes what it holds
    finally:
        proxy.restore()
        if bot.process.returncode is None:
            bot.process.kill()
            await bot.process.wait()
        await fake.close()
    assert proxy.refused > 0, "the cut never reached the bot"
    assert counts(postgres_url) == (events, 0)
    log = bot.log
    assert log.count("the database cannot be reached") == 1
    assert "writes resumed" in log
    assert "could not store" not in log
    assert "Traceback" not in log
