"""A source's intent model: which entry a question asks for, learned from labelled questions.

A linear text model (:mod:`bot.core.textmodel`: hashed character n-grams and words, and the
static sentence embedding) over the source's entry ids and one more label, ``NOT_ANSWERED``,
for questions the source does not answer (its unstated items' phrasings and the labelled
questions with no answer). It learns from the curated phrasings and from a few thousand
questions written by many independent writers, so it reads misspellings, slang and unfamiliar
wording that the lexical signals miss. Its probability is one signal among the others that the
router fuses (:mod:`bot.core.scoring`); it never answers alone.

The files of source ``NAME`` live in ``bot/models/intent/NAME/`` and are rebuilt exactly by
``python -m bot.training.intent``. A source without a model is scored without this signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from bot.core.embedding import StaticEmbedder
from bot.core.textmodel import LinearTextModel, ModelFileError

DEFAULT_INTENT_DIR = Path(__file__).resolve().parent.parent / "models" / "intent"
NOT_ANSWERED = "__not_answered__"


class IntentModel:
    """One source's trained intent model."""

    def __init__(self, directory: Path, embedder: StaticEmbedder) -> None:
        self._model = LinearTextModel(directory, embedder)
        if NOT_ANSWERED not in self._model.labels:
            raise ModelFileError(f"{directory}: no {NOT_ANSWERED} label")
        self.labels = self._model.labels
        self.trained_on = self._model.trained_on

    def probabilities(self, text: str) -> dict[str, float]:
        """Each label's probability: an entry id, or ``NOT_ANSWERED``."""
        return dict(zip(self.labels, self._model.probabilities(text).tolist(), strict=True))


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
