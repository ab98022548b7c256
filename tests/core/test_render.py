"""Renderers and the JSON contract: wording, citations, escaping."""

from __future__ import annotations

import json

from bot.core.knowledge import KnowledgeBase
from bot.core.render import escape_mrkdwn, render_mrkdwn, render_terminal, reply_json
from bot.core.reply import Reply, ReplyKind
from bot.core.router import Router


def test_escape_mrkdwn_neutralises_markup() -> None:
    assert escape_mrkdwn("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_answer_mrkdwn_quotes_the_passage_with_lines(kb: KnowledgeBase, router: Router) -> None:
    text = render_mrkdwn(kb, router.reply("Who chairs the advertising taskforce?"))
    assert text.splitlines()[0] == "The taskforce is chaired by the Home Secretary."
    assert "> a taskforce, chaired by the Home Secretary," in text
    assert "line 46_" in text


def test_terminal_text_names_source_and_lines(kb: KnowledgeBase, router: Router) -> None:
    text = render_terminal(kb, router.reply("What will the Internet Watch Foundation investigate?"))
    assert "lines 44–45" in text
    assert "Home Office" in text


def test_clarify_lists_choices_and_none_of_these(kb: KnowledgeBase, router: Router) -> None:
    text = render_mrkdwn(kb, router.reply("tell me about the Home Secretary"))
    assert text.rstrip().endswith("None of these")


def test_safeguarding_text_lists_routes(kb: KnowledgeBase, router: Router) -> None:
    text = render_mrkdwn(kb, router.reply("someone online is grooming my child"))
    assert "CEOP" in text
    assert "0800 1111" in text


def test_json_contract(kb: KnowledgeBase, router: Router) -> None:
    obj = reply_json(kb, router.reply("<!here> Who hosted the hackathon?"))
    assert set(obj) == {
        "question",
        "kind",
        "intent",
        "text",
        "citations",
        "confidence",
        "suggestions",
    }
    assert obj["question"] == "<!here> Who hosted the hackathon?"
    assert obj["kind"] == "answer"
    assert obj["intent"] == "hackathon-hosts"
    assert isinstance(obj["confidence"], float)
    citation = obj["citations"][0]  # type: ignore[index]
    assert set(citation) == {"source", "title", "lines", "quote"}
    assert citation["lines"] == [3, 4]
    assert "<!here>" not in str(obj["text"])
    json.dumps(obj)


def test_body_text_from_knowledge_is_escaped(kb: KnowledgeBase) -> None:
    reply = Reply(question="q", kind=ReplyKind.FALLBACK, body="a <!channel> b")
    assert "<!channel>" not in render_mrkdwn(kb, reply)
