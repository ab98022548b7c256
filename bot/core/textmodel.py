"""Linear text models that survive misspellings and slang: one implementation, two uses (the
safety classifier, :mod:`bot.core.safety_model`, and the router's intent model,
:mod:`bot.core.intent_model`).

Features of a text (computed the same way when training and when answering):

- character n-grams (2 to 5 characters, inside word boundaries) and word unigrams and bigrams
  of the folded text, hashed into ``buckets`` columns (CRC-32, so stable across runs and
  machines), sub-linear counts, scaled to unit length;
- the text's static sentence embedding (:mod:`bot.core.embedding`), the model the router uses.

A model is either a multinomial logistic regression over those features (the intent model) or a
network with one hidden layer of rectified units over them (the safety classifier: it can weigh
conjunctions, such as a request's shape with what it asks about, that a linear model cannot).
Its files (``hashed.npy`` float16 and ``dense.npy``: the weights from the features to the labels,
or to the hidden units; ``bias.npy``; ``meta.json`` with the labels and, for a network, the
number of hidden units; and for a network ``output.npy`` and ``output_bias.npy``, the hidden
units to the labels) are written by the training commands of :mod:`bot.training` and read here
with numpy alone.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.core.embedding import StaticEmbedder
from bot.core.normalise import fold

MAX_CHARS = 1000  # longer texts are read on their first 1,000 characters
FILES = ("hashed.npy", "dense.npy", "bias.npy", "meta.json")
HIDDEN_FILES = ("output.npy", "output_bias.npy")  # a network's second layer

_QUOTE_MARK = re.compile(r"^\s*(?:>|&gt;)\s?", re.MULTILINE)
_TOKEN = re.compile(r"[a-z0-9£$€]+(?:'[a-z]+)?")


class ModelFileError(RuntimeError):
    """A model's files are missing or malformed."""


@lru_cache(maxsize=4096)
def classifier_text(text: str) -> str:
    """The text a model sees: the one question fold (:func:`bot.core.normalise.fold`: Slack
    markup out, case and quotes folded, contractions and numbers expanded) with quote marks
    dropped and white space collapsed."""
    return " ".join(_QUOTE_MARK.sub(" ", fold(text[:MAX_CHARS])).split())


def _bucket(feature: str, buckets: int) -> int:
    return zlib.crc32(feature.encode("utf-8")) % buckets


@lru_cache(maxsize=65536)
def _token_buckets(token: str, buckets: int) -> npt.NDArray[np.int64]:
    """The columns of a word's character n-grams (2 to 5, inside its boundaries) and of the
    word itself; memoised, as words recur."""
    padded = f" {token} "
    grams = [
        "c" + padded[start : start + size]
        for size in range(2, 6)
        for start in range(len(padded) - size + 1)
    ]
    columns = np.array([_bucket(f, buckets) for f in [*grams, "w" + token]], dtype=np.int64)
    columns.flags.writeable = False  # shared by every text the word is in
    return columns


@lru_cache(maxsize=4096)
def sparse_features(
    text: str, buckets: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Hashed n-gram features of a classifier text, unit length: the columns (ascending) and
    their values. Each column's value is 1 + log of its count. Memoised (read-only arrays): the
    intent model's probabilities and its n-gram neighbours read a message's alike."""
    tokens = _TOKEN.findall(text)
    if not tokens:
        return _read_only(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
    pairs = [_bucket(f"b{first} {second}", buckets) for first, second in pairwise(tokens)]
    hashed = np.concatenate(
        [*(_token_buckets(token, buckets) for token in tokens), np.array(pairs, dtype=np.int64)]
    )
    hashed.sort()
    # The distinct columns and their counts: what np.unique gives, without its overhead (with
    # the concatenation above, about 48 -> 33 us a text).
    first = np.empty(len(hashed), dtype=bool)
    first[0] = True
    np.not_equal(hashed[1:], hashed[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.empty(len(starts), dtype=np.int64)
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])
    counts[-1] = len(hashed) - starts[-1]
    values: npt.NDArray[np.float64] = 1.0 + np.log(counts)
    return _read_only(hashed[starts], values / np.sqrt(values @ values))


def _read_only(
    columns: npt.NDArray[np.int64], values: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    columns.flags.writeable = False
    values.flags.writeable = False
    return columns, values


def hashed_features(text: str, buckets: int) -> dict[int, float]:
    """:func:`sparse_features` as a mapping of column to value (for training)."""
    columns, values = sparse_features(text, buckets)
    return dict(zip(columns.tolist(), values.tolist(), strict=True))


class TextModel:
    """A trained model's weights, and its probabilities for a text."""

    def __init__(
        self, directory: Path, embedder: StaticEmbedder, labels: Sequence[str] | None = None
    ) -> None:
        try:
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
            hashed = np.load(directory / "hashed.npy", allow_pickle=False)
            dense = np.load(directory / "dense.npy", allow_pickle=False)
            bias = np.load(directory / "bias.npy", allow_pickle=False)
            found = tuple(str(label) for label in meta["labels"])
            self.buckets = int(meta["buckets"])
            self.embedding_scale = float(meta["embedding_scale"])
            self.hidden = int(meta.get("hidden", 0))
            second = (
                tuple(np.load(directory / name, allow_pickle=False) for name in HIDDEN_FILES)
                if self.hidden
                else None
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelFileError(f"cannot load the model in {directory}: {error}") from error
        if labels is not None and found != tuple(labels):
            raise ModelFileError(f"{directory}: labels {list(found)} are not {list(labels)}")
        width = self.hidden or len(found)
        if (
            hashed.shape != (self.buckets, width)
            or dense.shape != (embedder.dimensions, width)
            or bias.shape != (width,)
            or (
                second is not None
                and (second[0].shape != (width, len(found)) or second[1].shape != (len(found),))
            )
        ):
            raise ModelFileError(f"{directory}: weight shapes do not fit the model")
        self.labels = found
        # Row-major, whatever the file's order: a text reads a few hundred rows of the hashed
        # weights, and gathering rows of a column-major table cost six times as much.
        self._hashed: npt.NDArray[np.float32] = np.ascontiguousarray(hashed, dtype=np.float32)
        self._dense: npt.NDArray[np.float32] = dense.astype(np.float32)
        self._bias: npt.NDArray[np.float32] = bias.astype(np.float32)
        self._output: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None = (
            None if second is None else (second[0].astype(np.float32), second[1].astype(np.float32))
        )
        self._embedder = embedder
        self.trained_on = str(meta.get("corpus", ""))

    def probabilities(self, text: str) -> npt.NDArray[np.float32]:
        """The probability of each label (in ``labels`` order) for a text."""
        folded = classifier_text(text)
        logits = self._bias.copy()
        columns, values = sparse_features(folded, self.buckets)
        if len(columns):
            logits += values @ self._hashed[columns]
        logits += self.embedding_scale * (self._embedder.embed(folded) @ self._dense)
        if self._output is not None:
            weights, bias = self._output
            logits = np.maximum(logits, 0) @ weights + bias
        shifted = np.exp(logits - logits.max())
        probabilities: npt.NDArray[np.float32] = shifted / shifted.sum()
        return probabilities
