"""A source's answer gate: whether the likeliest answerable entry should answer the question.

The fused probability (:mod:`bot.core.scoring`) scores each candidate alone. Whether to answer
also depends on the rest of the field: how close the runner-up is, whether an unstated item
("the source does not say when") is nearly as likely, whether the question is a yes/no check,
how long it is, how much of it the source's items cover. The gate is a logistic model over
those question-level features (:data:`GATE_FEATURES`, computed by
:func:`bot.core.policy.gate_features`) and their pairwise products, standardised, learned from
the labelled question sets with every question scored by an intent model trained without its
file (``python -m bot.training.router``). The policy answers when its probability reaches
``answer_gate`` (:class:`bot.core.config.RouterConfig`); a source without a gate (or without an
intent model, whose signals it reads) is decided by ``answer_probability`` on the fused
probability alone.

The gate of source ``NAME`` is ``bot/models/answer-gate/NAME.json``: its feature names, the
standardisation, the weights and what it was trained on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

DEFAULT_GATE_DIR = Path(__file__).resolve().parent.parent / "models" / "answer-gate"

# The question-level features, in the order the gate reads them (bot.core.policy.gate_features).
GATE_FEATURES = (
    "probability",  # the likeliest answerable entry's fused probability
    "intent_probability",  # ... the intent model's probability for it
    "intent_not_answered",  # ... the intent model's probability that the source does not answer
    "semantic",  # ... cosine to its closest phrasing
    "semantic_answer",  # ... cosine to its answer and quotes
    "explained",  # ... share of the question its words explain
    "lexical",  # ... lexical score
    "similarity",  # ... rapidfuzz similarity to its best phrasing, 0..1
    "wrong_type",  # 1 when it gives another type of fact than asked (and the model overrules)
    "runner_up",  # the next answerable entry's fused probability (0 when none)
    "runner_up_intent",  # ... its intent probability
    "unstated",  # the likeliest unstated item's fused probability (0 when none)
    "unstated_semantic",  # ... its cosine to the question
    "unstated_similarity",  # ... its rapidfuzz similarity, 0..1
    "yes_no",  # 1 for a yes/no question
    "on_topic",  # 1 when the question uses a domain term of the source
    "coverage",  # the share of the question's terms the source's items use
    "length",  # the question's words, up to 40, as a share of 40
    "margin",  # probability minus runner_up
    "neighbour",  # the likeliest answerable entry's nearest learned text, cosine
    "neighbour_not_answered",  # the nearest text learned as not answered, cosine
    "ngram_neighbour",  # the two by the hashed n-grams (bot.core.intent_model)
    "ngram_neighbour_not_answered",
)

Vector = npt.NDArray[np.float64]


class GateFileError(ValueError):
    """A gate file is missing, malformed or for other features."""


def quadratic_terms(standardised: Vector) -> Vector:
    """The features and their pairwise products (each pair once, squares included), for one
    row or a batch of rows."""
    rows = np.atleast_2d(standardised)
    upper = np.triu_indices(rows.shape[1])
    products = (rows[:, :, None] * rows[:, None, :])[:, upper[0], upper[1]]
    return np.hstack([rows, products])


def term_count(size: int) -> int:
    """How many terms :func:`quadratic_terms` gives for ``size`` features."""
    return size + size * (size + 1) // 2


@dataclass(frozen=True, slots=True)
class AnswerGate:
    mean: Vector
    scale: Vector
    weights: Vector  # over quadratic_terms: the features, then each pair once
    bias: float
    trained_on: str
    # The same weights as a linear part and an upper-triangular matrix of the pairs' weights,
    # so that a decision is z.w + z.P.z: building the terms cost about ten times as much.
    _linear: Vector = field(init=False, repr=False, compare=False)
    _pairs: Vector = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        size = self.mean.size
        if self.scale.size != size or self.weights.size != term_count(size):
            raise GateFileError(f"a gate over {size} features needs {term_count(size)} weights")
        pairs = np.zeros((size, size))
        pairs[np.triu_indices(size)] = self.weights[size:]
        object.__setattr__(self, "_linear", self.weights[:size].copy())
        object.__setattr__(self, "_pairs", pairs)

    def probability(self, features: Sequence[float]) -> float:
        """The probability that the entry the features describe answers the question:
        the logistic of the weighted :func:`quadratic_terms` of the standardised features."""
        z = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        logit = float(z @ self._linear + z @ self._pairs @ z) + self.bias
        if logit >= 0:
            return 1.0 / (1.0 + math.exp(-logit))
        tail = math.exp(logit)
        return tail / (1.0 + tail)

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(GATE_FEATURES),
            "mean": [round(float(v), 8) for v in self.mean],
            "scale": [round(float(v), 8) for v in self.scale],
            "weights": [round(float(v), 8) for v in self.weights],
            "bias": round(self.bias, 8),
            "trained_on": self.trained_on,
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> AnswerGate:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise GateFileError(f"{path}: {error}") from None
        if not isinstance(data, dict) or data.get("features") != list(GATE_FEATURES):
            raise GateFileError(f"{path}: not a gate over {len(GATE_FEATURES)} known features")
        mean = np.asarray(data["mean"], dtype=np.float64)
        if mean.size != len(GATE_FEATURES):
            raise GateFileError(f"{path}: arrays of the wrong size")
        try:  # the other arrays' sizes are checked when the gate is built
            return cls(
                mean,
                np.asarray(data["scale"], dtype=np.float64),
                np.asarray(data["weights"], dtype=np.float64),
                float(data["bias"]),
                str(data.get("trained_on", "")),
            )
        except GateFileError as error:
            raise GateFileError(f"{path}: {error}") from None


def load_answer_gates(
    sources: Sequence[str], directory: Path = DEFAULT_GATE_DIR
) -> dict[str, AnswerGate]:
    """The gate of each source that has one in ``directory``."""
    return {
        source: AnswerGate.load(directory / f"{source}.json")
        for source in sources
        if (directory / f"{source}.json").is_file()
    }


@lru_cache(maxsize=4)
def shared_answer_gates(sources: tuple[str, ...]) -> dict[str, AnswerGate]:
    """The process's shipped gates for some sources, loaded once."""
    return load_answer_gates(sources)
