"""The slash commands /ask and /measures, and the buttons on their replies, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.knowledge import KnowledgeBase
from tests.slack.conftest import RunningBot
from tests.slack.fake_slack import FakeSlack
from tests.slack.inspect_messages import block, button, buttons, pings_in, value_of, visible_text
from tests.slack.slack_requests import block_actions

QUESTION = "Who chairs the advertising taskforce?"


def posts_to(fake: FakeSlack, token: str) -> list[dict[str, Any]]:
    return [c.body for c in fake.delivered("response_url") if c.path.endswith(f"/{token}")]


async def ask(bot: RunningBot, fake: FakeSlack, text: str, token: str = "ask") -> dict[str, Any]:
    response = await bot.sender.command("/ask", text, response_url=fake.response_url(token))
    assert response.status == 200
    assert response.text == "", "acknowledged with an empty body; the answer follows"
    await fake.wait_for(lambda f: bool(posts_to(f, token)))
    [body] = posts_to(fake, token)
    return body


async def test_ask_answers_privately_restating_the_question(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    body = await ask(bot, fake_slack, QUESTION)
    assert body["response_type"] == "ephemeral"
    first = body["blocks"][0]
    assert first["type"] == "context"
    assert first["elements"][0]["text"] == f"You asked: {QUESTION}"
    assert "Home Secretary" in visible_text(body)
    assert "Source: " in visible_text(body)
    share = button(body, "share_reply")
    assert share["text"]["text"] == "Share in channel"
    await bot.idle()
    [record] = bot.store.replies.values()
    assert record.channel_type == "command"
    assert record.intent == "taskforce-chair"
    assert value_of(share)["r"] == record.reply_id


async def test_ask_without_a_question_shows_how_to_use_it(
    bot: RunningBot, fake_slack: FakeSlack, knowledge: KnowledgeBase
) -> None:
    body = await ask(bot, fake_slack, "   ")
    assert body["response_type"] == "ephemeral"
    assert "/ask" in visible_text(body)
    assert not buttons(body)
    await bot.idle()
    assert not bot.store.replies


async def test_share_in_channel_posts_the_answer_for_everyone(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    body = await ask(bot, fake_slack, QUESTION)
    share = button(body, "share_reply")
    click = block_actions(
        share,
        user="U0ASKER1",
        channel="C0CHAN01",
        response_url=fake_slack.response_url("share"),
        ephemeral=True,
    )
    response = await bot.sender.interaction(click)
    assert response.status == 200
    await fake_slack.wait_for(lambda f: len(posts_to(f, "share")) == 2)
    shared, removed = posts_to(fake_slack, "share")
    assert shared["response_type"] == "in_channel"
    assert shared["replace_original"] is False
    text = visible_text(shared)
    assert f"<@U0ASKER1> asked: {QUESTION}" in text
    assert "Home Secretary" in text
    assert not block(shared, "share"), "the shared message has no share button"
    assert block(shared, "feedback")
    assert removed == {"delete_original": True}


async def test_ask_escapes_what_it_restates_and_shares(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    question = "<!channel> <@U0VICTIM> & <!here> who chairs the advertising taskforce?"
    body = await ask(bot, fake_slack, question)
    first = body["blocks"][0]
    assert first["elements"][0]["text"] == (
        "You asked: &lt;!channel&gt; &lt;@U0VICTIM&gt; &amp; &lt;!here&gt; "
        "who chairs the advertising taskforce?"
    )
    share = button(body, "share_reply")
    click = block_actions(
        share,
        user="U0ASKER1",
        channel="C0CHAN01",
        response_url=fake_slack.response_url("s"),
        ephemeral=True,
    )
    await bot.sender.interaction(click)
    await fake_slack.wait_for(lambda f: len(posts_to(f, "s")) == 2)
    assert pings_in(fake_slack, allowed=("U0ASKER1",)) == []


async def test_private_replies_to_ask_have_no_share_button(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    body = await ask(bot, fake_slack, "someone online is grooming my child")
    assert body["response_type"] == "ephemeral"
    assert not buttons(body)


async def test_ask_with_the_word_payload_in_it_is_still_answered(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    # Bolt decides "interactivity payload" by searching the raw body for the word.
    body = await ask(bot, fake_slack, "payload: who chairs the advertising taskforce?")
    assert "Home Secretary" in visible_text(body)


async def test_measures_lists_every_measure_with_a_summary_and_more_button(
    bot: RunningBot, fake_slack: FakeSlack, knowledge: KnowledgeBase
) -> None:
    await bot.sender.command("/measures", "", response_url=fake_slack.response_url("m"))
    await fake_slack.wait_for(lambda f: bool(posts_to(f, "m")))
    [body] = posts_to(fake_slack, "m")
    assert body["response_type"] == "ephemeral"
    text = visible_text(body)
    for measure in knowledge.measures:
        assert measure.name.replace("&", "&amp;") in text
        assert measure.summary.replace("&", "&amp;") in text
    more = [b for b in buttons(body) if b["action_id"] == "measure_more"]
    assert sorted(b["value"] for b in more) == sorted(m.id for m in knowledge.measures)
    assert all(b["text"]["text"] == "More" for b in more)


@pytest.mark.parametrize(
    ("name", "measure_id"),
    [
        ("caid", "caid-new-tools"),
        ("taskforce", "advertising-taskforce"),
        ("250k", "live-streaming-innovation-call"),
        ("iwf", "iwf-advertising-investigation"),
        ("advertising", "iwf-advertising-investigation"),
    ],
)
async def test_measures_name_shows_that_measure_with_its_passage(
    bot: RunningBot, fake_slack: FakeSlack, knowledge: KnowledgeBase, name: str, measure_id: str
) -> None:
    await bot.sender.command("/measures", name, response_url=fake_slack.response_url("one"))
    await fake_slack.wait_for(lambda f: bool(posts_to(f, "one")))
    [body] = posts_to(fake_slack, "one")
    measure = next(m for m in knowledge.measures if m.id == measure_id)
    text = visible_text(body)
    assert measure.name in text
    assert "Source: " in text
    passage = " ".join(measure.citations[0].quote.split()[:6])
    assert passage in " ".join(text.split())
    others = [m for m in knowledge.measures if m.id != measure_id]
    assert not any(m.name in text for m in others)


async def test_an_unknown_measure_shows_the_list_and_says_nothing_matched(
    bot: RunningBot, fake_slack: FakeSlack, knowledge: KnowledgeBase
) -> None:
    await bot.sender.command(
        "/measures", "<!here> quantum widgets", response_url=fake_slack.response_url("u")
    )
    await fake_slack.wait_for(lambda f: bool(posts_to(f, "u")))
    [body] = posts_to(fake_slack, "u")
    text = visible_text(body)
    assert "Nothing matched “&lt;!here&gt; quantum widgets”." in text
    assert len([b for b in buttons(body) if b["action_id"] == "measure_more"]) == len(
        knowledge.measures
    )
    assert pings_in(fake_slack) == []


async def test_more_shows_the_measure_with_its_passage(
    bot: RunningBot, fake_slack: FakeSlack, knowledge: KnowledgeBase
) -> None:
    await bot.sender.command("/measures", "", response_url=fake_slack.response_url("list"))
    await fake_slack.wait_for(lambda f: bool(posts_to(f, "list")))
    [listing] = posts_to(fake_slack, "list")
    more = next(b for b in buttons(listing) if b.get("value") == "caid-new-tools")
    click = block_actions(
        more,
        user="U0ASKER1",
        channel="C0CHAN01",
        response_url=fake_slack.response_url("more"),
        ephemeral=True,
    )
    response = await bot.sender.interaction(click)
    assert response.status == 200
    await fake_slack.wait_for(lambda f: bool(posts_to(f, "more")))
    [body] = posts_to(fake_slack, "more")
    text = visible_text(body)
    assert "Child Abuse Image Database" in text
    assert "Source: " in text


async def test_command_replies_survive_a_failing_response_url(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("response_url", 503)
    await bot.sender.command("/ask", QUESTION, response_url=fake_slack.response_url("flaky"))
    await fake_slack.wait_for(lambda f: bool(posts_to(f, "flaky")), within=10)
    await bot.idle()
    assert [c.status for c in fake_slack.attempts("response_url")] == [503, 200]
