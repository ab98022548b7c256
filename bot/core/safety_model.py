"""The learned half of the safety gate: a classifier over features that survive misspellings and
slang (:mod:`bot.core.textmodel`: hashed character n-grams and words, and the static sentence
embedding the router uses).

The classifier is a network with one hidden layer of 64 rectified units and a softmax over four
labels (benign, safeguarding, self_concern, harmful): unlike the logistic regression it
replaced, it can tell a request's shape ("how do I ...") from what it asks about, so everyday
questions are not read as harmful ones. Its weights ship in ``bot/models/safety-classifier/``
and are rebuilt exactly by ``python -m bot.training.safety``; the decision thresholds live in
``knowledge/safety.yaml`` under ``classifier``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.core.embedding import StaticEmbedder
from bot.core.textmodel import TextModel

DEFAULT_CLASSIFIER_DIR = Path(__file__).resolve().parent.parent / "models" / "safety-classifier"
LABELS = ("benign", "safeguarding", "self_concern", "harmful")


@dataclass(frozen=True, slots=True)
class Scores:
    """The classifier's probabilities for one message."""

    benign: float
    safeguarding: float
    self_concern: float
    harmful: float

    @property
    def concern(self) -> float:
        """Probability that the writer needs help (safeguarding or self-concern)."""
        return self.safeguarding + self.self_concern

    def to_json(self) -> dict[str, float]:
        return {label: round(getattr(self, label), 4) for label in LABELS}


class SafetyClassifier:
    """Loads the shipped weights and scores messages."""

    def __init__(self, embedder: StaticEmbedder, directory: Path = DEFAULT_CLASSIFIER_DIR) -> None:
        self._model = TextModel(directory, embedder, LABELS)
        self.trained_on = self._model.trained_on

    def scores(self, text: str) -> Scores:
        return Scores(*(float(p) for p in self._model.probabilities(text)))


@lru_cache(maxsize=4)
def shared_classifier(embedder: StaticEmbedder) -> SafetyClassifier:
    """The process's classifier for an embedder, loaded once."""
    return SafetyClassifier(embedder)
