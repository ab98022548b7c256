"""The shipped intent model fits the knowledge it was trained for, and bad files are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.core.embedding import shared_embedder
from bot.core.intent_model import (
    DEFAULT_INTENT_DIR,
    NEIGHBOUR_FILES,
    NGRAM_FILES,
    NOT_ANSWERED,
    IntentModel,
)
from bot.core.knowledge import KnowledgeBase
from bot.core.router import Router
from bot.core.textmodel import ModelFileError, classifier_text, sparse_features

SOURCE = "home-office-hackathon-2018"


def test_the_shipped_model_knows_every_entry_of_its_source(kb: KnowledgeBase) -> None:
    """Retrain (python -m bot.training.intent) when entries are added, renamed or removed."""
    model = IntentModel(DEFAULT_INTENT_DIR / SOURCE, shared_embedder())
    entries = tuple(e.id for e in kb.entries if kb.source_of(e) == SOURCE)
    assert model.labels == (*entries, NOT_ANSWERED)


def test_probabilities_sum_to_one_even_for_an_empty_text() -> None:
    model = IntentModel(DEFAULT_INTENT_DIR / SOURCE, shared_embedder())
    for text in ("", "wat r the 2 days hackathon compnies"):
        assert sum(model.probabilities(text).values()) == pytest.approx(1.0, abs=1e-4)


def test_each_label_has_a_nearest_learned_text(kb: KnowledgeBase) -> None:
    model = IntentModel(DEFAULT_INTENT_DIR / SOURCE, shared_embedder())
    entry = kb.entries[0]
    nearest = model.neighbours(entry.question)  # a curated phrasing: learned as it is
    assert set(nearest) == set(model.labels)
    assert nearest[entry.id] == pytest.approx(1.0, abs=1e-3)
    assert all(-1.0 - 1e-6 <= value <= 1.0 + 1e-6 for value in nearest.values())
    assert set(model.neighbours("").values()) == {0.0}


def test_the_nearest_texts_of_some_labels_are_those_of_the_whole_table(kb: KnowledgeBase) -> None:
    """A question's candidates read only their own rows, and find what the whole table finds
    (to the float rounding of a shorter product)."""
    model = IntentModel(DEFAULT_INTENT_DIR / SOURCE, shared_embedder())
    question = "who paid for the tool and when is the ministerial"
    everything = model.neighbours(question)
    # Labels far apart in the table and side by side, in any order, and one it does not know.
    some = [NOT_ANSWERED, kb.entries[3].id, kb.entries[0].id, kb.entries[1].id, "no-such-entry"]
    nearest = model.neighbours(question, some)
    assert set(nearest) == set(some) - {"no-such-entry"}
    for label, value in nearest.items():
        assert value == pytest.approx(everything[label], abs=1e-6)
    assert model.neighbours(question, []) == {}
    assert model.neighbours("", some) == dict.fromkeys(set(some) - {"no-such-entry"}, 0.0)


def test_the_ngram_neighbours_are_the_best_cosines_over_the_index_as_written(
    kb: KnowledgeBase,
) -> None:
    """Each label's n-gram neighbour is the best cosine over the index as written (column by
    column), and the same, bit for bit, whichever labels are asked for."""
    model = IntentModel(DEFAULT_INTENT_DIR / SOURCE, shared_embedder())
    question = "who paid for the tool and when is the ministerial"
    starts, rows, values = (np.load(DEFAULT_INTENT_DIR / SOURCE / name) for name in NGRAM_FILES)
    owners = np.load(DEFAULT_INTENT_DIR / SOURCE / NEIGHBOUR_FILES[1])
    buckets = len(starts) - 1  # the index has a start for each column, and an end
    columns, weights = sparse_features(classifier_text(question), buckets)
    dots = np.zeros(len(owners))
    for column, weight in zip(columns, weights, strict=True):
        found = slice(starts[column], starts[column + 1])
        dots[rows[found]] += values[found].astype(np.float32) * weight
    expected = {label: dots[owners == n].max() for n, label in enumerate(model.labels)}
    everything = model.ngram_neighbours(question)
    assert everything == pytest.approx(expected, abs=1e-12)
    some = [NOT_ANSWERED, kb.entries[3].id, kb.entries[0].id, "no-such-entry"]
    assert model.ngram_neighbours(question, some) == {
        label: everything[label] for label in some[:-1]
    }
    assert model.ngram_neighbours(question, []) == {}
    assert model.ngram_neighbours("", some) == dict.fromkeys(some[:-1], 0.0)


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(DEFAULT_INTENT_DIR / SOURCE, folder)
    return folder


def test_a_model_without_the_not_answered_label_is_refused(model_copy: Path) -> None:
    meta_path = model_copy / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["labels"] = [*meta["labels"][:-1], "something-else"]
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelFileError, match=NOT_ANSWERED):
        IntentModel(model_copy, shared_embedder())


def test_weights_of_the_wrong_shape_are_refused(model_copy: Path) -> None:
    meta_path = model_copy / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["buckets"] = 12
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelFileError, match="shapes"):
        IntentModel(model_copy, shared_embedder())


def test_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="cannot load"):
        IntentModel(tmp_path, shared_embedder())


def test_missing_neighbours_are_refused(model_copy: Path) -> None:
    (model_copy / NEIGHBOUR_FILES[0]).unlink()
    with pytest.raises(ModelFileError, match="neighbours"):
        IntentModel(model_copy, shared_embedder())


def test_neighbours_that_leave_out_a_label_are_refused(model_copy: Path) -> None:
    owners = np.load(model_copy / NEIGHBOUR_FILES[1])
    np.save(model_copy / NEIGHBOUR_FILES[1], np.minimum(owners, owners.max() - 1))
    with pytest.raises(ModelFileError, match="neighbours do not fit"):
        IntentModel(model_copy, shared_embedder())


def test_an_ngram_index_that_does_not_fit_is_refused(model_copy: Path) -> None:
    rows = np.load(model_copy / NGRAM_FILES[1])
    np.save(model_copy / NGRAM_FILES[1], rows.astype(np.int64) + 1_000_000)
    with pytest.raises(ModelFileError, match="n-gram neighbours do not fit"):
        IntentModel(model_copy, shared_embedder())


def test_the_router_reads_the_nearest_learned_texts_for_the_entry_the_gate_reads(
    router: Router,
) -> None:
    question = "Which tech companies took part in the hackathon?"
    model = router.intent_models[SOURCE]
    nearest = model.neighbours(question)
    by_ngrams = model.ngram_neighbours(question)
    candidates = router.explain(question).decisions[0].candidates
    config = router.kb.router_config
    read = next(c for c in candidates if c.may_answer(config))
    assert read.neighbour == pytest.approx(nearest[read.intent])
    assert read.neighbour_not_answered == pytest.approx(nearest[NOT_ANSWERED])
    assert read.ngram_neighbour == pytest.approx(by_ngrams[read.intent])
    assert read.ngram_neighbour_not_answered == pytest.approx(by_ngrams[NOT_ANSWERED])
    # The others' rows are left unread: the gate does not read them.
    others = [c for c in candidates if c is not read]
    assert others
    assert all(c.neighbour is None and c.ngram_neighbour is None for c in others)
