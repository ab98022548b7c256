"""Building the app: required settings, the Web API client's address and retries."""

from __future__ import annotations

import pytest
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)

from bot.core.router import Router
from bot.settings import SettingsError
from bot.slack.app import create_app
from bot.slack.memory import InMemoryReplyStore, TTLEventDeduplicator
from bot.slack.server import create_web_app
from tests.slack.conftest import bot_settings
from tests.slack.fake_slack import FakeSlack


async def test_without_a_bot_token_or_installs_the_app_is_refused(
    fake_slack: FakeSlack, router: Router
) -> None:
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        create_app(
            bot_settings(fake_slack, slack_bot_token=None),
            router,
            reply_store=InMemoryReplyStore(),
            deduplicator=TTLEventDeduplicator(),
        )


async def test_the_web_api_client_uses_the_configured_address_and_retries(
    fake_slack: FakeSlack, router: Router
) -> None:
    slack_app = create_app(
        bot_settings(fake_slack),
        router,
        reply_store=InMemoryReplyStore(),
        deduplicator=TTLEventDeduplicator(),
    )
    try:
        client = slack_app.bolt.client
        assert client.base_url == fake_slack.api_url
        assert client.session is slack_app.session
        kinds = {type(handler) for handler in client.retry_handlers or []}
        assert AsyncRateLimitErrorRetryHandler in kinds
        assert any(issubclass(kind, AsyncServerErrorRetryHandler) for kind in kinds)
        with pytest.raises(ValueError, match="signing secret"):
            create_web_app(slack_app, signing_secret="")
    finally:
        await slack_app.close()
    assert slack_app.session.closed


async def test_settings_never_show_secrets(fake_slack: FakeSlack) -> None:
    settings = bot_settings(fake_slack)
    shown = repr(settings) + str(settings)
    assert "xoxb-" not in shown
    assert "test-signing-secret" not in shown
