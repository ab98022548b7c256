"""``python -m bot serve`` as a real process: HTTP mode and Socket Mode against the fake Slack."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.bot_process import BotProcess, bot_environment
from tests.slack.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.slack.slack_requests import SIGNING_SECRET, SlackSender, event_envelope, mention

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "Who co-hosted the hackathon?"
SERVING = re.compile(r"serving Slack on (http://\S+)/slack/events")


async def start_bot(fake: FakeSlack, *args: str, **extra_env: str) -> BotProcess:
    """Start ``python -m bot serve ARGS`` (Socket Mode gets no signing secret: it needs none)."""
    env = bot_environment(
        fake, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, STORE_REPLIES="false"
    )
    if "--http" in args:
        env["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    env.update(extra_env)
    return await BotProcess.start(*args, env=env)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.mark.slow
async def test_serve_http_answers_signed_events_and_stops_on_sigterm(
    fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    bot = await start_bot(fake_slack, "--http", "--host", "127.0.0.1", "--port", "0")
    try:
        base = (await bot.wait_for_line(SERVING)).group(1)
        async with session.get(f"{base}/health") as health:
            assert health.status == 200
            assert (await health.json())["entries"] > 0
        sender = SlackSender(session, f"{base}/slack/events")
        response = await sender.event(mention(QUESTION))
        assert response.status == 200
        [call] = await fake_slack.wait_for_calls("chat.postMessage", within=20)
        assert "Home Secretary and Microsoft" in call.body["text"]
    finally:
        code = await bot.stop()
    assert code == 0
    assert QUESTION not in bot.log, "message text is never logged at INFO"
    assert BOT_TOKEN not in bot.log
    assert SIGNING_SECRET not in bot.log


@pytest.mark.slow
async def test_serve_socket_mode_answers_events_pushed_over_the_websocket(
    fake_slack: FakeSlack,
) -> None:
    bot = await start_bot(fake_slack, "--socket")
    try:
        await bot.wait_for_line(re.compile("connected to Slack over Socket Mode"))
        envelope = {
            "envelope_id": "env-0001",
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": event_envelope(mention(QUESTION)),
        }
        await fake_slack.send_envelope(envelope)
        await fake_slack.wait_for(
            lambda f: any(a.get("envelope_id") == "env-0001" for a in f.socket_acks)
        )
        [call] = await fake_slack.wait_for_calls("chat.postMessage", within=20)
        assert "Home Secretary and Microsoft" in call.body["text"]
        assert (
            fake_slack.delivered("apps.connections.open")[0].headers["Authorization"]
            == f"Bearer {APP_TOKEN}"
        )
    finally:
        code = await bot.stop()
    assert code == 0
    assert QUESTION not in bot.log
    assert APP_TOKEN not in bot.log


async def test_serve_without_settings_names_the_missing_variable(fake_slack: FakeSlack) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SLACK_")}
    env["SLACK_API_BASE_URL"] = fake_slack.api_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--socket",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, err = await process.communicate()
    assert process.returncode == 2
    assert err.decode().strip().splitlines() == [
        "python -m bot serve: SLACK_BOT_TOKEN: is required for this command"
    ]
    assert not out
    assert not fake_slack.calls
