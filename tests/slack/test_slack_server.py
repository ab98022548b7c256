"""The HTTP server: request signatures, malformed bodies, health, and unhandled events."""

from __future__ import annotations

import json
import time

import pytest

from bot import __version__
from bot.core.knowledge import KnowledgeBase
from tests.slack.conftest import RunningBot
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_requests import event_envelope, mention, sign, signed_headers

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def envelope_body() -> str:
    return json.dumps(event_envelope(mention("Who co-hosted the hackathon?")))


async def test_health_reports_the_version_and_knowledge(
    bot: RunningBot, knowledge: KnowledgeBase
) -> None:
    async with bot.sender.session.get(f"{bot.url}/health") as response:
        assert response.status == 200
        assert await response.json() == {
            "status": "ok",
            "version": __version__,
            "entries": len(knowledge.entries),
        }


async def test_url_verification_echoes_the_challenge(bot: RunningBot) -> None:
    body = json.dumps({"type": "url_verification", "token": "t", "challenge": "c-123"})
    response = await bot.sender.post(body, signed_headers(body, JSON))
    assert response.status == 200
    assert "c-123" in response.text


def _headers(body: str, *, timestamp: str, signature: str | None = None) -> dict[str, str]:
    return {
        "Content-Type": JSON,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature if signature is not None else sign(body, timestamp),
    }


@pytest.mark.parametrize(
    "case",
    [
        "forged",
        "other-secret",
        "stale",
        "future",
        "non-numeric",
        "unicode-digits",
        "negative",
        "empty",
        "huge",
    ],
)
async def test_bad_signatures_and_timestamps_get_401(
    bot: RunningBot, fake_slack: FakeSlack, case: str
) -> None:
    body = envelope_body()
    now = int(time.time())
    headers = {
        "forged": _headers(body, timestamp=str(now), signature="v0=" + "0" * 64),
        "other-secret": _headers(
            body, timestamp=str(now), signature=sign(body, str(now), "not-the-secret")
        ),
        "stale": _headers(body, timestamp=str(now - 301)),
        "future": _headers(body, timestamp=str(now + 301)),
        "non-numeric": _headers(body, timestamp="yesterday"),
        "unicode-digits": _headers(body, timestamp="١٧٠٠٠٠٠٠٠٠"),
        "negative": _headers(body, timestamp=f"-{now}"),
        "empty": {"Content-Type": JSON},
        "huge": _headers(body, timestamp="9" * 40),
    }[case]
    response = await bot.sender.post(body, headers)
    assert response.status == 401
    assert "Traceback" not in response.text
    await bot.idle()
    assert not fake_slack.calls, "nothing reached the app"


async def test_a_body_changed_after_signing_gets_401(bot: RunningBot) -> None:
    body = envelope_body()
    headers = signed_headers(body, JSON)
    response = await bot.sender.post(body.replace("co-hosted", "funded"), headers)
    assert response.status == 401


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", JSON),
        ("[1, 2, 3]", JSON),
        ('{"no": "type"}', JSON),
        ('{"type": "event_callback", "event": "a string"}', JSON),
        ("", JSON),
        ("payload=not-json", FORM),
        ("payload=%5B1%2C2%5D", FORM),
        ("hello=world", FORM),
    ],
    ids=[
        "broken-json",
        "json-list",
        "no-type",
        "event-not-object",
        "empty",
        "payload-not-json",
        "payload-list",
        "not-slack-form",
    ],
)
async def test_malformed_signed_bodies_get_400(
    bot: RunningBot, fake_slack: FakeSlack, body: str, content_type: str
) -> None:
    response = await bot.sender.post(body, signed_headers(body, content_type))
    assert response.status == 400
    await bot.idle()
    assert not fake_slack.calls


async def test_a_body_that_is_not_utf8_gets_400(bot: RunningBot) -> None:
    raw = b'{"type": "event_callback", "x": "\xff\xfe"}'
    stamp = str(int(time.time()))
    signature = sign(raw, stamp)
    headers = {
        "Content-Type": JSON,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }
    async with bot.sender.session.post(bot.sender.url, data=raw, headers=headers) as response:
        assert response.status == 400


async def test_event_types_without_a_handler_get_200(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    event = {
        "type": "reaction_added",
        "user": "U0ASKER1",
        "reaction": "thumbsup",
        "event_ts": "1.2",
    }
    response = await bot.sender.event(event)
    assert response.status == 200
    await bot.idle()
    assert not fake_slack.delivered("chat.postMessage", "chat.postEphemeral")


async def test_unknown_paths_are_404(bot: RunningBot) -> None:
    async with bot.sender.session.get(f"{bot.url}/slack/install") as response:
        assert response.status == 404
