"""A source's intent model: which entry a question asks for, learned from labelled questions.

A linear text model (:mod:`bot.core.textmodel`: hashed character n-grams and words, and the
static sentence embedding) over the source's entry ids and one more label, ``NOT_ANSWERED``,
for questions the source does not answer (its unstated items' phrasings and the labelled
questions with no answer). It learns from the curated phrasings and from a few thousand
questions written by many independent writers, so it reads misspellings, slang and unfamiliar
wording that the lexical signals miss. Its probability is one signal among the others that the
router fuses (:mod:`bot.core.scoring`); it never answers alone.

It also keeps what it learned from as vectors: the static embedding (first dimensions only,
unit length) of every curated phrasing and labelled question, grouped by label. For a
question, :meth:`IntentModel.neighbours` gives each label's nearest such text: how close the
question comes to one that was asked of an entry, or to one the source does not answer. Near
misses of a fact are asked alike ("how much did the hackathon cost?" beside "how much does the
tool cost?"), and the answer gate (:mod:`bot.core.answer_gate`) reads the two closenesses.

The files of source ``NAME`` live in ``bot/models/intent/NAME/`` (:data:`INTENT_FILES`) and
are rebuilt exactly by ``python -m bot.training.intent``. A source without a model is scored
without these signals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.core.embedding import StaticEmbedder
from bot.core.textmodel import FILES, ModelFileError, TextModel, classifier_text

DEFAULT_INTENT_DIR = Path(__file__).resolve().parent.parent / "models" / "intent"
NOT_ANSWERED = "__not_answered__"
# The texts learned from, as unit vectors (float16, rows grouped by label), and each row's
# label (its index in the model's labels, ascending).
NEIGHBOUR_FILES = ("neighbours.npy", "neighbour_labels.npy")
INTENT_FILES = (*FILES, *NEIGHBOUR_FILES)


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
        except (OSError, ValueError) as error:
            raise ModelFileError(f"cannot load the neighbours in {directory}: {error}") from error
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
        wanted = (
            range(len(self.labels))
            if labels is None
            else sorted({self._number[label] for label in labels if label in self._number})
        )
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
