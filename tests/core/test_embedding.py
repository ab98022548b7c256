"""The static embedding model: loads from the package, unit vectors, meaning over spelling."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.core.embedding import (
    DEFAULT_MODEL_DIR,
    EmbeddingModelError,
    StaticEmbedder,
    shared_embedder,
)


@pytest.fixture(scope="module")
def embedder() -> StaticEmbedder:
    return shared_embedder()


def test_vectors_are_unit_length(embedder: StaticEmbedder) -> None:
    vectors = embedder.embed_many(["who chairs the taskforce", "wats teh inovation fund 4"])
    assert vectors.shape == (2, embedder.dimensions)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_paraphrases_are_closer_than_other_subjects(embedder: StaticEmbedder) -> None:
    question = embedder.embed("how much money is the innovation call worth")
    paraphrase = embedder.embed("what is the size of the innovation funding")
    other = embedder.embed("which countries attend the ministerial meeting")
    assert float(question @ paraphrase) > float(question @ other)


@pytest.mark.parametrize(
    "text",
    [
        "Who hosted the £250,000 hackathon?!",
        "  two  spaces\nand a line\tand a tab ",
        "Café naïve ÉCOLE, 東京 and emoji 🙂 (brackets) [x]",
        "zero\u200bwidth and non\u00a0breaking",
        "",
    ],
)
def test_a_text_is_embedded_as_the_whole_text_is_tokenised(
    embedder: StaticEmbedder, text: str
) -> None:
    """Words' pieces are memoised one by one; the vector is the one of the whole text's pieces."""
    pieces = embedder._tokenizer.encode(text, add_special_tokens=False).ids
    assert np.array_equal(embedder.embed(text), embedder._pool(pieces))
    assert np.allclose(embedder.embed(text), embedder.embed_many([text])[0], atol=1e-6)


def test_text_with_no_known_piece_is_a_zero_vector(embedder: StaticEmbedder) -> None:
    assert not np.any(embedder.embed(""))
    assert embedder.embed_many([]).shape == (0, embedder.dimensions)


def test_the_model_says_what_it_was_distilled_from(embedder: StaticEmbedder) -> None:
    assert "all-MiniLM-L6-v2" in embedder.info.teacher
    assert embedder.info.vocabulary > 20_000


def test_missing_or_mismatched_files_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError, match="cannot load"):
        StaticEmbedder(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(DEFAULT_MODEL_DIR, broken)
    np.save(broken / "scales.npy", np.ones(3, dtype=np.float32))
    with pytest.raises(EmbeddingModelError, match="shape"):
        StaticEmbedder(broken)
