"""Hostile and odd input over real HTTP: each test is a defect of issue 11 that once broke.

No request the app receives gets a 500, every one is acknowledged in time, nothing is posted
anywhere but Slack, and a click acts only on a value the bot signed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from bot.core.router import Router
from bot.ports import Vote, VoteOutcome
from bot.slack.app import create_app
from bot.slack.failures import describe_error
from bot.slack.listeners.errors import handle_error
from bot.slack.memory import InMemoryReplyStore, TTLEventDeduplicator
from bot.slack.server import create_web_app
from tests.slack.conftest import RunningBot, bot_settings
from tests.slack.fake_slack import FakeSlack
from tests.slack.inspect_messages import PING, button, mrkdwn_text, value_of
from tests.slack.slack_requests import (
    SIGNING_SECRET,
    SlackSender,
    block_actions,
    mention,
    signed_headers,
)
from tests.slack.test_slack_actions import click_and_wait, click_on, posted, posts_to

FORM = "application/x-www-form-urlencoded"
QUESTION = "Which tech companies took part in the hackathon?"
ACK_WITHIN = 3.0  # Slack's deadline, as a bound on the wait (the bot acks in milliseconds)


@asynccontextmanager
async def running_bot(
    fake: FakeSlack,
    router: Router,
    *,
    store: Any = None,
    verify: bool = True,
    **settings: object,
) -> AsyncIterator[RunningBot]:
    """The bot as the ``bot`` fixture starts it, with a store or settings of the test's own."""
    store = store if store is not None else InMemoryReplyStore()
    slack_app = create_app(
        bot_settings(fake, **settings),
        router,
        reply_store=store,
        deduplicator=TTLEventDeduplicator(),
    )
    if verify:
        await slack_app.verify_token(attempts=1, delay=0)
    fake.calls.clear()
    runner = web.AppRunner(create_web_app(slack_app, signing_secret=SIGNING_SECRET))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        try:
            yield RunningBot(slack_app, store, base, SlackSender(session, f"{base}/slack/events"))
        finally:
            await runner.cleanup()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def interaction(bot: RunningBot, payload: object) -> int:
    body = urlencode({"payload": json.dumps(payload)})
    async with asyncio.timeout(ACK_WITHIN):
        response = await bot.sender.post(body, signed_headers(body, FORM))
    return response.status


# --- 1. a hang --------------------------------------------------------------------------------


async def test_a_huge_asker_id_is_acknowledged_and_nothing_hangs(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    # ReplyRef.encode looped forever for an asker id of about 2,000 characters.
    async with asyncio.timeout(ACK_WITHIN):
        response = await bot.sender.event(mention(QUESTION, user="U" + "A" * 2500))
    assert response.status == 200
    await bot.idle()
    assert not fake_slack.delivered("chat.postMessage")
    url = fake_slack.response_url("huge")
    async with asyncio.timeout(ACK_WITHIN):
        response = await bot.sender.command("/ask", QUESTION, response_url=url, user="U" * 2500)
    assert response.status == 200
    await bot.idle()


# --- 4. 500s ----------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1_000, 100_000])
async def test_deeply_nested_json_gets_400(bot: RunningBot, depth: int) -> None:
    body = '{"type":"event_callback","event":' + '{"a":' * depth + "1" + "}" * (depth + 1)
    response = await bot.sender.post(body, signed_headers(body, "application/json"))
    assert response.status == 400
    nested = json.dumps({"type": "block_actions", "actions": [1]})[:-1]
    payload = nested + ',"x":' + "[" * depth + "]" * depth + "}"
    form = urlencode({"payload": payload})
    response = await bot.sender.post(form, signed_headers(form, FORM))
    assert response.status == 400


@pytest.mark.parametrize("actions", ["a string", [1], [{}], [], None, {"x": 1}, [[]]])
async def test_malformed_actions_are_not_a_500(
    bot: RunningBot, fake_slack: FakeSlack, actions: object
) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ASKER1"},
        "team": {"id": "T0TEST01"},
        "actions": actions,
        "response_url": fake_slack.response_url("malformed"),
    }
    assert await interaction(bot, payload) in (200, 400)
    await bot.idle()


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "view_submission", "user": {"id": "U0ASKER1"}, "view": {}},
        {"type": "view_submission", "user": {"id": "U0ASKER1"}},
        {"type": "view_closed", "user": {"id": "U0ASKER1"}, "view": {"type": 1}},
        {"type": "interactive_message", "user": {"id": "U0ASKER1"}},
        {"type": "workflow_step_edit", "user": {"id": "U0ASKER1"}},
        {"type": "shortcut", "callback_id": "x", "user": {"id": "U0ASKER1"}},
        {"type": "message_action", "callback_id": "x"},
        {"type": "block_suggestion", "action_id": "x", "user": {"id": "U0ASKER1"}},
        {"type": "dialog_submission", "callback_id": "x"},
        {"type": "something_new", "user": "not an object"},
        {"type": "block_actions", "user": "U0ASKER1", "actions": [{"action_id": 5}]},
        {"type": "block_actions", "user": {"id": ["U"]}, "container": [], "message": "m"},
    ],
)
async def test_odd_interaction_types_get_200_or_400(
    bot: RunningBot, payload: dict[str, Any]
) -> None:
    assert await interaction(bot, payload) in (200, 400)
    await bot.idle()


# --- 5. acks after the deadline ---------------------------------------------------------------


async def test_ask_with_an_unusable_response_url_is_acknowledged(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    # The listener acked and failed at once; Bolt overwrote the ack: a 404 after 3.01 s.
    for url in (
        "http://nowhere.invalid/x",
        "not a url",
        f"http://127.0.0.1:{closed_port()}/x",
        "",
    ):
        async with asyncio.timeout(ACK_WITHIN):
            response = await bot.sender.command("/ask", QUESTION, response_url=url)
        assert response.status == 200, url
    await bot.idle()


class BrokenVotes(InMemoryReplyStore):
    """A store whose votes fail, as during a database outage."""

    async def record_vote(self, *, reply_id: str, user_id: str, vote: Vote) -> VoteOutcome:
        raise ConnectionError("the database is down (simulated)")


async def test_a_vote_during_an_outage_is_acknowledged_and_the_voter_told(
    fake_slack: FakeSlack, router: Router
) -> None:
    async with running_bot(fake_slack, router, store=BrokenVotes()) as bot:
        call = await posted(bot, fake_slack, mention(QUESTION))
        async with asyncio.timeout(ACK_WITHIN):
            response = await bot.sender.interaction(
                click_on(fake_slack, call, "feedback_up", token="outage")
            )
        assert response.status == 200
        await fake_slack.wait_for(lambda f: bool(posts_to(f, "outage")))
        await bot.idle()
        [told] = posts_to(fake_slack, "outage")
        assert "couldn't save" in mrkdwn_text(told)


# --- 6. the Web API unreachable ---------------------------------------------------------------


async def test_events_are_acknowledged_while_the_web_api_is_unreachable(
    fake_slack: FakeSlack, router: Router
) -> None:
    # Bolt called auth.test before acknowledging: a 500 after 2-3 s.
    unreachable = f"http://127.0.0.1:{closed_port()}/api/"
    async with running_bot(fake_slack, router, verify=False, slack_api_base_url=unreachable) as bot:
        assert not await bot.slack_app.verify_token(attempts=1, delay=0)
        async with bot.sender.session.get(f"{bot.url}/health") as health:
            assert health.status == 200
            assert (await health.json())["status"] == "degraded"
        for _ in range(3):
            async with asyncio.timeout(ACK_WITHIN):
                response = await bot.sender.event(mention(QUESTION))
            assert response.status == 200
        async with asyncio.timeout(ACK_WITHIN):
            response = await bot.sender.command(
                "/ask", QUESTION, response_url=fake_slack.response_url("down")
            )
        assert response.status == 200
        await bot.idle()


async def test_a_token_slack_refuses_stops_start_up_with_one_line(
    fake_slack: FakeSlack, router: Router
) -> None:
    from bot.settings import Secret, SettingsError

    async with running_bot(
        fake_slack, router, verify=False, slack_bot_token=Secret("xoxb-revoked")
    ) as bot:
        with pytest.raises(SettingsError, match=r"refused by Slack's auth\.test"):
            await bot.slack_app.verify_token(attempts=1, delay=0)


# --- 7. the error handler ---------------------------------------------------------------------


def api_error(data: object, status: int) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data=data,  # type: ignore[arg-type]
        headers={},
        status_code=status,
    )
    return SlackApiError("failed", response)


@pytest.mark.parametrize(
    ("data", "status", "described"),
    [
        ("<html>bad gateway</html>", 502, "SlackApiError(HTTP 502)"),
        ({"ok": False, "error": "channel_not_found"}, 200, "SlackApiError(channel_not_found)"),
        ({"ok": False, "error": "<!channel> and text"}, 200, "SlackApiError(HTTP 200)"),
        ([1, 2], 500, "SlackApiError(HTTP 500)"),
        (None, 503, "SlackApiError(HTTP 503)"),
    ],
)
async def test_the_error_handler_copes_with_any_error_body(
    data: object, status: int, described: str, caplog: pytest.LogCaptureFixture
) -> None:
    error = api_error(data, status)
    assert describe_error(error) == described
    await handle_error(error, {"type": "block_actions"})
    await handle_error(error, "not a dict")  # type: ignore[arg-type]
    assert all("Traceback" not in r.getMessage() for r in caplog.records)


async def test_a_non_json_5xx_from_the_web_api_is_one_log_line(
    bot: RunningBot, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_slack.fail_next("chat.postMessage", 502, times=10)
    await bot.sender.event(mention(QUESTION))
    await fake_slack.wait_for(lambda f: bool(f.attempts("chat.postMessage")))
    await bot.idle()  # after slack_sdk's retries
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in failures] == [
        "Slack app_mention event failed: SlackApiError(HTTP 502)"
    ]
    assert not any(r.exc_info for r in caplog.records if r.name.startswith("bot"))


# --- 10. response_url -------------------------------------------------------------------------


@asynccontextmanager
async def listener() -> AsyncIterator[tuple[str, list[str]]]:
    """An internal HTTP service on loopback that records what reaches it."""
    reached: list[str] = []

    async def record(request: web.Request) -> web.Response:
        reached.append(request.path)
        return web.Response(status=503)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", reached
    finally:
        await runner.cleanup()


async def test_response_urls_outside_slack_are_refused(
    bot: RunningBot, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    # The bot POSTed to any http(s) address, and retried a 5xx three times.
    async with listener() as (internal, reached):
        for url in (f"{internal}/admin", f"{internal.replace('http', 'https')}/x"):
            response = await bot.sender.command("/ask", QUESTION, response_url=url)
            assert response.status == 200
        call = await posted(bot, fake_slack, mention(QUESTION))
        click = click_on(fake_slack, call, "feedback_up")
        click["response_url"] = f"{internal}/click"
        await bot.sender.interaction(click)
        await bot.idle()
        assert reached == []
    assert bot.slack_app.services.responses.permits("https://hooks.slack.com/commands/T1/2/3")
    assert not bot.slack_app.services.responses.permits("https://hooks.slack.com.evil.org/x")
    assert not bot.slack_app.services.responses.permits("https://user@hooks.slack.com/x")
    assert not bot.slack_app.services.responses.permits("http://hooks.slack.com/x")


# --- 11. button values ------------------------------------------------------------------------


async def ask(bot: RunningBot, fake: FakeSlack, token: str) -> dict[str, Any]:
    await bot.sender.command("/ask", QUESTION, response_url=fake.response_url(token))
    await fake.wait_for(lambda f: bool(posts_to(f, token)))
    await bot.idle()
    return posts_to(fake, token)[0]


async def test_only_the_asker_can_share(bot: RunningBot, fake_slack: FakeSlack) -> None:
    body = await ask(bot, fake_slack, "asked")
    share = button(body, "share_reply")
    click = block_actions(
        share,
        user="U0OTHER1",
        channel="C0CHAN01",
        response_url=fake_slack.response_url("forged-share"),
        ephemeral=True,
    )
    await click_and_wait(bot, fake_slack, click, "forged-share")
    await bot.idle()
    posts = posts_to(fake_slack, "forged-share")
    assert all(p.get("response_type") != "in_channel" for p in posts)
    assert "Only the person who asked" in mrkdwn_text(posts[0])


def forged(value: str, **changes: object) -> str:
    """A value with fields changed, keeping the signature it had (as a forger would)."""
    text, _, mac = value.rpartition("~")
    return json.dumps({**json.loads(text), **changes}) + "~" + mac


async def test_values_the_bot_did_not_sign_are_ignored(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    body = await ask(bot, fake_slack, "asked")
    share = button(body, "share_reply")
    unsigned = share["value"].rpartition("~")[0]
    disclosure = "my uncle keeps messaging my child and asking for secrets"
    for value in (
        unsigned,  # what the bot used to write, and accept
        forged(share["value"], u="U0FORGER", i="measures-package"),
        forged(share["value"], q=disclosure, i="measures-package"),
        json.dumps({**value_of(share), "q": disclosure, "i": "measures-package"}),
    ):
        click = block_actions(
            {**share, "value": value},
            user="U0FORGER",
            channel="C0CHAN01",
            response_url=fake_slack.response_url("forged"),
            ephemeral=True,
        )
        assert (await bot.sender.interaction(click)).status == 200
    await bot.idle()
    assert posts_to(fake_slack, "forged") == []


async def test_a_disclosure_is_never_shared_whatever_the_value_names(
    bot: RunningBot, fake_slack: FakeSlack, router: Router
) -> None:
    from dataclasses import replace

    from bot.slack.blocks import Origin, ReplyRef

    disclosure = "someone online keeps asking my child to keep secrets and send photos"
    assert router.reply(disclosure).is_private
    services = bot.slack_app.services
    ref = ReplyRef("r" * 32, "U0ASKER1", Origin.COMMAND, disclosure, intent="measures-package")
    value = replace(ref).encode(services.signer)  # even a value the bot signed
    click = block_actions(
        {"action_id": "share_reply", "value": value},
        user="U0ASKER1",
        channel="C0CHAN01",
        response_url=fake_slack.response_url("disclosure"),
        ephemeral=True,
    )
    await click_and_wait(bot, fake_slack, click, "disclosure")
    await bot.idle()
    posts = posts_to(fake_slack, "disclosure")
    assert all(p.get("response_type") != "in_channel" for p in posts)


async def test_a_vote_writes_back_only_blocks_the_bot_built(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    call = await posted(bot, fake_slack, mention(QUESTION))
    current = dict(call.body)
    planted = {"type": "section", "text": {"type": "mrkdwn", "text": "<!channel> planted"}}
    current["blocks"] = [planted, *current["blocks"]]
    click = click_on(fake_slack, call, "feedback_up", user="U0OTHER1", message=current)
    await bot.sender.interaction(click)
    [update] = await fake_slack.wait_for_calls("chat.update")
    await bot.idle()
    assert "planted" not in json.dumps(update.body)
    assert not PING.search(mrkdwn_text(update.body))
    assert value_of(button(update.body, "feedback_up"))["v"] == ["U0OTHER1"]


async def test_a_forged_clarify_click_records_no_choice(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    call = await posted(bot, fake_slack, mention("tell me about the Home Secretary"))
    [record] = bot.store.replies.values()
    choose = button(call.body, "clarify_choose_0")
    for user, value in (
        ("U0OTHER1", choose["value"]),  # a real button, someone else's question
        ("U0OTHER1", forged(choose["value"], u="U0OTHER1")),  # claiming to be the asker
    ):
        click = block_actions(
            {**choose, "value": value},
            user=user,
            channel=call.body["channel"],
            response_url=fake_slack.response_url("forged-choice"),
            message={"text": call.body["text"], "blocks": call.body["blocks"]},
            message_ts=call.response["ts"],
        )
        await bot.sender.interaction(click)
    await bot.idle()
    assert record.reply_id not in bot.store.choices
    assert not fake_slack.delivered("chat.update")
