"""The router's fit: how questions are weighed, and what the threshold search maximises."""

from __future__ import annotations

import pytest

from bot.training.router import FileScore, Weighing, objective, question_weights


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
