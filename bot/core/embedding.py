"""Static sentence embeddings: a token table distilled from all-MiniLM-L6-v2 with model2vec.

A sentence's vector is the mean of its word pieces' rows, normalised to unit length, so
embedding costs a tokeniser call and a table look-up: no deep-learning framework, nothing
downloaded. The table and its tokeniser ship with the package under ``bot/models/``; the one
command that rebuilds them is ``python -m bot.training.embeddings`` (see its docstring).

The router and the safety gate share one ``StaticEmbedder``: one model, one choice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "static-minilm"
MAX_TOKENS = 512  # as the distilled model's own configuration

Vector = npt.NDArray[np.float32]


class EmbeddingModelError(RuntimeError):
    """The model files are missing or do not fit together."""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What ``meta.json`` says of how the table was built."""

    teacher: str
    dimensions: int
    vocabulary: int
    built_with: str


class StaticEmbedder:
    """Embeds texts with a static token table; thread-safe and cheap to call."""

    def __init__(self, directory: Path = DEFAULT_MODEL_DIR) -> None:
        try:
            quantised = np.load(directory / "vectors.npy", allow_pickle=False)
            scales = np.load(directory / "scales.npy", allow_pickle=False)
            self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise EmbeddingModelError(
                f"cannot load the embedding model in {directory}: {error}"
            ) from error
        rows = self._tokenizer.get_vocab_size()
        if quantised.ndim != 2 or quantised.shape[0] != rows or scales.shape != (rows,):
            raise EmbeddingModelError(
                f"{directory}: the table has shape {quantised.shape}, the scales "
                f"{scales.shape}, the tokeniser {rows} tokens"
            )
        # Kept as int8 with per-row scales: a row is scaled only when a sentence uses it.
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self._rows: npt.NDArray[np.int8] = quantised
        self._scales: npt.NDArray[np.float32] = scales.astype(np.float32)
        unknown = meta.get("unk_id")
        self._unknown = int(unknown) if unknown is not None else -1
        self.info = ModelInfo(
            teacher=str(meta["teacher"]),
            dimensions=int(quantised.shape[1]),
            vocabulary=int(quantised.shape[0]),
            built_with=str(meta["built_with"]),
        )
        self._cached = lru_cache(maxsize=4096)(self._embed_one)
        self._word_ids = lru_cache(maxsize=65536)(self._encode_word)

    @property
    def dimensions(self) -> int:
        return self.info.dimensions

    def _encode_word(self, word: str) -> tuple[int, ...]:
        return tuple(self._tokenizer.encode(word, add_special_tokens=False).ids)

    def _embed_one(self, text: str) -> Vector:
        # Word by word, each word's pieces memoised (words recur, texts seldom): the tokeniser
        # normalises character by character and always splits at a space, so the pieces of a
        # text are those of its words end to end.
        return self._pool([i for word in text.split(" ") if word for i in self._word_ids(word)])

    def _pool(self, token_ids: Sequence[int]) -> Vector:
        ids = [i for i in token_ids[:MAX_TOKENS] if i != self._unknown]
        if not ids:
            return np.zeros(self.dimensions, dtype=np.float32)
        rows = self._rows[ids].astype(np.float32) * self._scales[ids, None]
        mean: Vector = rows.mean(axis=0, dtype=np.float32)
        norm = float(np.sqrt(mean.dot(mean)))  # np.linalg.norm's own sum, without its checks
        return mean / np.float32(norm) if norm > 0 else mean

    def embed(self, text: str) -> Vector:
        """One text's unit vector (zeros when no token is known); memoised."""
        return self._cached(text)

    def clear_cache(self) -> None:
        """Forget memoised vectors (for benchmarks that must time the real work)."""
        self._cached.cache_clear()

    def embed_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """A matrix with one unit row per text: the tokeniser reads the batch at once (at load
        and in training, where texts are many and seldom repeat), giving the same pieces as
        :meth:`embed`'s word-by-word reading (``tests/core/test_embedding.py``)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return np.stack([self._pool(encoding.ids) for encoding in encodings])


@lru_cache(maxsize=4)
def shared_embedder(directory: Path = DEFAULT_MODEL_DIR) -> StaticEmbedder:
    """The process's embedder for a model directory, loaded once."""
    return StaticEmbedder(directory)
