"""The text models' hashed features: each column's value is 1 + log of how often its n-grams,
words and word pairs occur, the vector has unit length, and the columns ascend (the features
the models were trained on, whatever way they are counted)."""

from __future__ import annotations

import math
import zlib
from collections import Counter
from itertools import pairwise

import numpy as np
import pytest

from bot.core.textmodel import classifier_text, sparse_features


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


def test_a_text_without_words_has_no_features() -> None:
    columns, values = sparse_features(classifier_text("?!"), 1 << 15)
    assert len(columns) == 0
    assert len(values) == 0
