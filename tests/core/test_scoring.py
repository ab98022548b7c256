"""The fusion: each signal reaches the weight of its name, and the probability is the
logistic of their sum."""

from __future__ import annotations

import dataclasses
import math

from bot.core.config import FusionWeights
from bot.core.scoring import Candidate, fuse


def test_each_feature_is_the_signal_or_product_of_its_name() -> None:
    candidate = Candidate(
        intent="x",
        question="q",
        unstated=False,
        lexical=0.11,
        explained=0.2,
        semantic=0.3,
        semantic_answer=0.4,
        semantic_gap=0.05,
        lexical_gap=0.06,
        wrong_type=True,
        other_subject=False,
        intent_probability=0.7,
        intent_not_answered=0.2,
    )
    features = candidate.features()
    assert tuple(features) == FusionWeights.names()
    assert features == {
        "bias": 1.0,
        "lexical": 0.11,
        "explained": 0.2,
        "semantic": 0.3,
        "semantic_answer": 0.4,
        "semantic_gap": 0.05,
        "lexical_gap": 0.06,
        "wrong_type": 1.0,
        "other_subject": 0.0,
        "intent_probability": 0.7,
        "intent_not_answered": 0.2,
        "intent_semantic": 0.7 * 0.3,
        "intent_explained": 0.7 * 0.2,
        "intent_squared": 0.7 * 0.7,
        "intent_both": 0.7 * 0.2,
        "not_answered_explained": 0.2 * 0.2,
        "explained_semantic_answer": 0.2 * 0.4,
    }


def test_the_probability_is_the_logistic_of_the_weighted_sum() -> None:
    names = FusionWeights.names()
    weights = FusionWeights(**{name: 0.1 * (k + 1) for k, name in enumerate(names)})
    values = tuple(0.5 - 0.03 * k for k in range(len(names)))
    z = sum(getattr(weights, name) * value for name, value in zip(names, values, strict=True))
    assert math.isclose(fuse(values, weights), 1.0 / (1.0 + math.exp(-z)))
    # A new set of weights is read afresh (the vector is memoised per set of weights).
    doubled = dataclasses.replace(weights, bias=weights.bias * 2)
    assert fuse(values, doubled) > fuse(values, weights)
