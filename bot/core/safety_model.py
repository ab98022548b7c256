"""The learned half of the safety gate: a linear classifier over features that survive
misspellings and slang.

Features of a message (computed the same way when training and when answering):

- character n-grams (2 to 5 characters, inside word boundaries) and word unigrams and bigrams
  of the folded text, hashed into ``buckets`` columns (CRC-32, so stable across runs and
  machines), sub-linear counts, scaled to unit length;
- the message's static sentence embedding (:mod:`bot.core.embedding`), the same model the
  router uses.

The classifier is a multinomial logistic regression over four labels (benign, safeguarding,
self_concern, harmful). Its weights ship in ``bot/models/safety-classifier/`` and are rebuilt
exactly by ``python -m bot.training.safety``; the decision thresholds live in
``knowledge/safety.yaml`` under ``classifier``.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.core.embedding import StaticEmbedder
from bot.core.normalise import fold

DEFAULT_CLASSIFIER_DIR = Path(__file__).resolve().parent.parent / "models" / "safety-classifier"
LABELS = ("benign", "safeguarding", "self_concern", "harmful")
MAX_CHARS = 1000  # longer messages are classified on their first 1,000 characters

_QUOTE_MARK = re.compile(r"^\s*(?:>|&gt;)\s?", re.MULTILINE)
_TOKEN = re.compile(r"[a-z0-9£$€]+(?:'[a-z]+)?")


class SafetyModelError(RuntimeError):
    """The classifier's files are missing or malformed."""


def classifier_text(text: str) -> str:
    """The text the classifier sees: the one question fold (:func:`bot.core.normalise.fold`:
    Slack markup out, case and quotes folded, contractions and numbers expanded) with quote
    marks dropped and white space collapsed."""
    return " ".join(_QUOTE_MARK.sub(" ", fold(text[:MAX_CHARS])).split())


def _bucket(feature: str, buckets: int) -> int:
    return zlib.crc32(feature.encode("utf-8")) % buckets


@lru_cache(maxsize=65536)
def _token_buckets(token: str, buckets: int) -> tuple[int, ...]:
    """The columns of a word's character n-grams (2 to 5, inside its boundaries) and of the
    word itself; memoised, as words recur."""
    padded = f" {token} "
    grams = [
        "c" + padded[start : start + size]
        for size in range(2, 6)
        for start in range(len(padded) - size + 1)
    ]
    return tuple(_bucket(feature, buckets) for feature in [*grams, "w" + token])


def hashed_features(text: str, buckets: int) -> dict[int, float]:
    """Sparse hashed n-gram features of a classifier text, unit length."""
    tokens = _TOKEN.findall(text)
    counts: Counter[int] = Counter()
    for token in tokens:
        counts.update(_token_buckets(token, buckets))
    for first, second in pairwise(tokens):
        counts[_bucket(f"b{first} {second}", buckets)] += 1
    values = {column: 1.0 + math.log(count) for column, count in counts.items()}
    norm = math.sqrt(sum(v * v for v in values.values()))
    return {k: v / norm for k, v in values.items()} if norm else {}


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
        try:
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
            hashed = np.load(directory / "hashed.npy", allow_pickle=False)
            dense = np.load(directory / "dense.npy", allow_pickle=False)
            bias = np.load(directory / "bias.npy", allow_pickle=False)
        except (OSError, ValueError, KeyError) as error:
            raise SafetyModelError(
                f"cannot load the safety classifier in {directory}: {error}"
            ) from error
        if tuple(meta.get("labels", ())) != LABELS:
            raise SafetyModelError(f"{directory}: labels {meta.get('labels')} are not {LABELS}")
        self.buckets = int(meta["buckets"])
        self.embedding_scale = float(meta["embedding_scale"])
        if hashed.shape != (self.buckets, len(LABELS)) or dense.shape != (
            embedder.dimensions,
            len(LABELS),
        ):
            raise SafetyModelError(f"{directory}: weight shapes do not fit the model")
        self._hashed: npt.NDArray[np.float32] = hashed.astype(np.float32)
        self._dense: npt.NDArray[np.float32] = dense.astype(np.float32)
        self._bias: npt.NDArray[np.float32] = bias.astype(np.float32)
        self._embedder = embedder
        self.trained_on = str(meta.get("corpus", ""))

    def scores(self, text: str) -> Scores:
        folded = classifier_text(text)
        logits = self._bias.copy()
        sparse = hashed_features(folded, self.buckets)
        if sparse:
            columns = np.fromiter(sparse.keys(), dtype=np.int64, count=len(sparse))
            values = np.fromiter(sparse.values(), dtype=np.float32, count=len(sparse))
            logits += values @ self._hashed[columns]
        logits += self.embedding_scale * (self._embedder.embed(folded) @ self._dense)
        shifted = np.exp(logits - logits.max())
        probabilities = shifted / shifted.sum()
        return Scores(*(float(p) for p in probabilities))


@lru_cache(maxsize=4)
def shared_classifier(embedder: StaticEmbedder) -> SafetyClassifier:
    """The process's classifier for an embedder, loaded once."""
    return SafetyClassifier(embedder)
