"""A source's intent model: which entry a question asks for, learned from labelled questions.

A linear text model (:mod:`bot.core.textmodel`: hashed character n-grams and words, and the
static sentence embedding) over the source's entry ids and one more label, ``NOT_ANSWERED``,
for questions the source does not answer (its unstated items' phrasings and the labelled
questions with no answer). It learns from the curated phrasings and from a few thousand
questions written by many independent writers, so it reads misspellings, slang and unfamiliar
wording that the lexical signals miss. Its probability is one signal among the others that the
router fuses (:mod:`bot.core.scoring`); it never answers alone.

It also keeps what it learned from, in two readings: the static embedding (first dimensions
only, unit length) of every curated phrasing and labelled question, grouped by label, and the
same texts' hashed n-gram features (the model's own, :func:`bot.core.textmodel.sparse_features`)
as an inverted index. For a question, :meth:`IntentModel.neighbours` gives each label's nearest
such text by the embedding, and :meth:`IntentModel.ngram_neighbours` by the n-grams: how close
the question comes to one that was asked of an entry, or to one the source does not answer.
Near misses of a fact are asked alike ("how much did the hackathon cost?" beside "how much does
the tool cost?"): a sentence vector blurs the word that differs, the n-grams keep it. The answer
gate (:mod:`bot.core.answer_gate`) reads both. The index leaves out the n-grams found in more
than :data:`bot.training.intent.NGRAM_MAX_TEXTS` learned texts: the commonest ("the", "wha")
would make a question read most of it (about 300,000 postings a question instead of a few
thousand); the cosine is taken over the n-grams kept, each text's vector unit length over all.

The files of source ``NAME`` live in ``bot/models/intent/NAME/`` (:data:`INTENT_FILES`) and
are rebuilt exactly by ``python -m bot.training.intent``. A source without a model is scored
without these signals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from bot.core.embedding import StaticEmbedder
from bot.core.textmodel import FILES, ModelFileError, TextModel, classifier_text, sparse_features

DEFAULT_INTENT_DIR = Path(__file__).resolve().parent.parent / "models" / "intent"
NOT_ANSWERED = "__not_answered__"
# The texts learned from, as unit vectors (float16, rows grouped by label), and each row's
# label (its index in the model's labels, ascending).
NEIGHBOUR_FILES = ("neighbours.npy", "neighbour_labels.npy")
# The same texts' hashed n-gram features as an inverted index, rows in the same order: per
# column, where its postings start (one more than the columns), and each posting's row and value.
NGRAM_FILES = ("ngram_starts.npy", "ngram_rows.npy", "ngram_values.npy")
INTENT_FILES = (*FILES, *NEIGHBOUR_FILES, *NGRAM_FILES)


class Nearest(NamedTuple):
    """Each label's nearest learned text, by the sentence embedding and by the n-grams."""

    sentence: dict[str, float]
    ngrams: dict[str, float]


class IntentModel:
    """One source's trained intent model."""

    def __init__(self, directory: Path, embedder: StaticEmbedder) -> None:
        self._model = TextModel(directory, embedder)
        if NOT_ANSWERED not in self._model.labels:
            raise ModelFileError(f"{directory}: no {NOT_ANSWERED} label")
        self.labels = self._model.labels
        self.trained_on = self._model.trained_on
        self._embedder = embedder
        try:
            table = np.load(directory / NEIGHBOUR_FILES[0], allow_pickle=False)
            owners = np.load(directory / NEIGHBOUR_FILES[1], allow_pickle=False)
            starts, rows, values = (
                np.load(directory / name, allow_pickle=False) for name in NGRAM_FILES
            )
        except (OSError, ValueError) as error:
            raise ModelFileError(f"cannot load the neighbours in {directory}: {error}") from error
        buckets = self._model.buckets
        if (
            starts.shape != (buckets + 1,)
            or rows.shape != values.shape
            or rows.ndim != 1
            or starts[0] != 0
            or starts[-1] != len(rows)
            or np.any(np.diff(starts) < 0)
            or (len(rows) and not 0 <= rows.min() <= rows.max() < len(owners))
        ):
            raise ModelFileError(f"{directory}: the n-gram neighbours do not fit the model")
        self._ngram_starts = starts.astype(np.int64)
        self._ngram_rows = rows.astype(np.intp)
        self._ngram_values = values.astype(np.float32)
        if (
            table.ndim != 2
            or owners.shape != (table.shape[0],)
            or not 0 < table.shape[1] <= embedder.dimensions
            or not np.array_equal(np.unique(owners), np.arange(len(self.labels)))
            or np.any(np.diff(owners) < 0)
        ):
            raise ModelFileError(f"{directory}: the neighbours do not fit the model's labels")
        self._neighbours: npt.NDArray[np.float32] = table.astype(np.float32)
        self._starts = np.flatnonzero(np.diff(owners, prepend=-1))  # each label's first row
        self._ends = np.append(self._starts[1:], len(owners))
        self._number = {label: number for number, label in enumerate(self.labels)}

    def probabilities(self, text: str) -> dict[str, float]:
        """Each label's probability: an entry id, or ``NOT_ANSWERED``."""
        return dict(zip(self.labels, self._model.probabilities(text).tolist(), strict=True))

    def neighbours(self, text: str, labels: Iterable[str] | None = None) -> dict[str, float]:
        """Each label's nearest text learned from: the cosine, in the table's dimensions of
        the static embedding, of the text to the closest one with that label (0 for a text
        with no known word). Given ``labels`` (a question's candidates), only their rows are
        read: the table is the largest thing a question reads, and a question has a handful
        of candidates; labels the model does not know are left out."""
        vector = self._embedder.embed(classifier_text(text))[: self._neighbours.shape[1]]
        wanted = self._numbers(labels)
        norm = float(np.sqrt(vector @ vector))
        if norm == 0:
            return {self.labels[number]: 0.0 for number in wanted}
        unit = vector / norm
        nearest: dict[str, float] = {}
        # Labels with adjacent numbers have adjacent rows: each run is one product.
        for run in _runs(list(wanted)):
            first, last = self._starts[run[0]], self._ends[run[-1]]
            cosines = self._neighbours[first:last] @ unit
            best = np.maximum.reduceat(cosines, self._starts[run] - first)
            nearest.update(zip((self.labels[n] for n in run), best.tolist(), strict=True))
        return nearest

    def _numbers(self, labels: Iterable[str] | None) -> Sequence[int]:
        """The numbers of the labels asked for that the model knows, ascending (all without
        ``labels``)."""
        if labels is None:
            return range(len(self.labels))
        return sorted({self._number[label] for label in labels if label in self._number})

    def ngram_neighbours(self, text: str, labels: Iterable[str] | None = None) -> dict[str, float]:
        """Each label's nearest text learned from by the hashed n-grams: the cosine of the
        text's features to the closest one's, over the n-grams the index keeps (0 when they
        share none). Given ``labels``, only those (that the model knows) are returned."""
        columns, values = sparse_features(classifier_text(text), self._model.buckets)
        firsts = self._ngram_starts[columns]
        counts = self._ngram_starts[columns + 1] - firsts
        total = int(counts.sum())
        # The postings of the text's columns, end to end: each posting's place in the index.
        offsets = np.repeat(firsts - (np.cumsum(counts) - counts), counts) + np.arange(total)
        dots = np.bincount(
            self._ngram_rows[offsets],
            weights=self._ngram_values[offsets] * np.repeat(values, counts),
            minlength=len(self._neighbours),
        )
        best = np.maximum.reduceat(dots, self._starts)
        wanted = self._numbers(labels)
        return {self.labels[number]: float(best[number]) for number in wanted}

    def nearest(self, text: str, labels: Iterable[str] | None = None) -> Nearest:
        """Both readings of the nearest learned texts, for the same labels."""
        wanted = None if labels is None else list(labels)
        return Nearest(self.neighbours(text, wanted), self.ngram_neighbours(text, wanted))


def _runs(numbers: Sequence[int]) -> list[list[int]]:
    """Ascending numbers cut into runs of consecutive ones: [1, 2, 5] -> [[1, 2], [5]]."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][-1] == number - 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return runs


def load_intent_models(
    embedder: StaticEmbedder, sources: Sequence[str], directory: Path = DEFAULT_INTENT_DIR
) -> dict[str, IntentModel]:
    """The model of each source that has one in ``directory``."""
    return {
        source: IntentModel(directory / source, embedder)
        for source in sources
        if (directory / source / "meta.json").is_file()
    }


@lru_cache(maxsize=4)
def shared_intent_models(
    embedder: StaticEmbedder, sources: tuple[str, ...]
) -> dict[str, IntentModel]:
    """The process's shipped models for some sources, loaded once."""
    return load_intent_models(embedder, sources)
