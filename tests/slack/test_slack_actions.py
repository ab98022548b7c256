"""Clarify choices and feedback votes, clicked as Slack sends clicks, over real HTTP."""

from __future__ import annotations

from typing import Any

from bot.core.knowledge import KnowledgeBase
from bot.ports import Vote
from tests.slack.conftest import RunningBot
from tests.slack.fake_slack import Call, FakeSlack
from tests.slack.inspect_messages import block, button, buttons, value_of, visible_text
from tests.slack.slack_requests import block_actions, direct_message, mention

VAGUE = "tell me about the Home Secretary"
QUESTION = "Which tech companies took part in the hackathon?"


def posts_to(fake: FakeSlack, token: str) -> list[dict[str, Any]]:
    return [c.body for c in fake.delivered("response_url") if c.path.endswith(f"/{token}")]


async def posted(bot: RunningBot, fake: FakeSlack, event: dict[str, Any]) -> Call:
    """Send an event and return the message the bot posted for it."""
    before = len(fake.delivered("chat.postMessage"))
    await bot.sender.event(event)
    calls = await fake.wait_for_calls("chat.postMessage", count=before + 1)
    await bot.idle()
    return calls[-1]


async def click_and_wait(
    bot: RunningBot, fake: FakeSlack, click: dict[str, Any], token: str
) -> None:
    """Deliver a click and wait (with the fake's deadline) for a post to its response URL."""
    await bot.sender.interaction(click)
    await fake.wait_for(lambda f: bool(posts_to(f, token)))


def click_on(
    fake: FakeSlack,
    call: Call,
    action_id: str,
    *,
    user: str = "U0ASKER1",
    token: str = "click",
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A click on a button of a posted message (``message``: its current blocks)."""
    current = message or call.body
    return block_actions(
        button(current, action_id),
        user=user,
        channel=call.body["channel"],
        response_url=fake.response_url(token),
        message={"text": current["text"], "blocks": current["blocks"]},
        message_ts=call.response["ts"],
    )


async def test_a_clarify_question_offers_one_button_per_candidate_and_none_of_these(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    call = await posted(bot, fake_slack, mention(VAGUE))
    clarify = block(call.body, "clarify")
    assert clarify is not None
    labels = [e["text"]["text"] for e in clarify["elements"]]
    assert len(labels) >= 3
    assert labels[-1] == "None of these"
    assert all(label.endswith("?") for label in labels[:-1])
    assert not block(call.body, "feedback")


async def test_choosing_a_candidate_answers_it_in_place(
    bot: RunningBot, fake_slack: FakeSlack, knowledge: KnowledgeBase
) -> None:
    call = await posted(bot, fake_slack, mention(VAGUE))
    [clarify_record] = bot.store.replies.values()
    assert clarify_record.kind == "clarify"
    choice = button(call.body, "clarify_choose_0")
    chosen = value_of(choice)["c"]

    response = await bot.sender.interaction(click_on(fake_slack, call, "clarify_choose_0"))
    assert response.status == 200
    [update] = await fake_slack.wait_for_calls("chat.update")
    await bot.idle()
    assert update.body["channel"] == call.body["channel"]
    assert update.body["ts"] == call.response["ts"]
    assert not block(update.body, "clarify"), "the question is replaced"
    assert knowledge.entry(chosen).answer.replace("&", "&amp;") in visible_text(update.body)
    assert block(update.body, "feedback")
    assert bot.store.choices[clarify_record.reply_id] == {"U0ASKER1": chosen}
    answer = list(bot.store.replies.values())[-1]
    assert (answer.kind, answer.intent, answer.question) == ("answer", chosen, VAGUE)
    assert value_of(button(update.body, "feedback_up"))["r"] == answer.reply_id


async def test_none_of_these_is_recorded_and_replaces_the_question(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    call = await posted(bot, fake_slack, direct_message(VAGUE))
    [clarify_record] = bot.store.replies.values()
    await bot.sender.interaction(click_on(fake_slack, call, "clarify_none"))
    [update] = await fake_slack.wait_for_calls("chat.update")
    await bot.idle()
    assert not buttons(update.body)
    assert "Try asking in other words" in visible_text(update.body)
    assert bot.store.choices[clarify_record.reply_id] == {"U0ASKER1": None}
    assert len(bot.store.replies) == 1


async def test_only_the_asker_can_choose(bot: RunningBot, fake_slack: FakeSlack) -> None:
    call = await posted(bot, fake_slack, mention(VAGUE))
    click = click_on(fake_slack, call, "clarify_choose_1", user="U0BYSTANDER", token="other")
    await click_and_wait(bot, fake_slack, click, "other")
    await bot.idle()
    [note] = posts_to(fake_slack, "other")
    assert note["response_type"] == "ephemeral"
    assert "Only the person who asked" in visible_text(note)
    assert not fake_slack.attempts("chat.update")
    assert not bot.store.choices


async def test_a_clarify_choice_in_an_ask_reply_is_answered_in_place(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    await bot.sender.command("/ask", VAGUE, response_url=fake_slack.response_url("ask"))
    await fake_slack.wait_for(lambda f: bool(posts_to(f, "ask")))
    [asked] = posts_to(fake_slack, "ask")
    click = block_actions(
        button(asked, "clarify_choose_0"),
        user="U0ASKER1",
        channel="C0CHAN01",
        response_url=fake_slack.response_url("choose"),
        ephemeral=True,
    )
    await click_and_wait(bot, fake_slack, click, "choose")
    [replaced] = posts_to(fake_slack, "choose")
    assert replaced["replace_original"] is True
    assert f"You asked: {VAGUE}" in visible_text(replaced)
    assert block(replaced, "share")
    assert block(replaced, "feedback")
    assert not block(replaced, "clarify")


async def test_feedback_in_a_channel_counts_once_per_person(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    call = await posted(bot, fake_slack, mention(QUESTION))
    [record] = bot.store.replies.values()

    await bot.sender.interaction(click_on(fake_slack, call, "feedback_up", token="v1"))
    [update] = await fake_slack.wait_for_calls("chat.update")
    await fake_slack.wait_for(lambda f: bool(posts_to(f, "v1")))
    assert "noted" in visible_text(posts_to(fake_slack, "v1")[0])
    assert value_of(button(update.body, "feedback_up"))["v"] == ["U0ASKER1"]
    assert value_of(button(update.body, "feedback_down"))["v"] == ["U0ASKER1"]
    assert bot.store.votes[record.reply_id] == {"U0ASKER1": Vote.UP}

    # The same person clicks 👎 on the updated message: refused, nothing written.
    again = click_on(fake_slack, call, "feedback_down", token="v2", message=update.body)
    await click_and_wait(bot, fake_slack, again, "v2")
    await bot.idle()
    assert "already given feedback" in visible_text(posts_to(fake_slack, "v2")[0])
    assert bot.store.votes[record.reply_id] == {"U0ASKER1": Vote.UP}
    assert len(fake_slack.delivered("chat.update")) == 1

    # Someone else still can.
    other = click_on(
        fake_slack, call, "feedback_down", user="U0OTHER", token="v3", message=update.body
    )
    await bot.sender.interaction(other)
    updates = await fake_slack.wait_for_calls("chat.update", count=2)
    await bot.idle()
    assert value_of(button(updates[-1].body, "feedback_up"))["v"] == ["U0ASKER1", "U0OTHER"]
    assert bot.store.votes[record.reply_id] == {"U0ASKER1": Vote.UP, "U0OTHER": Vote.DOWN}


async def test_feedback_in_a_dm_replaces_the_buttons_with_thanks(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    call = await posted(bot, fake_slack, direct_message(QUESTION))
    [record] = bot.store.replies.values()
    await bot.sender.interaction(click_on(fake_slack, call, "feedback_down"))
    [update] = await fake_slack.wait_for_calls("chat.update")
    await bot.idle()
    assert not [b for b in buttons(update.body) if b["block_id"] == "feedback"]
    feedback = block(update.body, "feedback")
    assert feedback is not None
    assert feedback["type"] == "context"
    assert "Thanks for your feedback" in visible_text(update.body)
    assert "Microsoft" in visible_text(update.body), "the answer itself is kept"
    assert bot.store.votes[record.reply_id] == {"U0ASKER1": Vote.DOWN}


async def test_feedback_on_an_ask_reply_rebuilds_it_without_buttons(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    await bot.sender.command("/ask", QUESTION, response_url=fake_slack.response_url("ask"))
    await fake_slack.wait_for(lambda f: bool(posts_to(f, "ask")))
    [asked] = posts_to(fake_slack, "ask")
    await bot.idle()
    click = block_actions(
        button(asked, "feedback_up"),
        user="U0ASKER1",
        channel="C0CHAN01",
        response_url=fake_slack.response_url("vote"),
        ephemeral=True,
    )
    await bot.sender.interaction(click)
    await fake_slack.wait_for(lambda f: len(posts_to(f, "vote")) == 2)
    replaced, note = posts_to(fake_slack, "vote")
    assert replaced["replace_original"] is True
    assert replaced["blocks"][0] == asked["blocks"][0], "still restates the question"
    assert [b["action_id"] for b in buttons(replaced) if b["block_id"] != "related"] == [
        "share_reply"
    ]
    assert "Thanks for your feedback" in visible_text(replaced)
    assert note["response_type"] == "ephemeral"


async def test_a_vote_for_an_unknown_reply_writes_nothing(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    call = await posted(bot, fake_slack, mention(QUESTION))
    bot.store.replies.clear()  # as if the reply had been purged
    await click_and_wait(
        bot, fake_slack, click_on(fake_slack, call, "feedback_up", token="gone"), "gone"
    )
    await bot.idle()
    assert "no longer find" in visible_text(posts_to(fake_slack, "gone")[0])
    assert not bot.store.votes
    assert not fake_slack.attempts("chat.update")


async def test_clicks_on_buttons_the_bot_does_not_know_are_acknowledged(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    stale = {"action_id": "retired_button", "value": "x"}
    click = block_actions(
        stale, user="U0ASKER1", channel="C0CHAN01", response_url=fake_slack.response_url("x")
    )
    response = await bot.sender.interaction(click)
    assert response.status == 200
    await bot.idle()
    assert not fake_slack.delivered("response_url", "chat.update")


async def test_a_button_value_that_is_not_ours_is_ignored(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    forged = {"action_id": "feedback_up", "value": "not json"}
    click = block_actions(
        forged, user="U0ASKER1", channel="C0CHAN01", response_url=fake_slack.response_url("f")
    )
    response = await bot.sender.interaction(click)
    assert response.status == 200
    await bot.idle()
    assert not fake_slack.delivered("response_url", "chat.update")
    assert not bot.store.votes
