"""Installing into many workspaces, end to end over real HTTP: the bot's server with the OAuth
pages, the fake Slack answering ``oauth.v2.access``, and installations in SQLite or PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select, update

from bot.core.router import Router
from bot.settings import Secret, Settings
from bot.slack.app import SlackApp, create_app
from bot.slack.memory import InMemoryReplyStore, TTLEventDeduplicator
from bot.slack.server import create_web_app
from bot.storage.oauth import BOT_SCOPES, OAuthInstalls, open_oauth
from tests.slack.fake_slack import TEAM_ID, FakeSlack
from tests.slack.slack_requests import SIGNING_SECRET, SlackSender, mention
from tests.storage.conftest import TEST_SECRET
from tests.storage.fake_oauth import CLIENT_ID, CLIENT_SECRET, FakeOAuth

IDLE_WITHIN = 10.0
# slack_sdk's async client authenticates oauth.v2.access with aiohttp's BasicAuth, which
# aiohttp 3.14 deprecates; that is the library's business, not a failure of the flow.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
STATE_COOKIE = "slack-app-oauth-state"


@dataclass
class Installing:
    """The bot serving OAuth pages and events, the fake Slack, and a browser-like session."""

    fake: FakeSlack
    oauth: FakeOAuth
    installs: OAuthInstalls
    slack_app: SlackApp
    url: str
    browser: aiohttp.ClientSession
    sender: SlackSender

    async def start_install(self) -> str:
        """Open the install page like a browser; returns the state in its "Add to Slack" link."""
        async with self.browser.get(f"{self.url}/slack/install") as response:
            assert response.status == 200
            page = await response.text()
            cookie = response.headers["Set-Cookie"]
        found = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', page)
        assert found is not None, page
        link = unescape(found[1])
        query = parse_qs(urlsplit(link).query)
        assert query["client_id"] == [CLIENT_ID]
        assert set(query["scope"][0].split(",")) == set(BOT_SCOPES)
        state = query["state"][0]
        # The browser keeps the state in a Secure cookie (sent back over HTTPS only, so the
        # tests, on plain HTTP, send it themselves).
        assert cookie.startswith(f"{STATE_COOKIE}={state};")
        assert "Secure" in cookie
        return state

    async def callback(
        self, state: str, code: str, *, same_browser: bool = True
    ) -> tuple[int, str]:
        """Slack sending the browser back to the redirect page (with its state cookie)."""
        headers = {"Cookie": f"{STATE_COOKIE}={state}"} if same_browser else {}
        url = f"{self.url}/slack/oauth_redirect?code={code}&state={state}"
        async with self.browser.get(url, headers=headers, allow_redirects=False) as response:
            return response.status, await response.text()

    async def install(self) -> None:
        state = await self.start_install()
        status, _page = await self.callback(state, self.oauth.new_code())
        assert status == 200, _page

    def count(self, table: str) -> int:
        tables = {
            "installations": self.installs.installation_store.store.installations,
            "bots": self.installs.installation_store.store.bots,
            "states": self.installs.state_store.store.oauth_states,
        }
        with self.installs.database.engine.connect() as connection:
            counted: int = connection.execute(
                select(func.count()).select_from(tables[table])
            ).scalar_one()
        return counted

    async def idle(self) -> None:
        assert await self.slack_app.services.work.wait_idle(IDLE_WITHIN), "bot never went idle"


def oauth_settings(database_url: str, fake: FakeSlack) -> Settings:
    return Settings(
        slack_client_id=CLIENT_ID,
        slack_client_secret=Secret(CLIENT_SECRET),
        slack_signing_secret=Secret(SIGNING_SECRET),
        slack_api_base_url=fake.api_url,
        database_url=database_url,
        user_hash_secret=TEST_SECRET,
    )


async def _installing(
    database_url: str, router: Router, *, rotation_expires_in: int | None = None
) -> AsyncIterator[Installing]:
    fake = FakeSlack()
    await fake.start()
    oauth = FakeOAuth(fake, rotation_expires_in=rotation_expires_in)
    settings = oauth_settings(database_url, fake)
    installs = open_oauth(settings, router.kb)
    slack_app = create_app(
        settings,
        router,
        reply_store=InMemoryReplyStore(),
        deduplicator=TTLEventDeduplicator(),
        installation_store=installs.installation_store,
        oauth_settings=installs.oauth_settings,
    )
    installs.register(slack_app.bolt)
    runner = web.AppRunner(create_web_app(slack_app, signing_secret=SIGNING_SECRET))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as browser:
            sender = SlackSender(browser, f"{url}/slack/events")
            yield Installing(fake, oauth, installs, slack_app, url, browser, sender)
    finally:
        await runner.cleanup()
        installs.close()
        await fake.close()


@pytest.fixture
async def installing(database_url: str, router: Router) -> AsyncIterator[Installing]:
    async for value in _installing(database_url, router):
        yield value


async def eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.01)


def _authorizations(fake: FakeSlack, method: str) -> list[str]:
    return [call.headers.get("Authorization", "") for call in fake.delivered(method)]


async def test_install_then_answer_with_the_installed_token(installing: Installing) -> None:
    state = await installing.start_install()
    assert installing.count("states") == 1

    status, page = await installing.callback(state, installing.oauth.new_code())

    assert status == 200, page
    [access] = installing.fake.delivered("oauth.v2.access")
    assert access.body["code"].startswith("code-")
    assert installing.count("installations") == 1
    assert installing.count("bots") == 1
    assert installing.count("states") == 0  # consumed
    [token] = installing.fake.bot_tokens

    await installing.sender.event(mention("Which tech companies took part in the hackathon?"))
    await installing.fake.wait_for_calls("chat.postMessage")
    assert _authorizations(installing.fake, "chat.postMessage") == [f"Bearer {token}"]


async def test_auth_test_is_called_once_per_token_not_before_every_ack(
    installing: Installing,
) -> None:
    # Bolt's installation-store authorisation called auth.test before acknowledging each
    # request (issue 11): with the Web API slow or down, every ack waited on it.
    state = await installing.start_install()
    status, page = await installing.callback(state, installing.oauth.new_code())
    assert status == 200, page
    installed = len(installing.fake.attempts("auth.test"))  # the install itself asks once
    for n in range(3):
        await installing.sender.event(mention("Which tech companies took part in the hackathon?"))
        await installing.fake.wait_for_calls("chat.postMessage", count=n + 1)
    assert len(installing.fake.attempts("auth.test")) == installed + 1


async def test_a_replayed_state_gets_a_clear_answer_and_writes_nothing(
    installing: Installing,
) -> None:
    state = await installing.start_install()
    status, _page = await installing.callback(state, installing.oauth.new_code())
    assert status == 200
    calls_before = len(installing.fake.calls)

    # The same redirect again, even with the browser's state cookie: the state is used up.
    status, page = await installing.callback(state, installing.oauth.new_code())

    assert status == 401
    assert "already been used" in page
    assert len(installing.fake.calls) == calls_before  # no oauth.v2.access
    assert (installing.count("installations"), installing.count("bots")) == (1, 1)


async def test_a_state_expires_after_ten_minutes(installing: Installing) -> None:
    state = await installing.start_install()
    states = installing.installs.state_store.store.oauth_states
    with installing.installs.database.engine.begin() as connection:
        expire_at = connection.execute(select(states.c.expire_at)).scalar_one()
        now = datetime.now(UTC).replace(tzinfo=None)
        assert timedelta(minutes=9) < expire_at - now <= timedelta(minutes=10)
        # Ten minutes later:
        connection.execute(update(states).values(expire_at=now - timedelta(seconds=1)))

    status, page = await installing.callback(state, installing.oauth.new_code())

    assert status == 401
    assert "expired" in page
    assert installing.fake.delivered("oauth.v2.access") == []
    assert installing.count("installations") == 0


async def test_a_state_from_another_browser_is_refused(installing: Installing) -> None:
    state = await installing.start_install()
    status, page = await installing.callback(state, installing.oauth.new_code(), same_browser=False)
    assert status == 400
    assert "another browser" in page
    assert installing.fake.delivered("oauth.v2.access") == []
    assert installing.count("installations") == 0


async def test_a_cancelled_install_says_so(installing: Installing) -> None:
    url = f"{installing.url}/slack/oauth_redirect?error=access_denied&state=x"
    async with installing.browser.get(url) as response:
        page = await response.text()
    assert "cancelled" in page
    assert installing.count("installations") == 0


@pytest.mark.parametrize(
    "revocation",
    [
        {"type": "app_uninstalled"},
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT0001"]}},
    ],
    ids=["app_uninstalled", "tokens_revoked"],
)
async def test_revocation_deletes_the_installation_and_silences_the_team(
    installing: Installing, revocation: dict[str, Any]
) -> None:
    await installing.install()
    response = await installing.sender.event(revocation)
    assert response.status == 200
    # Bolt acknowledges first and runs the listener after: poll until it has deleted.
    await eventually(
        lambda: (installing.count("installations"), installing.count("bots")) == (0, 0)
    )
    installing.fake.calls.clear()

    response = await installing.sender.event(mention("Which tech companies took part?"))

    assert response.status == 200
    await installing.idle()
    assert installing.fake.calls == []


@pytest.fixture
async def rotating(database_url: str, router: Router) -> AsyncIterator[Installing]:
    # Tokens that expire within Bolt's refresh margin (two hours) are refreshed before use.
    async for value in _installing(database_url, router, rotation_expires_in=600):
        yield value


async def test_token_rotation_refreshes_and_saves_the_token(rotating: Installing) -> None:
    await rotating.install()
    [first_token] = rotating.fake.bot_tokens
    store = rotating.installs.installation_store.store
    installed = store.find_installation(enterprise_id=None, team_id=TEAM_ID)
    assert installed is not None
    assert installed.bot_refresh_token is not None

    await rotating.sender.event(mention("Which tech companies took part in the hackathon?"))
    await rotating.fake.wait_for_calls("chat.postMessage")

    refreshes = [
        call
        for call in rotating.fake.delivered("oauth.v2.access")
        if call.body.get("grant_type") == "refresh_token"
    ]
    assert [call.body["refresh_token"] for call in refreshes] == [installed.bot_refresh_token]
    [second_token] = rotating.fake.bot_tokens
    assert second_token != first_token
    assert _authorizations(rotating.fake, "chat.postMessage") == [f"Bearer {second_token}"]
    saved = store.find_installation(enterprise_id=None, team_id=TEAM_ID)
    assert saved is not None
    assert saved.bot_token == second_token
