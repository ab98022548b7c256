"""Logs at any level, DEBUG included, carry no message text, user id or token (issue 11,
defect 9): the bot's own lines never did at INFO, but slack_sdk's and slack_bolt's debug
lines went through unfiltered."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.slack.redaction import RedactingFilter, install, mask
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.slack_requests import SIGNING_SECRET, SlackSender, direct_message, mention
from tests.slack.test_slack_serve import SERVING, start_bot

SECRET_WORDS = "zebra-lantern-quietly"  # stands in for whatever someone typed
ASKER = "U0PRIVATE7"
DISCLOSURE = f"someone keeps messaging my child and asking for secrets {SECRET_WORDS}"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def test_masking_removes_tokens_ids_hooks_and_payloads() -> None:
    line = (
        "Sending a request - url: https://hooks.slack.com/commands/T1/2/abc, "
        "headers: {'Authorization': '(redacted)'} token=xoxb-1-2-abc xapp-1-A1-x "
        f"user {ASKER} sig v0=0123456789abcdef0123 body: {{'text': '{SECRET_WORDS}'}}"
    )
    masked = mask(line, library=True)
    for leaked in ("xoxb-1", "xapp-1", ASKER, "abc,", SECRET_WORDS, "0123456789abcdef"):
        assert leaked not in masked
    assert masked.startswith("Sending a request - url: https://hooks.slack.com/…")


def test_the_filter_drops_library_debug_and_flattens_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.Logger("test-root")
    root.addHandler(handler)
    install(root)
    assert any(isinstance(f, RedactingFilter) for f in handler.filters)

    library = logging.Logger("slack_bolt.App")
    library.parent = root
    library.setLevel(logging.DEBUG)
    library.debug("Received the following request: %s", {"text": SECRET_WORDS})
    library.warning("Unhandled request (%s)", {"user": ASKER, "text": SECRET_WORDS})
    own = logging.Logger("bot.slack.work")
    own.parent = root
    try:
        raise KeyError(SECRET_WORDS)
    except KeyError:
        own.exception("a listener failed")
    try:
        raise ConnectionResetError("peer")
    except ConnectionResetError:
        aborted = logging.Logger("aiohttp.server")
        aborted.parent = root
        aborted.exception("Error handling request")

    text = stream.getvalue()
    assert SECRET_WORDS not in text
    assert ASKER not in text
    assert "Traceback" not in text
    assert "Unhandled request ({…}" in text
    assert "a listener failed (KeyError at test_slack_logs.py:" in text
    assert "a client closed its connection" in text
    assert len(text.strip().splitlines()) == 3


@pytest.mark.slow
async def test_a_debug_log_holds_no_text_user_id_or_token(
    fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    bot = await start_bot(
        fake_slack, "--http", "--host", "127.0.0.1", "--port", "0", LOG_LEVEL="DEBUG"
    )
    try:
        base = (await bot.wait_for_line(SERVING)).group(1)
        sender = SlackSender(session, f"{base}/slack/events")
        assert (
            await sender.event(mention(f"who hosted it {SECRET_WORDS}", user=ASKER))
        ).status == 200
        assert (await sender.event(direct_message(DISCLOSURE, user=ASKER))).status == 200
        url = fake_slack.response_url("logs")
        assert (
            await sender.command("/ask", DISCLOSURE, response_url=url, user=ASKER)
        ).status == 200
        assert (
            await sender.command("/ask", SECRET_WORDS, response_url=url, user=ASKER)
        ).status == 200
        await fake_slack.wait_for_calls("chat.postMessage", "chat.postEphemeral", count=2)
        await fake_slack.wait_for(lambda f: len(f.delivered("response_url")) >= 2)
        # A client that hangs up half-way through a request.
        host, port = base.removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"POST /slack/events HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        del reader
    finally:
        assert await bot.stop() == 0
    log = bot.log
    assert "serving Slack" in log
    for leaked in (SECRET_WORDS, ASKER, BOT_TOKEN, SIGNING_SECRET, "secrets"):
        assert leaked not in log, leaked
    assert "Traceback" not in log
