"""The decision policy over scored candidates (bot/core/policy.py)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.core.answer_gate import GATE_FEATURES, AnswerGate
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


def _gated(router: Router, probability: float, bias: float) -> DecisionKind:
    """The decision for an entry of the type asked, with a gate that says only ``bias``."""
    index = next(iter(router.indexes.values()))
    question = "Who reviews the conversations the tool flags?"
    candidate = Candidate(
        intent="tool-flagging",
        question="Who reviews flagged conversations?",
        unstated=False,
        intent_probability=0.5,
        probability=probability,
        explained=1.0,
    )
    analysis = index.analyser.analyse(question)
    return decide(question, analysis, [candidate], index, learned=True, gate=_constant(bias)).kind


def _constant(bias: float) -> AnswerGate:
    """A gate that reads no feature: its probability is the logistic of ``bias``."""
    size = len(GATE_FEATURES)
    terms = size + size * (size + 1) // 2
    return AnswerGate(np.zeros(size), np.ones(size), np.zeros(terms), bias, "test")


def test_with_a_gate_the_gate_decides_whatever_the_fused_probability(router: Router) -> None:
    assert _gated(router, probability=0.3, bias=5.0) is DecisionKind.ANSWER
    assert _gated(router, probability=0.99, bias=-5.0) is not DecisionKind.ANSWER


def test_a_gate_is_not_read_without_an_intent_model(router: Router) -> None:
    index = next(iter(router.indexes.values()))
    question = "Who reviews the conversations the tool flags?"
    candidate = Candidate(
        intent="tool-flagging", question="q", unstated=False, probability=0.99, explained=1.0
    )
    analysis = index.analyser.analyse(question)
    decision = decide(question, analysis, [candidate], index, learned=False, gate=_constant(-5.0))
    assert decision.kind is DecisionKind.ANSWER
    assert decision.gate is None


@pytest.mark.parametrize("bias", [5.0, -5.0])
def test_a_vague_question_that_several_entries_fit_asks_back_whatever_the_gate(
    router: Router, bias: float
) -> None:
    """The gate judges whether one entry answers; a vague question that two entries citing
    other passages fit about as well is asked back, whether the gate would answer or not."""
    index = next(iter(router.indexes.values()))
    question = "tell me about the money"
    unsure = router.config.clarify_max_intent / 2
    candidates = [
        Candidate(
            intent=intent, question="q", unstated=False, intent_probability=unsure, probability=p
        )
        for intent, p in (("innovation-call-amount", 0.9), ("tool-cost-availability", 0.85))
    ]
    analysis = index.analyser.analyse(question)
    decision = decide(question, analysis, candidates, index, learned=True, gate=_constant(bias))
    assert decision.kind is DecisionKind.CLARIFY
    assert decision.chosen == ("innovation-call-amount", "tool-cost-availability")
