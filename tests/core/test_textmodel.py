"""The text models' hashed features: each column's value is 1 + log of how often its n-grams,
words and word pairs occur, the vector has unit length, and the columns ascend (the features
the models were trained on, whatever way they are counted). A network's files are read with
their hidden layer, and refused when it is missing or misshapen."""

from __future__ import annotations

import json
import math
import zlib
from collections import Counter
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from bot.core.embedding import shared_embedder
from bot.core.textmodel import ModelFileError, TextModel, classifier_text, sparse_features


def counted_plainly(text: str, buckets: int) -> dict[int, float]:
    """The features by their definition, counted one by one."""
    tokens = text.split()
    found: Counter[int] = Counter()
    for token in tokens:
        padded = f" {token} "
        for size in range(2, 6):
            for start in range(len(padded) - size + 1):
                found[zlib.crc32(f"c{padded[start : start + size]}".encode()) % buckets] += 1
        found[zlib.crc32(f"w{token}".encode()) % buckets] += 1
    for first, second in pairwise(tokens):
        found[zlib.crc32(f"b{first} {second}".encode()) % buckets] += 1
    values = {column: 1.0 + math.log(count) for column, count in found.items()}
    norm = math.sqrt(sum(v * v for v in values.values()))
    return {column: value / norm for column, value in values.items()}


@pytest.mark.parametrize(
    "text",
    [
        "who took part in the hackathon",
        "the the the hackathon hackathon",  # repeated words and pairs
        "wats teh inovation fund 4 £250,000",
        "a",
    ],
)
@pytest.mark.parametrize("buckets", [1 << 15, 64])  # 64: many columns collide
def test_features_are_the_counted_n_grams_of_the_text(text: str, buckets: int) -> None:
    folded = classifier_text(text)
    columns, values = sparse_features(folded, buckets)
    expected = counted_plainly(folded, buckets)
    assert columns.tolist() == sorted(expected)
    assert np.allclose(values, [expected[c] for c in sorted(expected)], rtol=0, atol=1e-12)
    assert math.isclose(float(values @ values), 1.0)


def test_features_are_memoised_and_cannot_be_changed_by_a_reader() -> None:
    """The intent model's probabilities and its n-gram neighbours read one message's features
    from one memo: neither can alter what the other reads."""
    folded = classifier_text("who took part in the hackathon")
    columns, values = sparse_features(folded, 64)
    assert sparse_features(folded, 64)[0] is columns
    for array in (columns, values):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0


def test_a_text_without_words_has_no_features() -> None:
    columns, values = sparse_features(classifier_text("?!"), 1 << 15)
    assert len(columns) == 0
    assert len(values) == 0


def _write_model(
    folder: Path, hidden: int, labels: list[str], dimensions: int, seed: int = 3
) -> dict[str, np.ndarray]:
    """A small model's files, with random weights (a network when ``hidden``)."""
    rng = np.random.default_rng(seed)
    width = hidden or len(labels)
    arrays: dict[str, np.ndarray] = {
        "hashed.npy": rng.normal(size=(64, width)).astype(np.float16),
        "dense.npy": rng.normal(size=(dimensions, width)).astype(np.float32),
        "bias.npy": rng.normal(size=width).astype(np.float32),
    }
    if hidden:
        arrays["output.npy"] = rng.normal(size=(hidden, len(labels))).astype(np.float32)
        arrays["output_bias.npy"] = rng.normal(size=len(labels)).astype(np.float32)
    folder.mkdir()
    for name, array in arrays.items():
        np.save(folder / name, array)
    meta = {"labels": labels, "buckets": 64, "embedding_scale": 1.0, "hidden": hidden}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return arrays


def test_a_network_reads_its_hidden_layer(tmp_path: Path) -> None:
    embedder = shared_embedder()
    labels = ["a", "b", "c"]
    arrays = _write_model(tmp_path / "net", 5, labels, embedder.dimensions)
    model = TextModel(tmp_path / "net", embedder, labels)
    text = "who took part in the hackathon"
    folded = classifier_text(text)
    columns, values = sparse_features(folded, 64)
    first = (
        values @ arrays["hashed.npy"].astype(np.float64)[columns]
        + embedder.embed(folded) @ arrays["dense.npy"]
        + arrays["bias.npy"]
    )
    logits = np.maximum(first, 0) @ arrays["output.npy"] + arrays["output_bias.npy"]
    expected = np.exp(logits - logits.max())
    assert model.hidden == 5
    assert model.probabilities(text) == pytest.approx(expected / expected.sum(), rel=1e-4)


def test_a_network_without_its_second_layer_is_refused(tmp_path: Path) -> None:
    embedder = shared_embedder()
    _write_model(tmp_path / "net", 5, ["a", "b"], embedder.dimensions)
    (tmp_path / "net" / "output.npy").unlink()
    with pytest.raises(ModelFileError, match="cannot load"):
        TextModel(tmp_path / "net", embedder)
    _write_model(tmp_path / "wrong", 5, ["a", "b"], embedder.dimensions)
    np.save(tmp_path / "wrong" / "output.npy", np.zeros((4, 2), dtype=np.float32))
    with pytest.raises(ModelFileError, match="shapes"):
        TextModel(tmp_path / "wrong", embedder)
