"""The decision policy over scored candidates (bot/core/policy.py)."""

from __future__ import annotations

import pytest

from bot.core.policy import DecisionKind, decide
from bot.core.router import Router
from bot.core.scoring import Candidate

QUESTION = "Roughly how big was the set of conversations they analysed?"


def _decide(router: Router, intent_probability: float) -> DecisionKind:
    index = next(iter(router.indexes.values()))
    candidate = Candidate(
        intent="tool-how-built",
        question="How was the tool built?",
        unstated=False,
        wrong_type=True,  # "how big" asks for an amount; the entry is tagged as a method
        intent_probability=intent_probability,
        probability=0.95,
    )
    return decide(QUESTION, index.analyser.analyse(QUESTION), [candidate], index, learned=True).kind


def test_a_sure_intent_model_overrules_the_question_type_rule(router: Router) -> None:
    threshold = router.config.wrong_type_intent
    assert _decide(router, min(1.0, threshold + 0.05)) is DecisionKind.ANSWER


@pytest.mark.parametrize("below", [0.0, 0.05])
def test_otherwise_an_entry_of_another_type_of_fact_does_not_answer(
    router: Router, below: float
) -> None:
    threshold = router.config.wrong_type_intent
    assert _decide(router, max(0.0, threshold - below)) is not DecisionKind.ANSWER
