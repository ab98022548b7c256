"""Fixtures for the Slack tests: the bot's own HTTP server on a free loopback port, talking
over HTTP to the fake Slack (``fake_slack``, with ``kb`` and ``router``, in tests/conftest.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.core.knowledge import KnowledgeBase
from bot.core.router import Router
from bot.settings import DEFAULT_KNOWLEDGE_DIR, Secret, Settings
from bot.slack.app import SlackApp, create_app
from bot.slack.memory import InMemoryReplyStore, TTLEventDeduplicator
from bot.slack.server import create_web_app
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.slack_requests import SIGNING_SECRET, SlackSender

IDLE_WITHIN = 10.0


@pytest.fixture(scope="session")
def knowledge(kb: KnowledgeBase) -> KnowledgeBase:
    """The shipped knowledge (the shared ``kb``), under the name the Slack tests use."""
    return kb


def bot_settings(fake: FakeSlack, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "knowledge_dir": Path(DEFAULT_KNOWLEDGE_DIR),
        "slack_bot_token": Secret(BOT_TOKEN),
        "slack_signing_secret": Secret(SIGNING_SECRET),
        "slack_api_base_url": fake.api_url,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class RunningBot:
    """The bot's HTTP server on loopback and handles on what it wrote."""

    slack_app: SlackApp
    store: InMemoryReplyStore
    url: str
    sender: SlackSender

    async def idle(self) -> None:
        """Wait until every reply in flight has been sent and recorded."""
        assert await self.slack_app.services.work.wait_idle(IDLE_WITHIN), "bot never went idle"


@contextlib.asynccontextmanager
async def serving(slack_app: SlackApp, store: InMemoryReplyStore) -> AsyncIterator[RunningBot]:
    """Serve a Bolt app over HTTP on a free loopback port, with a signed-request sender."""
    web_app = create_web_app(slack_app, signing_secret=SIGNING_SECRET)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        try:
            yield RunningBot(slack_app, store, base, SlackSender(session, f"{base}/slack/events"))
        finally:
            await runner.cleanup()


@pytest.fixture
async def bot(fake_slack: FakeSlack, router: Router) -> AsyncIterator[RunningBot]:
    store = InMemoryReplyStore()
    slack_app = create_app(
        bot_settings(fake_slack),
        router,
        reply_store=store,
        deduplicator=TTLEventDeduplicator(),
    )
    assert await slack_app.verify_token(), "auth.test against the fake Slack failed"
    fake_slack.calls.clear()  # the start-up check is not what the tests look at
    async with serving(slack_app, store) as running:
        yield running
