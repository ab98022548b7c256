"""Fuzzing the real HTTP server with signed random events, slash commands and interaction
payloads (issue 11): no request gets a 500, every one is answered within Slack's 3 seconds
(the client gives up after that, as Slack does), and afterwards the bot is healthy and still
answers.

Deterministic (``derandomize``) and modest (a few hundred examples), so the suite stays fast.
``FUZZ_EXAMPLES`` raises the count; the status codes seen are printed (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.blocks import Origin, ReplyRef
from bot.slack.signing import ValueSigner
from tests.slack.conftest import RunningBot
from tests.slack.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack
from tests.slack.slack_requests import mention, sign, signed_headers
from tests.slack.test_slack_actions import posted

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "400"))
ACK_DEADLINE = 3.0  # Slack's: a request not answered by then has failed
QUESTION = "Which tech companies took part in the hackathon?"
ACTION_IDS = (
    "feedback_up",
    "feedback_down",
    "share_reply",
    "measure_more",
    "clarify_none",
    "clarify_choose_0",
    "clarify_choose_99",
    "retired_button",
)

# --- strategies -------------------------------------------------------------------------------

ids = st.one_of(
    st.sampled_from(["U0ASKER1", "U0OTHER1", "W0GRID001", BOT_USER_ID, "", "U", "D0DIRECT1"]),
    st.text(max_size=40),
    st.builds(lambda n: "U" + "A" * n, st.integers(0, 3000)),
)
texts = st.one_of(
    st.sampled_from(
        [
            QUESTION,
            f"<@{BOT_USER_ID}> who hosted it",
            "<!channel> <!here> <@U0OTHER1>",
            "how much did it cost \ud800",
            "\x00\x01 & < >",
            "",
        ]
    ),
    st.text(max_size=600),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
maybe = lambda strategy: st.one_of(strategy, json_values)  # noqa: E731


def event_bodies() -> st.SearchStrategy[dict[str, Any]]:
    event = st.fixed_dictionaries(
        {
            "type": maybe(
                st.sampled_from(
                    ["app_mention", "message", "app_home_opened", "reaction_added", "x"]
                )
            ),
            "user": maybe(ids),
            "text": maybe(texts),
            "channel": maybe(st.sampled_from(["C0CHAN01", "D0DIRECT1", "G0PRIV01", ""])),
            "ts": maybe(st.sampled_from(["1712345678.000100", "1.2", ""])),
        },
        optional={
            "channel_type": maybe(st.sampled_from(["im", "channel", "group"])),
            "subtype": maybe(st.sampled_from(["bot_message", "message_changed", "file_share"])),
            "thread_ts": maybe(st.just("1712345678.000001")),
            "bot_id": maybe(st.just("B1")),
            "tab": maybe(st.sampled_from(["home", "messages"])),
        },
    )
    return st.fixed_dictionaries(
        {
            "type": st.one_of(
                st.sampled_from(["event_callback", "url_verification", "app_rate_limited"]),
                st.text(max_size=20),
            ),
            "event": event,
        },
        optional={
            "team_id": maybe(st.just(TEAM_ID)),
            "event_id": maybe(st.text(max_size=20)),
            "challenge": maybe(st.text(max_size=20)),
            "authorizations": json_values,
        },
    )


def command_fields(response_urls: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {
            "command": st.one_of(
                st.sampled_from(["/ask", "/measures", "/other"]), st.text(max_size=10)
            ),
            "text": texts,
            "user_id": ids,
            "response_url": response_urls,
        },
        optional={
            "team_id": st.just(TEAM_ID),
            "channel_id": st.sampled_from(["C0CHAN01", "D0DIRECT1"]),
            "trigger_id": st.text(max_size=10),
        },
    )


def interaction_payloads(
    response_urls: st.SearchStrategy[str], signed: st.SearchStrategy[str]
) -> st.SearchStrategy[dict[str, Any]]:
    action = st.fixed_dictionaries(
        {},
        optional={
            "action_id": maybe(st.sampled_from(ACTION_IDS)),
            "value": maybe(st.one_of(signed, st.text(max_size=100))),
            "block_id": maybe(st.sampled_from(["feedback", "clarify", "share"])),
            "type": maybe(st.just("button")),
        },
    )
    return st.fixed_dictionaries(
        {
            "type": st.one_of(
                st.sampled_from(
                    [
                        "block_actions",
                        "view_submission",
                        "view_closed",
                        "shortcut",
                        "message_action",
                        "interactive_message",
                        "workflow_step_edit",
                        "block_suggestion",
                        "dialog_submission",
                    ]
                ),
                st.text(max_size=20),
            ),
        },
        optional={
            "user": maybe(st.fixed_dictionaries({"id": maybe(ids)})),
            "team": maybe(st.fixed_dictionaries({"id": st.just(TEAM_ID)})),
            "actions": maybe(st.lists(maybe(action), max_size=3)),
            "response_url": maybe(response_urls),
            "container": maybe(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "is_ephemeral": maybe(st.booleans()),
                        "channel_id": maybe(st.just("C0CHAN01")),
                        "message_ts": maybe(st.just("1700000000.000001")),
                    },
                )
            ),
            "message": maybe(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "ts": maybe(st.just("1700000000.000001")),
                        "text": maybe(texts),
                        "blocks": json_values,
                    },
                )
            ),
            "view": json_values,
            "callback_id": maybe(st.text(max_size=10)),
            "channel": maybe(st.fixed_dictionaries({"id": maybe(st.just("C0CHAN01"))})),
        },
    )


def signed_values(signer: ValueSigner) -> st.SearchStrategy[str]:
    """Values the bot itself signed, about any question, asker and entry."""
    refs = st.builds(
        ReplyRef,
        reply_id=st.text(min_size=1, max_size=40),
        asker=st.sampled_from(["U0ASKER1", "U0OTHER1"]),
        origin=st.sampled_from(list(Origin)),
        question=texts,
        intent=st.one_of(st.none(), st.sampled_from(["measures-package", "nope"])),
        choice=st.one_of(st.none(), st.sampled_from(["hackathon-companies", "nope"])),
    )
    return refs.map(lambda ref: ref.encode(signer))


def requests(fake: FakeSlack, signer: ValueSigner) -> st.SearchStrategy[tuple[str, str, str]]:
    """(kind, content type, body) of a signed request."""
    response_urls = st.one_of(
        st.builds(fake.response_url, st.sampled_from(["fuzz-a", "fuzz-b"])),
        st.sampled_from(["", "not a url", "http://127.0.0.1:1/internal", "file:///etc/passwd"]),
        st.text(max_size=40),
    )
    events = event_bodies().map(lambda body: ("event", "application/json", json.dumps(body)))
    commands = command_fields(response_urls).map(
        lambda fields: (
            "command",
            "application/x-www-form-urlencoded",
            urlencode(fields, errors="surrogatepass"),
        )
    )
    interactions = interaction_payloads(response_urls, signed_values(signer)).map(
        lambda payload: (
            "interaction",
            "application/x-www-form-urlencoded",
            urlencode({"payload": json.dumps(payload)}),
        )
    )
    garbage = st.one_of(
        json_values.map(lambda v: ("garbage", "application/json", json.dumps(v))),
        st.text(max_size=200).map(lambda t: ("garbage", "application/x-www-form-urlencoded", t)),
        st.integers(500, 5000).map(
            lambda depth: ("garbage", "application/json", '{"type":"x","a":' + "[" * depth)
        ),
    )
    return st.one_of(events, commands, interactions, garbage)


# --- the test ---------------------------------------------------------------------------------


def post(url: str, content_type: str, body: str) -> int:
    """One signed POST, as Slack makes it; fails if not answered within Slack's deadline."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=ACK_DEADLINE)
    raw = body.encode("utf-8", "surrogatepass")  # even bytes that are not UTF-8
    headers = signed_headers("", content_type)
    headers["X-Slack-Signature"] = sign(raw, headers["X-Slack-Request-Timestamp"])
    try:
        connection.request("POST", parts.path, body=raw, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.slow
async def test_fuzzed_signed_requests_get_no_500_in_time_and_leave_the_bot_healthy(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    seen: Counter[tuple[str, int]] = Counter()
    events_url = bot.sender.url
    strategy = requests(fake_slack, bot.slack_app.services.signer)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def fuzz(request: tuple[str, str, str]) -> None:
        kind, content_type, body = request
        status = post(events_url, content_type, body)
        seen[(kind, status)] += 1
        assert (status != 500 and status < 500) or status == 503, (kind, status, body[:300])

    started = time.perf_counter()
    await asyncio.to_thread(fuzz)
    await bot.idle()
    elapsed = time.perf_counter() - started

    statuses = Counter(status for (_, status), n in seen.items() for _ in range(n))
    print(
        f"\nfuzz: {sum(seen.values())} signed payloads in {elapsed:.1f}s; "
        f"status codes {dict(sorted(statuses.items()))}; "
        f"by kind {dict(sorted((f'{k}:{s}', n) for (k, s), n in seen.items()))}"
    )
    assert sum(seen.values()) >= EXAMPLES
    assert 500 not in statuses
    async with bot.sender.session.get(f"{bot.url}/health") as health:
        assert health.status == 200
        assert (await health.json())["status"] == "ok"
    call = await posted(bot, fake_slack, mention(QUESTION))  # and it still answers
    assert "Microsoft" in json.dumps(call.body)
