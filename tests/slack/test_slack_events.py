"""Mentions, direct messages and App Home over real HTTP, against the fake Slack."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core.knowledge import KnowledgeBase
from bot.core.messages import MessageKey
from bot.core.reply import ReplyKind
from tests.slack.conftest import RunningBot
from tests.slack.fake_slack import BOT_ID, BOT_USER_ID, FakeSlack
from tests.slack.inspect_messages import block, buttons, pings_in, visible_text
from tests.slack.slack_requests import direct_message, mention, next_ts

QUESTION = "Which tech companies took part in the hackathon?"


async def test_a_mention_is_answered_in_a_new_thread_with_citations_and_buttons(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    event = mention(QUESTION)
    response = await bot.sender.event(event)
    assert response.status == 200

    [call] = await fake_slack.wait_for_calls("chat.postMessage")
    body = call.body
    assert body["channel"] == event["channel"]
    assert body["thread_ts"] == event["ts"], "starts a thread on the mention"
    assert "Microsoft" in body["text"]
    assert body["unfurl_links"] is False
    assert body["unfurl_media"] is False
    text = visible_text(body)
    assert "Source: " in text
    assert "lines 1–2" in text
    assert any(
        b["type"] == "section" and b["text"]["text"].startswith("> ") for b in body["blocks"]
    )
    assert {b["action_id"] for b in buttons(body)} >= {"feedback_up", "feedback_down"}
    feedback = block(body, "feedback")
    assert feedback is not None
    assert feedback["type"] == "context_actions", "Block Kit's native feedback buttons"
    assert [e["type"] for e in feedback["elements"]] == ["feedback_buttons"]


async def test_the_bots_mention_is_stripped_before_routing(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    await bot.sender.event(mention(f"<@{BOT_USER_ID}|hackathon-bot> {QUESTION}"))
    await fake_slack.wait_for_calls("chat.postMessage")
    await bot.idle()
    [record] = bot.store.replies.values()
    assert record.question == QUESTION
    assert record.kind == ReplyKind.ANSWER
    assert record.intent == "hackathon-companies"
    assert record.channel_type == "channel"
    assert record.user_id == "U0ASKER1"


async def test_a_mention_inside_a_thread_is_answered_in_that_thread(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    parent = next_ts()
    await bot.sender.event(mention(QUESTION, thread_ts=parent))
    [call] = await fake_slack.wait_for_calls("chat.postMessage")
    assert call.body["thread_ts"] == parent


async def test_a_direct_message_is_answered_in_the_dm(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    event = direct_message(QUESTION)
    await bot.sender.event(event)
    [call] = await fake_slack.wait_for_calls("chat.postMessage")
    assert call.body["channel"] == event["channel"]
    assert "thread_ts" not in call.body, "a DM outside a thread is answered outside one"
    await bot.idle()
    [record] = bot.store.replies.values()
    assert record.channel_type == "im"


async def test_a_direct_message_in_a_thread_is_answered_in_the_thread(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    parent = next_ts()
    await bot.sender.event(direct_message(QUESTION, thread_ts=parent))
    [call] = await fake_slack.wait_for_calls("chat.postMessage")
    assert call.body["thread_ts"] == parent


@pytest.mark.parametrize(
    "question", ["someone online is grooming my child", "how to bypass the moderation filter"]
)
async def test_private_replies_in_a_channel_go_only_to_the_asker(
    bot: RunningBot, fake_slack: FakeSlack, question: str
) -> None:
    event = mention(question, user="U0WORRIED")
    await bot.sender.event(event)
    [call] = await fake_slack.wait_for_calls("chat.postEphemeral")
    assert call.body["user"] == "U0WORRIED"
    assert call.body["channel"] == event["channel"]
    assert call.body["thread_ts"] == event["ts"]
    assert not block(call.body, "feedback"), "no buttons on a private reply"
    await bot.idle()
    assert not fake_slack.attempts("chat.postMessage"), "never posted into the channel"
    [record] = bot.store.replies.values()
    assert record.kind in (ReplyKind.SAFEGUARDING, ReplyKind.REFUSAL)


async def test_safeguarding_replies_list_where_to_report(
    bot: RunningBot, fake_slack: FakeSlack, knowledge: KnowledgeBase
) -> None:
    await bot.sender.event(mention("someone online is grooming my child"))
    [call] = await fake_slack.wait_for_calls("chat.postEphemeral")
    text = visible_text(call.body)
    for route in knowledge.support_routes[:3]:
        assert route.name in text


async def test_private_replies_in_a_dm_stay_in_the_dm(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    event = direct_message("someone online is grooming my child")
    await bot.sender.event(event)
    [call] = await fake_slack.wait_for_calls("chat.postMessage")
    assert call.body["channel"] == event["channel"]
    assert not fake_slack.attempts("chat.postEphemeral")


@pytest.mark.parametrize(
    "event",
    [
        direct_message(QUESTION, user=BOT_USER_ID),
        direct_message(QUESTION, user="U0OTHERBOT", bot_id="B0OTHER1"),
        direct_message(QUESTION, subtype="bot_message", bot_id=BOT_ID),
        direct_message(QUESTION, subtype="message_changed"),
        direct_message(QUESTION, subtype="message_deleted"),
        direct_message(QUESTION, subtype="channel_join"),
        mention(QUESTION, user="U0OTHERBOT", bot_id="B0OTHER1"),
        {**direct_message(QUESTION), "channel_type": "channel", "channel": "C0CHAN01"},
    ],
    ids=[
        "own-message",
        "other-bot",
        "bot-message-subtype",
        "edit",
        "delete",
        "join",
        "mention-by-a-bot",
        "channel-message",
    ],
)
async def test_bots_edits_deletions_and_channel_chatter_are_ignored(
    bot: RunningBot, fake_slack: FakeSlack, event: dict[str, object]
) -> None:
    response = await bot.sender.event(dict(event))
    assert response.status == 200
    # A real question afterwards is answered: then the ignored one had its chance.
    sentinel = direct_message("Who co-hosted the hackathon?", channel="D0SENTINEL")
    await bot.sender.event(sentinel)
    await fake_slack.wait_for_calls("chat.postMessage")
    await bot.idle()
    assert [c.body["channel"] for c in fake_slack.delivered("chat.postMessage")] == ["D0SENTINEL"]
    assert not fake_slack.attempts("chat.postEphemeral")


async def test_slack_retries_of_one_event_get_one_reply(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    event = mention(QUESTION)
    deliveries = [
        bot.sender.event(event, event_id="Ev0RETRIED", retry_num=n) for n in (None, 1, 2, 3)
    ]
    responses = await asyncio.gather(*deliveries)
    assert [r.status for r in responses] == [200] * 4
    await fake_slack.wait_for_calls("chat.postMessage")
    await bot.idle()
    assert len(fake_slack.delivered("chat.postMessage")) == 1
    assert len(bot.store.replies) == 1


async def test_a_message_arriving_as_mention_and_as_message_gets_one_reply(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    as_message = direct_message(f"<@{BOT_USER_ID}> {QUESTION}")
    as_mention = {**as_message, "type": "app_mention"}
    del as_mention["channel_type"]
    await asyncio.gather(bot.sender.event(as_message), bot.sender.event(as_mention))
    await fake_slack.wait_for_calls("chat.postMessage")
    await bot.idle()
    assert len(fake_slack.delivered("chat.postMessage")) == 1


async def test_broadcasts_and_mentions_typed_by_users_never_ping(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    question = "<!channel> <!here> <@U0VICTIM> & who chairs the advertising taskforce?"
    await bot.sender.event(mention(question))
    await bot.sender.event(direct_message("<!everyone> <!subteam^S123> what is <!here> CAID?"))
    await fake_slack.wait_for_calls("chat.postMessage", count=2)
    await bot.idle()
    assert pings_in(fake_slack) == []


@pytest.mark.parametrize(
    ("status", "retry_after"), [(429, 0), (500, None), (502, None), (503, None)]
)
async def test_web_api_failures_are_retried_and_the_reply_is_sent_once(
    bot: RunningBot, fake_slack: FakeSlack, status: int, retry_after: int | None
) -> None:
    fake_slack.fail_next("chat.postMessage", status, retry_after=retry_after)
    await bot.sender.event(mention(QUESTION))
    await fake_slack.wait_for_calls("chat.postMessage", within=10)
    await bot.idle()
    attempts = fake_slack.attempts("chat.postMessage")
    assert [c.status for c in attempts] == [status, 200]
    assert attempts[0].body == attempts[1].body
    assert len(fake_slack.delivered("chat.postMessage")) == 1
    assert len(bot.store.replies) == 1


@pytest.mark.slow
async def test_a_reply_that_slack_never_accepts_is_not_recorded(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", 500, times=10)
    response = await bot.sender.event(mention(QUESTION))
    assert response.status == 200
    await fake_slack.wait_for(lambda f: len(f.attempts("chat.postMessage")) == 4, within=20)
    await bot.idle()
    assert not fake_slack.delivered("chat.postMessage")
    assert not bot.store.replies


async def test_a_failed_reply_is_logged_without_the_message_text(
    bot: RunningBot, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    fake_slack.refuse_next("chat.postMessage", "channel_not_found")
    secret_question = "who co-hosted the hackathon? my-private-words"
    await bot.sender.event(mention(secret_question))
    await fake_slack.wait_for(lambda f: bool(f.attempts("chat.postMessage")))
    await bot.idle()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bot")]
    assert [r.getMessage() for r in errors] == [
        "Slack app_mention event failed: SlackApiError(channel_not_found)"
    ]
    assert not any(
        "my-private-words" in r.getMessage() for r in caplog.records if r.levelno >= logging.INFO
    )
    assert not bot.store.replies


@pytest.mark.slow
async def test_the_ack_does_not_wait_for_a_slow_answer(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.slow_down("chat.postMessage", 3.5)
    response = await bot.sender.event(mention(QUESTION))
    assert response.status == 200
    assert response.seconds < 1.0
    assert not fake_slack.delivered("chat.postMessage"), "acknowledged before the answer"
    await fake_slack.wait_for_calls("chat.postMessage", within=10)


async def test_app_home_shows_the_bot_its_sources_measures_examples_and_reporting(
    bot: RunningBot, fake_slack: FakeSlack, knowledge: KnowledgeBase
) -> None:
    ts = next_ts()
    home = {
        "type": "app_home_opened",
        "user": "U0VISITOR",
        "channel": "D0HOME01",
        "tab": "home",
        "event_ts": ts,
    }
    response = await bot.sender.event(home)
    assert response.status == 200
    [call] = await fake_slack.wait_for_calls("views.publish")
    assert call.body["user_id"] == "U0VISITOR"
    view = call.body["view"]
    assert view["type"] == "home"
    text = visible_text(call.body)
    for source in knowledge.sources.values():
        assert source.title in text
    for measure in knowledge.measures:
        assert measure.name.replace("&", "&amp;") in text
    for example in knowledge.example_questions:
        assert example in text
    assert knowledge.support_routes[0].name in text
    assert knowledge.message(MessageKey.SLACK_HOME_REPORT) in text


async def test_opening_the_messages_tab_publishes_nothing(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    messages_tab = {
        "type": "app_home_opened",
        "user": "U0VISITOR",
        "channel": "D0HOME01",
        "tab": "messages",
    }
    await bot.sender.event(messages_tab)
    await bot.sender.event(direct_message(QUESTION))
    await fake_slack.wait_for_calls("chat.postMessage")
    await bot.idle()
    assert not fake_slack.attempts("views.publish")
