"""The router: each reply kind, the traps of question types, clarify, measures, bad input."""

from __future__ import annotations

import pytest

from bot.core.reply import ReplyKind
from bot.core.router import Router
from bot.core.textmodel import sparse_features


def lines_of(reply_citations: object) -> set[tuple[int, int]]:
    return {(c.first_line, c.last_line) for c in reply_citations}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("Who co-hosted the hackathon?", "hackathon-hosts"),
        ("How many days did the engineers work?", "hackathon-duration"),
        ("Who chairs the advertising taskforce?", "taskforce-chair"),
        ("How much is the innovation call worth?", "innovation-call-amount"),
        ("Which police forces use CAID?", "caid-users"),
        ("What is the Five Country Ministerial going to focus on?", "fcm-focus"),
    ],
)
def test_answers_cite_their_passage(router: Router, question: str, intent: str) -> None:
    reply = router.reply(question)
    assert reply.kind is ReplyKind.ANSWER
    assert reply.intent == intent
    assert reply.citations
    assert 0 < reply.confidence <= 1


def test_hackathon_cost_is_never_answered_with_the_innovation_call_figure(router: Router) -> None:
    reply = router.reply("How much did the hackathon cost?")
    assert reply.kind is ReplyKind.NOT_IN_SOURCE
    assert "250,000" not in reply.body
    assert all(c.first_line != 50 for c in reply.citations)


def test_hackathon_date_is_never_answered_with_the_ministerial_date(router: Router) -> None:
    reply = router.reply("When did the hackathon take place?")
    assert reply.kind is ReplyKind.NOT_IN_SOURCE
    assert "2019" not in reply.body
    assert reply.body.startswith("The source does not say")
    assert reply.citations, "offers the closest facts with citations"


@pytest.mark.parametrize(
    "question",
    [
        "What is the Home Secretary's name?",
        "What is the tool called?",
        "Who won the hackathon?",
        "How much funding does CAID get?",
        "Which city was the hackathon in?",
        "Who runs the Five Country Ministerial?",
    ],
)
def test_what_the_source_does_not_state(router: Router, question: str) -> None:
    reply = router.reply(question)
    assert reply.kind is ReplyKind.NOT_IN_SOURCE
    assert reply.suggestions, "closest facts are offered"


def test_a_question_type_no_entry_gives_is_not_answered(router: Router) -> None:
    reply = router.reply("When did the Home Secretary meet the tech firms?")
    assert reply.kind is ReplyKind.NOT_IN_SOURCE


def test_an_unknown_company_gets_the_named_participants(router: Router) -> None:
    """The source names five firms "including" others: the reply quotes that list."""
    reply = router.reply("Did Amazon take part in the hackathon?")
    assert reply.kind in (ReplyKind.ANSWER, ReplyKind.NOT_IN_SOURCE)
    assert (1, 2) in lines_of(reply.citations)
    assert "Amazon" not in reply.body


def test_a_yes_no_question_is_settled_by_the_fact(router: Router) -> None:
    reply = router.reply("Was the hackathon 48 hours long?")
    assert reply.kind is ReplyKind.ANSWER
    assert reply.intent == "hackathon-duration"


def test_a_message_asking_several_things_answers_each(router: Router) -> None:
    reply = router.reply("Where is the Five Country Ministerial, and who chairs the taskforce?")
    assert reply.kind is ReplyKind.ANSWER
    assert {(38, 39), (46, 46)} <= lines_of(reply.citations)


def test_a_comparison_answers_both_sides(router: Router) -> None:
    reply = router.reply("What's the difference between the innovation call and the taskforce?")
    assert reply.kind is ReplyKind.ANSWER
    assert {(50, 52), (46, 49)} <= lines_of(reply.citations)


def test_quoted_slack_context_is_set_aside(router: Router) -> None:
    reply = router.reply("> a £250,000 innovation call\nwho chairs the taskforce?")
    assert reply.intent == "taskforce-chair"


def test_a_vague_question_asks_back_with_readable_questions(router: Router) -> None:
    reply = router.reply("tell me about the Home Secretary")
    assert reply.kind is ReplyKind.CLARIFY
    assert len(reply.suggestions) >= 2
    for suggestion in reply.suggestions:
        assert suggestion.question.endswith("?")
        assert suggestion.intent not in suggestion.question


@pytest.mark.parametrize("subject", ["the tool", "the hackathon", "the prototype", "CAID"])
def test_asking_for_more_about_a_subject_is_asking_about_it(router: Router, subject: str) -> None:
    """ "Tell me more about X", with or without a polite frame, gets the reply to "tell me
    about X": "more" is no subject of its own."""
    plain = router.reply(f"tell me about {subject}")
    for asked in (f"tell me more about {subject}", f"can you tell me a bit more about {subject}?"):
        reply = router.reply(asked)
        assert (reply.kind, reply.intent, reply.suggestions) == (
            plain.kind,
            plain.intent,
            plain.suggestions,
        )


def test_answer_intent_answers_a_chosen_entry(router: Router) -> None:
    reply = router.answer_intent("taskforce-chair", "who leads it?")
    assert reply.kind is ReplyKind.ANSWER
    assert reply.intent == "taskforce-chair"
    assert lines_of(reply.citations) == {(46, 46)}


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("hello", ReplyKind.SMALLTALK),
        ("thanks!", ReplyKind.SMALLTALK),
        ("what can I ask you?", ReplyKind.SMALLTALK),
        ("What's the weather like today?", ReplyKind.FALLBACK),
    ],
)
def test_smalltalk_and_fallback(router: Router, question: str, kind: ReplyKind) -> None:
    assert router.reply(question).kind is kind


def test_fallback_offers_three_example_questions(router: Router) -> None:
    reply = router.reply("best pizza in town?")
    assert reply.kind is ReplyKind.FALLBACK
    assert len(reply.suggestions) == 3


def test_a_greeting_with_a_question_answers_the_question(router: Router) -> None:
    assert router.reply("hi, who hosted the hackathon?").kind is ReplyKind.ANSWER


@pytest.mark.parametrize(
    ("name", "measure"),
    [
        ("caid", "caid-new-tools"),
        ("CAID", "caid-new-tools"),
        ("taskforce", "advertising-taskforce"),
        ("task force", "advertising-taskforce"),
        ("250k", "live-streaming-innovation-call"),
        ("£250,000", "live-streaming-innovation-call"),
        ("iwf", "iwf-advertising-investigation"),
        ("advertising", "iwf-advertising-investigation"),
        ("live streaming", "live-streaming-innovation-call"),
        ("Internet Watch Foundaton", "iwf-advertising-investigation"),
    ],
)
def test_find_measure(router: Router, name: str, measure: str) -> None:
    found = router.find_measure(name)
    assert found is not None
    assert found.id == measure


@pytest.mark.parametrize("name", ["", "pizza", "the weather"])
def test_find_measure_unknown(router: Router, name: str) -> None:
    assert router.find_measure(name) is None


def test_rank_gives_scored_candidates_best_first(router: Router) -> None:
    ranked = router.rank("who chairs the taskforce", limit=3)
    assert ranked[0].intent == "taskforce-chair"
    assert [c.probability for c in ranked] == sorted((c.probability for c in ranked), reverse=True)


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   \n\t ",
        "x" * 100_000,
        "\x00\x01\x02\x1b[31m",
        "🙂🎉🔥",
        "<@U012AB3CD>",
        "<!here>",
        "???",
    ],
)
def test_bad_input_gets_a_sensible_reply(router: Router, question: str) -> None:
    reply = router.reply(question)
    assert reply.kind in (ReplyKind.FALLBACK, ReplyKind.NOT_IN_SOURCE)
    assert reply.body
    assert reply.question == question


def test_clearing_the_caches_forgets_what_was_memoised_per_message(router: Router) -> None:
    """Benchmarks time each question cold: after clear_caches, a question is analysed and
    embedded again, and gets the same reply."""
    question = "Who hosted the hackathon?"
    before = router.reply(question)
    router.clear_caches()
    assert router.general.analyse.cache_info().currsize == 0  # type: ignore[attr-defined]
    assert all(
        i.analyser.analyse.cache_info().currsize == 0  # type: ignore[attr-defined]
        for i in router.indexes.values()
    )
    assert sparse_features.cache_info().currsize == 0
    assert router.reply(question) == before
