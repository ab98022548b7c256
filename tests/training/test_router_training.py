"""The router's fit: how questions are weighed, and what the threshold search maximises."""

from __future__ import annotations

import dataclasses

import pytest

import bot.core.router as router_module
from bot.core.knowledge import KnowledgeBase
from bot.core.router import Router
from bot.training.router import (
    FileScore,
    ThresholdTrials,
    Weighing,
    objective,
    question_weights,
)


def test_a_file_rich_in_near_misses_weighs_them_down_to_the_share() -> None:
    answered, none = question_weights(due_none=50, total=100, share=0.25)
    assert (answered, none) == pytest.approx((1.5, 0.5))
    # The file keeps its weight, and its questions with no answer weigh a quarter of it.
    assert 50 * answered + 50 * none == pytest.approx(100)
    assert 50 * none / 100 == pytest.approx(0.25)


@pytest.mark.parametrize(("due_none", "share"), [(50, 0.0), (0, 0.25), (100, 0.25)])
def test_weights_stay_even_when_there_is_nothing_to_balance(due_none: int, share: float) -> None:
    assert question_weights(due_none, 100, share) == (1.0, 1.0)


def test_the_objective_weighs_each_file_to_the_share_and_charges_false_answers() -> None:
    # 60 answerable questions, 50 right; 40 with no answer, 30 right, 10 answered anyway.
    score = FileScore(right=80, right_none=30, false=10, due_none=40, total=100)
    even = objective({"f": score}, Weighing(false_answer_cost=1.0, unanswered_share=0.0))
    assert even == pytest.approx((80 - 10) / 100)
    weighed = objective({"f": score}, Weighing(false_answer_cost=1.0, unanswered_share=0.25))
    answered, none = question_weights(40, 100, 0.25)
    assert weighed == pytest.approx((50 * answered + (30 - 10) * none) / 100)
    costly = objective({"f": score}, Weighing(false_answer_cost=2.0, unanswered_share=0.0))
    assert costly == pytest.approx((80 - 20) / 100)


def test_a_threshold_trial_decides_as_a_fresh_router_without_rescoring(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = [
        "how much did the hackathon cost",
        "who reviews what the tool flags?",
        "Was Amazon at the hackathon?",
        "what is the innovation fund for",
    ]
    configs = [
        dataclasses.replace(kb.router_config, answer_probability=value) for value in (0.9, 0.3, 0.6)
    ]
    expected = [
        [
            Router(dataclasses.replace(kb, router_config=config), intent_models={}).reply(q)
            for q in questions
        ]
        for config in configs
    ]
    trials = ThresholdTrials(kb, None)
    for config, replies in zip(configs, expected, strict=True):
        trials.use(config)
        assert [trials.reply(q) for q in questions] == replies
        # After the first trial, every question's scoring is kept: scoring again would fail.
        monkeypatch.setattr(router_module, "score", _no_scoring)


def _no_scoring(*_: object) -> None:
    raise AssertionError("a threshold trial scored a question again")


def test_a_threshold_trial_refuses_a_change_of_the_scoring(kb: KnowledgeBase) -> None:
    trials = ThresholdTrials(kb, None)
    with pytest.raises(ValueError, match="semantic_candidates"):
        trials.use(dataclasses.replace(kb.router_config, semantic_candidates=2))
