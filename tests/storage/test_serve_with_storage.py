"""``python -m bot serve --http`` as a real process with storage: replies land in the database,
installs into many workspaces work over OAuth, and an unreachable database stops it cleanly.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.engine import make_engine
from bot.storage.models import ReplyRow
from tests.bot_process import BotProcess, bot_environment
from tests.slack.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack
from tests.slack.slack_requests import SIGNING_SECRET, SlackSender, mention
from tests.slack.test_slack_serve import SERVING
from tests.storage.conftest import TEST_SECRET
from tests.storage.fake_oauth import CLIENT_ID, CLIENT_SECRET, FakeOAuth

ROOT = Path(__file__).resolve().parents[2]
ANSWERED = "Which tech companies took part in the hackathon?"
NOT_IN_SOURCE = "How much did the hackathon cost?"
ASKER = "U0ASKER1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
]


async def start_serve(fake: FakeSlack, **settings: str) -> BotProcess:
    env = bot_environment(
        fake,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        USER_HASH_SECRET=TEST_SECRET.reveal(),
        PYTHONPATH=str(ROOT),
        **settings,
    )
    return await BotProcess.start("--http", "--host", "127.0.0.1", "--port", "0", env=env)


async def _poll(condition: Callable[[], bool], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.05)


def _rows(database_url: str) -> list[ReplyRow]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(ReplyRow).order_by(ReplyRow.id)))
    finally:
        engine.dispose()


async def test_serve_stores_its_replies(fake_slack: FakeSlack, database_url: str) -> None:
    bot = await start_serve(fake_slack, SLACK_BOT_TOKEN=BOT_TOKEN, DATABASE_URL=database_url)
    try:
        base = (await bot.wait_for_line(SERVING)).group(1)
        async with aiohttp.ClientSession() as session:
            sender = SlackSender(session, f"{base}/slack/events")
            for question in (ANSWERED, NOT_IN_SOURCE):
                assert (await sender.event(mention(question, user=ASKER))).status == 200
        await fake_slack.wait_for_calls("chat.postMessage", count=2, within=20)
        await _poll(lambda: len(_rows(database_url)) == 2)
    finally:
        code = await bot.stop()
    assert code == 0, bot.log

    answer, unanswered = sorted(_rows(database_url), key=lambda row: row.kind)
    assert (answer.kind, answer.question) == ("answer", None)
    assert answer.intent == "hackathon-companies"
    assert (answer.team_id, answer.channel_type) == (TEAM_ID, "channel")
    assert unanswered.kind == "not_in_source"
    assert unanswered.question == NOT_IN_SOURCE
    for row in (answer, unanswered):
        assert row.user_hash is not None
        assert ASKER not in row.user_hash
    assert NOT_IN_SOURCE not in bot.log


async def test_serve_installs_into_many_workspaces(fake_slack: FakeSlack, tmp_path: Path) -> None:
    oauth = FakeOAuth(fake_slack)
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    bot = await start_serve(
        fake_slack,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        DATABASE_URL=database_url,
    )
    try:
        base = (await bot.wait_for_line(SERVING)).group(1)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/slack/install") as response:
                assert response.status == 200
                page = await response.text()
            found = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', page)
            assert found is not None, page
            state = parse_qs(urlsplit(found[1].replace("&amp;", "&")).query)["state"][0]
            redirect = f"{base}/slack/oauth_redirect?code={oauth.new_code()}&state={state}"
            cookie = {"Cookie": f"slack-app-oauth-state={state}"}
            async with session.get(redirect, headers=cookie, allow_redirects=False) as response:
                assert response.status == 200, await response.text()
            [token] = fake_slack.bot_tokens

            sender = SlackSender(session, f"{base}/slack/events")
            assert (await sender.event(mention(ANSWERED))).status == 200
            [reply] = await fake_slack.wait_for_calls("chat.postMessage", within=20)
            assert reply.headers["Authorization"] == f"Bearer {token}"
    finally:
        code = await bot.stop()
    assert code == 0, bot.log
    assert token not in bot.log
    assert CLIENT_SECRET not in bot.log


async def test_serve_with_an_unreachable_database_exits_with_status_2(
    fake_slack: FakeSlack,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://bot:Sup3rS3cretPw@127.0.0.1:{port}/bot"
    bot = await start_serve(fake_slack, SLACK_BOT_TOKEN=BOT_TOKEN, DATABASE_URL=url)
    async with asyncio.timeout(60):
        code = await bot.process.wait()
    await bot.stop()
    assert code == 2, bot.log
    assert f"host 127.0.0.1:{port}" in bot.log
    assert "Sup3rS3cretPw" not in bot.log
    assert "Traceback" not in bot.log
