"""The core's conversation helpers: related questions, follow-up context, abbreviations
spelled out, passages never shown twice, shorter "not in source" and safeguarding replies,
and a way to reach a person."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.conversation import (
    MAX_RELATED,
    RelatedQuestions,
    distinct_citations,
    spell_out,
    with_contact,
)
from bot.core.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from bot.core.render import render_mrkdwn
from bot.core.reply import Citation, ReplyKind
from bot.core.router import Router

MakeKnowledge = Callable[[str, str, str], Path]


def test_every_answer_offers_up_to_three_readable_related_questions(
    kb: KnowledgeBase, router: Router
) -> None:
    questions = {entry.question for entry in kb.entries}
    for entry in kb.entries:
        reply = router.answer_intent(entry.id, entry.question)
        assert 1 <= len(reply.related) <= MAX_RELATED, entry.id
        assert all(s.question in questions for s in reply.related)
        assert entry.id not in {s.intent for s in reply.related}
        assert len({s.intent for s in reply.related}) == len(reply.related)


def test_related_questions_share_the_subject(router: Router) -> None:
    reply = router.reply("what is CAID?")
    assert reply.intent == "caid-overview"
    assert {s.intent for s in reply.related} & {"caid-users", "caid-new-tools"}


def test_a_curated_related_list_comes_first(make: MakeKnowledge) -> None:
    folder = make(
        "faq.yaml",
        "  keywords: [caid, database, indecent, images, identify, victims, search]\n",
        "  keywords: [caid, database, indecent, images, identify, victims, search]\n"
        "  related: [hackathon-companies]\n",
    )
    related = RelatedQuestions(load_knowledge(folder))
    assert related.ids("caid-overview")[0] == "hackathon-companies"


@pytest.mark.parametrize(
    ("related", "message"),
    [("[no-such-entry]", "unknown entry 'no-such-entry'"), ("[caid-overview]", "itself")],
)
def test_a_related_list_naming_an_unknown_entry_stops_loading(
    make: MakeKnowledge, related: str, message: str
) -> None:
    folder = make(
        "faq.yaml",
        "  keywords: [caid, database, indecent, images, identify, victims, search]\n",
        "  keywords: [caid, database, indecent, images, identify, victims, search]\n"
        f"  related: {related}\n",
    )
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(folder)
    assert message in str(caught.value)
    assert "caid-overview" in str(caught.value)


@pytest.fixture
def make(knowledge_copy: MakeKnowledge) -> MakeKnowledge:
    return knowledge_copy


def test_nothing_else_offers_related_questions(router: Router) -> None:
    for question in ("hello", "How much did the hackathon cost?", "who uses it?"):
        assert not router.reply(question).related


def test_a_pronoun_follow_up_uses_the_context_and_asks_back_without_it(router: Router) -> None:
    assert router.reply("who uses it?", context=("caid-overview",)).intent == "caid-users"
    asked = router.reply("who uses it?")
    assert asked.kind is ReplyKind.CLARIFY
    assert asked.suggestions


def test_a_disclosure_after_an_answer_is_still_safeguarding(router: Router) -> None:
    reply = router.reply("someone online is grooming my child", context=("caid-overview",))
    assert reply.kind is ReplyKind.SAFEGUARDING


def test_an_abbreviation_is_spelled_out_the_first_time_only(router: Router) -> None:
    body = router.reply("what is CAID?").body
    assert body.startswith("CAID (the Child Abuse Image Database) is")
    assert body.count("Child Abuse Image Database") == 1
    assert "NCA (the National Crime Agency)" in body


def test_spelling_out_is_data_driven_and_idempotent() -> None:
    terms = {"ABC": "the Alphabet Council"}
    once = spell_out("ABC met. ABC agreed.", terms)
    assert once == "ABC (the Alphabet Council) met. ABC agreed."
    assert spell_out(once, terms) == once
    assert spell_out("The Alphabet Council (ABC) met.", terms) == "The Alphabet Council (ABC) met."
    assert spell_out("ABCD met.", terms) == "ABCD met."


def test_no_passage_is_shown_twice() -> None:
    long = Citation("s", "T", 3, 5, "one two\nthree four five")
    short = Citation("s", "T", 4, 4, "three four")
    other = Citation("s", "T", 9, 9, "three four")
    assert distinct_citations([short, long, long, other]) == (long, other)


def test_not_in_source_gives_at_most_two_closest_facts_and_no_passage_twice(
    kb: KnowledgeBase, router: Router
) -> None:
    for item in kb.unstated:
        reply = router.replies.not_in_source(
            item.question, unstated=item.id, nearest=None, confidence=1.0
        )
        assert len(reply.suggestions) <= 2
        assert reply.body.startswith("The source does not say")
        quotes = [" ".join(c.quote.split()) for c in reply.citations]
        assert len(quotes) == len(set(quotes))


def test_safeguarding_leads_with_the_most_urgent_line_and_lists_each_route_once(
    kb: KnowledgeBase, router: Router
) -> None:
    reply = router.reply("someone online is grooming my child")
    urgent = kb.support_routes[0]
    assert reply.body.startswith(urgent.description.rstrip("."))
    assert urgent.phone is not None
    assert urgent.phone in reply.body
    assert reply.route_description(urgent) == "", "the lead line is not repeated"
    text = render_mrkdwn(kb, reply)
    assert text.count(urgent.description.rstrip(".")) == 1
    for route in reply.listed_routes:
        assert text.count(f"*{route.name}*") == 1


@pytest.mark.parametrize("question", ["human please", "talk to a human", "real person please"])
def test_asking_for_a_person_is_recognised(
    kb: KnowledgeBase, router: Router, question: str
) -> None:
    reply = router.reply(question)
    assert reply.intent == "smalltalk.contact"
    assert "#help" in with_contact(reply, kb, "#help").body
    assert "no contact person" in with_contact(reply, kb, None).body


def test_help_and_the_fallback_name_the_contact_only_when_one_is_set(
    kb: KnowledgeBase, router: Router
) -> None:
    for question in ("what can you do", "what is the weather like"):
        reply = router.reply(question)
        assert "mailto:x@example.org" in with_contact(reply, kb, "mailto:x@example.org").body
        assert with_contact(reply, kb, None) == reply
    answer = router.reply("what is CAID?")
    assert with_contact(answer, kb, "#help") == answer


def test_a_source_url_is_read_from_its_metadata(make: MakeKnowledge) -> None:
    folder = make(
        "sources/home-office-hackathon-2018.yaml",
        "publisher: UK Home Office\n",
        "publisher: UK Home Office\nurl: https://www.gov.uk/government/news/example\n",
    )
    kb = load_knowledge(folder)
    [source] = kb.sources.values()
    assert source.url == "https://www.gov.uk/government/news/example"


def test_abbreviations_live_in_the_lexicon_and_need_their_meaning(make: MakeKnowledge) -> None:
    folder = make(
        "lexicon/home-office-hackathon-2018.yaml",
        "  CAID: the Child Abuse Image Database\n",
        '  CAID: ""\n',
    )
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(folder)
    assert "abbreviation 'CAID'" in str(caught.value)
