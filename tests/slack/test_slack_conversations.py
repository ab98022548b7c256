"""Conversations over real HTTP against the fake Slack, with signed requests: follow-ups in
threads and DMs, asking back without context, "did you mean", related questions, native
feedback, the AI-app side panel and a way to reach a person."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.core.knowledge import KnowledgeBase
from bot.core.router import Router
from bot.ports import Vote
from bot.slack.app import create_app
from bot.slack.memory import InMemoryConversationStore, InMemoryReplyStore, TTLEventDeduplicator
from tests.slack.conftest import RunningBot, bot_settings, serving
from tests.slack.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack
from tests.slack.inspect_messages import block, button, value_of, visible_text
from tests.slack.slack_requests import (
    block_actions,
    direct_message,
    mention,
    next_ts,
)
from tests.slack.test_slack_actions import click_and_wait, click_on, posted, posts_to

CONTACT = "#child-safety-help"


async def test_a_follow_up_in_a_channel_thread_leans_on_the_previous_answer(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    first = mention("what will the next Five Country Ministerial focus on?")
    await posted(bot, fake_slack, first)
    follow_up = mention("when is it?", thread_ts=first["ts"])
    call = await posted(bot, fake_slack, follow_up)
    assert call.body["thread_ts"] == first["ts"]
    assert "summer 2019" in visible_text(call.body)
    first_reply, follow_up_reply = bot.store.replies.values()
    assert first_reply.intent == "fcm-focus"
    assert follow_up_reply.kind == "answer"
    assert follow_up_reply.intent != "fcm-focus"


async def test_a_follow_up_in_a_dm_leans_on_the_previous_answer(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    await posted(bot, fake_slack, direct_message("what is CAID?"))
    call = await posted(bot, fake_slack, direct_message("who uses it?"))
    assert "police forces" in visible_text(call.body)
    assert [r.intent for r in bot.store.replies.values()] == ["caid-overview", "caid-users"]


async def test_context_is_kept_per_conversation(bot: RunningBot, fake_slack: FakeSlack) -> None:
    """Another thread, or another person's DM, does not lean on this conversation."""
    first = mention("what is CAID?")
    await posted(bot, fake_slack, first)
    elsewhere = await posted(bot, fake_slack, mention("who uses it?", thread_ts=next_ts()))
    assert block(elsewhere.body, "clarify") is not None
    other_dm = await posted(bot, fake_slack, direct_message("who uses it?", channel="D0OTHER01"))
    assert block(other_dm.body, "clarify") is not None


async def test_a_follow_up_without_an_earlier_answer_asks_back(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    call = await posted(bot, fake_slack, mention("who uses it?"))
    assert "Which of these do you mean?" in visible_text(call.body)
    clarify = block(call.body, "clarify")
    assert clarify is not None
    labels = [e["text"]["text"] for e in clarify["elements"]]
    assert len(labels) >= 2
    assert labels[-1] == "None of these"
    [record] = bot.store.replies.values()
    assert record.kind == "clarify"


async def test_a_follow_up_that_discloses_harm_is_still_routed_to_safeguarding(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    first = mention("what is CAID?", user="U0WORRIED")
    await posted(bot, fake_slack, first)
    event = mention("someone online is grooming my child", user="U0WORRIED", thread_ts=first["ts"])
    await bot.sender.event(event)
    [private] = await fake_slack.wait_for_calls("chat.postEphemeral")
    await bot.idle()
    assert private.body["user"] == "U0WORRIED"
    assert len(fake_slack.delivered("chat.postMessage")) == 1, "nothing more in the channel"
    assert [r.kind for r in bot.store.replies.values()] == ["answer", "safeguarding"]


async def test_a_vague_question_offers_readable_choices_and_none_of_these(
    bot: RunningBot, fake_slack: FakeSlack, knowledge: KnowledgeBase
) -> None:
    call = await posted(bot, fake_slack, direct_message("tell me about the Home Secretary"))
    clarify = block(call.body, "clarify")
    assert clarify is not None
    labels = [e["text"]["text"] for e in clarify["elements"]]
    questions = {entry.question for entry in knowledge.entries}
    assert len(labels) >= 3
    assert all(label in questions for label in labels[:-1]), "readable questions, never ids"
    assert labels[-1] == "None of these"


async def test_an_answer_offers_related_questions_and_a_click_answers_in_the_thread(
    bot: RunningBot, fake_slack: FakeSlack, knowledge: KnowledgeBase
) -> None:
    event = mention("what is CAID?")
    call = await posted(bot, fake_slack, event)
    related = block(call.body, "related")
    assert related is not None
    labels = [e["text"]["text"] for e in related["elements"]]
    assert 1 <= len(labels) <= 3
    questions = {entry.id: entry.question for entry in knowledge.entries}
    assert all(label in questions.values() for label in labels)
    assert questions["caid-overview"] not in labels

    clicked = button(call.body, "related_0")
    payload = click_on(fake_slack, call, "related_0", user="U0CURIOUS")
    payload["message"]["thread_ts"] = event["ts"]
    response = await bot.sender.interaction(payload)
    assert response.status == 200
    answers = await fake_slack.wait_for_calls("chat.postMessage", count=2)
    await bot.idle()
    answer = answers[-1].body
    assert answer["channel"] == event["channel"]
    assert answer["thread_ts"] == event["ts"], "answered in the same thread"
    assert clicked["text"]["text"] in visible_text(answer)
    record = list(bot.store.replies.values())[-1]
    assert record.kind == "answer"
    assert questions[record.intent or ""] == clicked["text"]["text"]
    assert record.user_id == "U0CURIOUS"


async def test_a_related_question_on_a_private_reply_is_answered_privately(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    await bot.sender.command("/ask", "what is CAID?", response_url=fake_slack.response_url("ask"))
    await fake_slack.wait_for(lambda f: bool(posts_to(f, "ask")))
    [asked] = posts_to(fake_slack, "ask")
    await bot.idle()
    click = block_actions(
        button(asked, "related_0"),
        user="U0ASKER1",
        channel="C0CHAN01",
        response_url=fake_slack.response_url("related"),
        ephemeral=True,
    )
    await click_and_wait(bot, fake_slack, click, "related")
    await bot.idle()
    [answer] = posts_to(fake_slack, "related")
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False
    assert not fake_slack.attempts("chat.postMessage"), "never posted into the channel"


async def test_a_native_feedback_click_is_stored_once_per_person(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    call = await posted(bot, fake_slack, mention("what is CAID?"))
    [record] = bot.store.replies.values()
    feedback = block(call.body, "feedback")
    assert feedback is not None
    assert feedback["type"] == "context_actions"
    payload = click_on(fake_slack, call, "feedback_up", token="first")
    assert payload["actions"][0]["type"] == "feedback_buttons"
    assert payload["actions"][0]["action_id"] == "feedback"
    await bot.sender.interaction(payload)
    [update] = await fake_slack.wait_for_calls("chat.update")
    await fake_slack.wait_for(lambda f: bool(posts_to(f, "first")))
    await bot.idle()
    assert bot.store.votes[record.reply_id] == {"U0ASKER1": Vote.UP}
    [note] = posts_to(fake_slack, "first")
    assert note["response_type"] == "ephemeral", "acknowledged privately"

    again = click_on(fake_slack, call, "feedback_up", token="again", message=update.body)
    await click_and_wait(bot, fake_slack, again, "again")
    await bot.idle()
    assert bot.store.votes[record.reply_id] == {"U0ASKER1": Vote.UP}, "stored once"
    assert "already" in visible_text(posts_to(fake_slack, "again")[0])


def panel_started(channel: str, thread_ts: str) -> dict[str, Any]:
    return {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": "U0ASKER1",
            "context": {"channel_id": "C0CHAN01", "team_id": TEAM_ID, "enterprise_id": None},
            "channel_id": channel,
            "thread_ts": thread_ts,
        },
        "event_ts": next_ts(),
    }


async def test_the_side_panel_greets_suggests_prompts_and_answers_in_its_thread(
    bot: RunningBot, fake_slack: FakeSlack, knowledge: KnowledgeBase
) -> None:
    channel, thread = "D0PANEL01", next_ts()
    response = await bot.sender.event(panel_started(channel, thread))
    assert response.status == 200
    [prompts] = await fake_slack.wait_for_calls("assistant.threads.setSuggestedPrompts")
    [greeting] = await fake_slack.wait_for_calls("chat.postMessage")
    await bot.idle()
    assert prompts.body["channel_id"] == channel
    assert prompts.body["thread_ts"] == thread
    offered = prompts.body["prompts"]
    if isinstance(offered, str):  # form-encoded by the client
        offered = json.loads(offered)
    examples = {knowledge.entry(i).question for i in knowledge.example_questions}
    assert len(offered) >= 3
    assert all(p["message"] in examples for p in offered)
    assert greeting.body["thread_ts"] == thread

    await bot.sender.event(
        {**direct_message("what is CAID?", channel=channel), "thread_ts": thread}
    )
    [status] = await fake_slack.wait_for_calls("assistant.threads.setStatus")
    answers = await fake_slack.wait_for_calls("chat.postMessage", count=2)
    [title] = await fake_slack.wait_for_calls("assistant.threads.setTitle")
    await bot.idle()
    assert status.body["thread_ts"] == thread
    assert status.body["status"]
    answer = answers[-1].body
    assert answer["channel"] == channel
    assert answer["thread_ts"] == thread
    assert "Source: " in visible_text(answer)
    assert block(answer, "feedback") is not None
    assert title.body["title"] == knowledge.entry("caid-overview").question
    assert [r.intent for r in bot.store.replies.values()] == ["caid-overview"]

    # A follow-up in the panel leans on the panel thread's answer.
    await bot.sender.event({**direct_message("who uses it?", channel=channel), "thread_ts": thread})
    await fake_slack.wait_for_calls("chat.postMessage", count=3)
    await bot.idle()
    assert [r.intent for r in bot.store.replies.values()] == ["caid-overview", "caid-users"]


async def test_a_disclosure_in_the_side_panel_gets_the_support_routes(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    channel, thread = "D0PANEL02", next_ts()
    await bot.sender.event(panel_started(channel, thread))
    await fake_slack.wait_for_calls("assistant.threads.setSuggestedPrompts")
    await bot.sender.event(
        {
            **direct_message("someone online is grooming my child", channel=channel),
            "thread_ts": thread,
        }
    )
    answers = await fake_slack.wait_for_calls("chat.postMessage", count=2)
    await bot.idle()
    assert "CEOP" in visible_text(answers[-1].body)
    assert not fake_slack.attempts("assistant.threads.setTitle"), "no title from a disclosure"
    assert [r.kind for r in bot.store.replies.values()] == ["safeguarding"]


async def test_a_panel_context_change_is_acknowledged(bot: RunningBot) -> None:
    event = {
        "type": "assistant_thread_context_changed",
        "assistant_thread": {
            "user_id": "U0ASKER1",
            "context": {"channel_id": "C0OTHER01", "team_id": TEAM_ID, "enterprise_id": None},
            "channel_id": "D0PANEL03",
            "thread_ts": next_ts(),
        },
        "event_ts": next_ts(),
    }
    response = await bot.sender.event(event)
    assert response.status == 200
    await bot.idle()


async def test_an_ordinary_dm_thread_is_answered_as_before(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    parent = next_ts()
    await bot.sender.event(direct_message("what is CAID?", thread_ts=parent))
    [call] = await fake_slack.wait_for_calls("chat.postMessage")
    await bot.idle()
    assert call.body["thread_ts"] == parent
    assert not fake_slack.attempts("assistant.threads.setStatus")


@pytest.fixture
async def bot_with_contact(fake_slack: FakeSlack, router: Router) -> AsyncIterator[RunningBot]:
    store = InMemoryReplyStore()
    slack_app = create_app(
        bot_settings(fake_slack, contact=CONTACT),
        router,
        reply_store=store,
        deduplicator=TTLEventDeduplicator(),
        conversations=InMemoryConversationStore(),
    )
    async with serving(slack_app, store) as running:
        yield running


@pytest.mark.parametrize("question", ["human please", "talk to a human", "real person please"])
async def test_asking_for_a_person_gets_the_contact(
    bot_with_contact: RunningBot, fake_slack: FakeSlack, question: str
) -> None:
    call = await posted(bot_with_contact, fake_slack, direct_message(question))
    assert CONTACT in visible_text(call.body)


async def test_help_the_fallback_and_app_home_show_the_contact(
    bot_with_contact: RunningBot, fake_slack: FakeSlack
) -> None:
    help_call = await posted(bot_with_contact, fake_slack, direct_message("what can you do"))
    assert CONTACT in visible_text(help_call.body)
    fallback = await posted(bot_with_contact, fake_slack, direct_message("what is the weather"))
    assert CONTACT in visible_text(fallback.body)
    await bot_with_contact.sender.event(
        {"type": "app_home_opened", "user": "U0ASKER1", "channel": "D0HOME001", "tab": "home"}
    )
    [home] = await fake_slack.wait_for_calls("views.publish")
    assert CONTACT in visible_text(home.body)


async def test_without_a_contact_asking_for_a_person_says_none_is_configured(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    call = await posted(bot, fake_slack, direct_message("human please"))
    assert "no contact person has been set up" in visible_text(call.body)
    assert BOT_USER_ID not in visible_text(call.body)


async def test_a_did_you_mean_choice_becomes_the_subject_of_follow_ups(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    event = direct_message("who uses it?")
    call = await posted(bot, fake_slack, event)
    chosen = button(call.body, "clarify_choose_0")
    await bot.sender.interaction(click_on(fake_slack, call, "clarify_choose_0"))
    await fake_slack.wait_for_calls("chat.update")
    await bot.idle()
    intent = value_of(chosen)["c"]
    conversations = bot.slack_app.services.conversations
    assert await conversations.recall(f"{TEAM_ID}:{event['channel']}:") == (intent,)


async def test_a_refused_panel_status_still_answers(bot: RunningBot, fake_slack: FakeSlack) -> None:
    channel, thread = "D0PANEL04", next_ts()
    await bot.sender.event(panel_started(channel, thread))
    await fake_slack.wait_for_calls("assistant.threads.setSuggestedPrompts")
    fake_slack.refuse_next("assistant.threads.setStatus", "missing_scope")
    await bot.sender.event(
        {**direct_message("what is CAID?", channel=channel), "thread_ts": thread}
    )
    answers = await fake_slack.wait_for_calls("chat.postMessage", count=2)
    await bot.idle()
    assert answers[-1].body["thread_ts"] == thread
    assert [r.intent for r in bot.store.replies.values()] == ["caid-overview"]


async def test_feedback_on_a_follow_up_keeps_the_follow_up_answer(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    await posted(bot, fake_slack, direct_message("what is CAID?"))
    call = await posted(bot, fake_slack, direct_message("who uses it?"))
    record = list(bot.store.replies.values())[-1]
    await bot.sender.interaction(click_on(fake_slack, call, "feedback_up", token="fu"))
    [update] = await fake_slack.wait_for_calls("chat.update")
    await bot.idle()
    assert "police forces" in visible_text(update.body), "rebuilt as the follow-up's answer"
    assert block(update.body, "clarify") is None
    assert bot.store.votes[record.reply_id] == {"U0ASKER1": Vote.UP}


@pytest.mark.parametrize("action_id", ["feedback_up", "related_0"])
async def test_an_unsigned_feedback_or_related_value_is_ignored(
    bot: RunningBot, fake_slack: FakeSlack, action_id: str
) -> None:
    call = await posted(bot, fake_slack, mention("what is CAID?"))
    payload = click_on(fake_slack, call, action_id, token="forged")
    value = payload["actions"][0]["value"]
    payload["actions"][0]["value"] = value.rpartition("~")[0]  # the signature dropped
    response = await bot.sender.interaction(payload)
    assert response.status == 200
    await bot.idle()
    assert not bot.store.votes
    assert len(fake_slack.delivered("chat.postMessage")) == 1, "nothing answered"
    assert not fake_slack.attempts("chat.update")
