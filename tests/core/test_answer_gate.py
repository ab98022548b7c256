"""The answer gate (bot/core/answer_gate.py): its arithmetic, its file, and the shipped one."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bot.core.answer_gate import (
    GATE_FEATURES,
    AnswerGate,
    GateFileError,
    load_answer_gates,
    quadratic_terms,
)
from bot.core.knowledge import KnowledgeBase
from bot.core.router import Router

SIZE = len(GATE_FEATURES)
TERMS = SIZE + SIZE * (SIZE + 1) // 2


def _gate(weights: np.ndarray, bias: float = 0.0) -> AnswerGate:
    return AnswerGate(np.zeros(SIZE), np.ones(SIZE), weights, bias, "test")


def test_the_quadratic_terms_are_the_features_then_each_pair_once() -> None:
    terms = quadratic_terms(np.array([2.0, 3.0, 5.0]))
    assert terms.tolist() == [[2.0, 3.0, 5.0, 4.0, 6.0, 10.0, 9.0, 15.0, 25.0]]
    assert quadratic_terms(np.zeros((4, SIZE))).shape == (4, TERMS)


def test_the_probability_is_the_logistic_of_the_weighted_terms() -> None:
    weights = np.zeros(TERMS)
    weights[0] = 1.5  # the first feature
    weights[SIZE] = -0.5  # its square
    gate = AnswerGate(np.full(SIZE, 1.0), np.full(SIZE, 2.0), weights, 0.25, "test")
    features = [5.0] + [0.0] * (SIZE - 1)  # standardised: (5 - 1) / 2 = 2
    assert gate.probability(features) == pytest.approx(1 / (1 + math.exp(-(3.0 - 2.0 + 0.25))))


def test_the_probability_weighs_every_term_as_quadratic_terms_lists_them() -> None:
    random = np.random.default_rng(7)
    weights = random.normal(size=TERMS)
    gate = AnswerGate(random.normal(size=SIZE), random.uniform(0.5, 2, SIZE), weights, -0.3, "t")
    for _ in range(5):
        features = random.normal(size=SIZE)
        terms = quadratic_terms((features - gate.mean) / gate.scale)[0]
        expected = 1 / (1 + math.exp(-(float(terms @ weights) - 0.3)))
        assert gate.probability(features.tolist()) == pytest.approx(expected, rel=1e-12)


def test_a_gate_with_weights_for_another_size_is_refused() -> None:
    with pytest.raises(GateFileError):
        AnswerGate(np.zeros(SIZE), np.ones(SIZE), np.zeros(TERMS - 1), 0.0, "test")


@pytest.mark.parametrize("bias", [-1000.0, 1000.0])
def test_an_extreme_logit_gives_a_probability_without_overflow(bias: float) -> None:
    assert _gate(np.zeros(TERMS), bias).probability([0.0] * SIZE) == (bias > 0)


def test_a_gate_file_round_trips(tmp_path: Path) -> None:
    gate = _gate(np.linspace(-1, 1, TERMS), 0.5)
    gate.save(tmp_path / "source.json")
    loaded = load_answer_gates(["source", "other"], tmp_path)
    assert list(loaded) == ["source"]
    features = [0.3] * SIZE
    assert loaded["source"].probability(features) == pytest.approx(gate.probability(features))


@pytest.mark.parametrize(
    "change",
    [
        {"features": ["probability"]},
        {"weights": [0.0]},
        {"mean": [0.0] * (SIZE - 1)},
    ],
    ids=["other features", "weights", "mean"],
)
def test_a_gate_file_for_other_features_or_sizes_is_refused(
    tmp_path: Path, change: dict[str, object]
) -> None:
    path = tmp_path / "source.json"
    _gate(np.zeros(TERMS)).save(path)
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    with pytest.raises(GateFileError):
        AnswerGate.load(path)


def test_the_shipped_gate_is_loaded_for_the_source_with_an_intent_model(
    kb: KnowledgeBase, router: Router
) -> None:
    source = next(iter(kb.sources))
    assert source in router.intent_models
    assert source in router.answer_gates
    decision = router.explain("Who reviews the conversations the tool flags?").decisions[0]
    assert decision.gate is not None
    assert decision.to_json()["gate"] == pytest.approx(decision.gate, abs=1e-4)
