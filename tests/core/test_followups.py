"""Follow-ups lean on the conversation's previous answer; without one, the bot asks back."""

from __future__ import annotations

import pytest

from bot.core.messages import MessageKey
from bot.core.reply import ReplyKind
from bot.core.router import Router


@pytest.mark.parametrize(
    ("question", "previous", "answered"),
    [
        ("when is it?", "fcm-when-where", "fcm-when-where"),
        ("who uses it?", "caid-overview", "caid-users"),
        ("who chairs it?", "taskforce-purpose", "taskforce-chair"),
    ],
)
def test_a_pronoun_question_leans_on_the_previous_answer(
    router: Router, question: str, previous: str, answered: str
) -> None:
    assert router.kb.has_entry(previous)
    reply = router.reply(question, context=[previous])
    assert reply.kind is ReplyKind.ANSWER
    assert reply.intent == answered


@pytest.mark.parametrize("question", ["when is it?", "who uses it?", "how much does it cost?"])
def test_with_no_earlier_turn_a_pronoun_question_asks_back(router: Router, question: str) -> None:
    reply = router.reply(question)
    assert reply.kind is ReplyKind.CLARIFY
    assert reply.body == router.kb.message(MessageKey.CORE_CLARIFY_SUBJECT)
    assert len(reply.suggestions) >= 2


def test_a_disclosure_in_a_follow_up_still_gets_the_support_routes(router: Router) -> None:
    reply = router.reply("it is happening to me, he says to keep it secret", context=["overview"])
    assert reply.kind is ReplyKind.SAFEGUARDING


def test_a_question_with_its_own_subject_ignores_the_context(router: Router) -> None:
    reply = router.reply("who chairs the taskforce?", context=["caid-overview"])
    assert reply.intent == "taskforce-chair"


def test_vague_questions_ask_back_with_readable_choices(router: Router) -> None:
    reply = router.reply("tell me about the home secretary")
    assert reply.kind is ReplyKind.CLARIFY
    assert len(reply.suggestions) >= 2
    assert all(s.question.endswith("?") for s in reply.suggestions)


def test_every_part_is_answered_and_the_missing_part_named(router: Router) -> None:
    reply = router.reply("Who chairs the taskforce? And what did the hackathon cost?")
    assert reply.kind is ReplyKind.ANSWER
    assert reply.intent == "taskforce-chair"
    assert "does not answer this part" in reply.body


def test_a_pronoun_part_is_read_with_the_part_before_it(router: Router) -> None:
    # "Does the release say it?" alone names no subject; with the part before it, it asks the
    # same as that part, which the source does not answer: no other fact is offered as an answer.
    reply = router.reply("Which city hosted the hackathon? Does the release say it?")
    assert reply.kind is ReplyKind.NOT_IN_SOURCE
    explanation = router.explain("What is CAID? Who uses it?")
    assert explanation.decisions[-1].chosen == ("caid-users",)


def test_a_statement_beside_a_question_is_context_not_a_part(router: Router) -> None:
    # The first sentence restates a fact; only the question after it is asked.
    explanation = router.explain(
        "I read that the taskforce is chaired by the Home Secretary. Who else sits on it?"
    )
    assert explanation.reply.kind is ReplyKind.ANSWER
    assert explanation.reply.intent == "taskforce-purpose"
    assert len(explanation.decisions) == 1


def test_explain_shows_the_decision_and_each_signal(router: Router) -> None:
    explanation = router.explain("who chairs the taskforce")
    decision = explanation.decisions[0]
    assert decision.kind.value == "answer"
    best = decision.candidates[0]
    assert best.intent == "taskforce-chair"
    assert 0 < best.probability <= 1
    assert best.semantic > 0
    assert best.lexical > 0


def test_a_short_question_for_a_fact_is_not_small_talk(router: Router) -> None:
    reply = router.reply("how much is it?", context=["innovation-call-amount"])
    assert reply.kind is ReplyKind.ANSWER
    assert reply.intent == "innovation-call-amount"
