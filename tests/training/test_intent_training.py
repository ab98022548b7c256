"""The intent model: how questions become labels, a reproducible training run, and the router
using what it writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.core.embedding import shared_embedder
from bot.core.evaluation import EvalItem
from bot.core.intent_model import INTENT_FILES, NOT_ANSWERED, IntentModel
from bot.core.knowledge import KnowledgeBase
from bot.core.router import Router
from bot.core.textmodel import classifier_text, sparse_features
from bot.training import digest, intent
from bot.training.intent import Example, labels_of, phrasing_examples, train
from bot.training.questions import label

pytest.importorskip("sklearn", reason="training needs the train extra (scikit-learn)")

SOURCE = "home-office-hackathon-2018"


def item(expect: str, lines: tuple[tuple[int, int], ...] = ()) -> EvalItem:
    return EvalItem("q", frozenset({expect}), lines, "paraphrase")


def test_a_question_is_labelled_with_the_entry_that_best_covers_its_lines(
    kb: KnowledgeBase,
) -> None:
    entries = list(kb.entries)
    assert label(item("answer", ((1, 2),)), entries) == "hackathon-companies"
    assert label(item("answer", ((50, 50),)), entries) == "innovation-call-amount"
    assert label(item("none"), entries) == NOT_ANSWERED
    assert label(item("safeguarding"), entries) is None


CHOSEN = ("hackathon-hosts", "tool-cost-availability", "caid-overview", NOT_ANSWERED)


def fixture_examples(kb: KnowledgeBase) -> list[Example]:
    """The curated phrasings of a few entries and the unstated items: small and fast."""
    return [e for e in phrasing_examples(kb, SOURCE) if e.label in CHOSEN]


def test_training_twice_writes_identical_files(kb: KnowledgeBase, tmp_path: Path) -> None:
    embedder = shared_embedder()
    examples = fixture_examples(kb)
    train(examples, CHOSEN, tmp_path / "one", embedder, buckets=1 << 12)
    train(examples, CHOSEN, tmp_path / "two", embedder, buckets=1 << 12)
    first = digest(tmp_path / "one", INTENT_FILES)
    second = digest(tmp_path / "two", INTENT_FILES)
    assert first == second
    assert len(first) == len(INTENT_FILES)


def test_the_neighbours_are_the_texts_learned_from(kb: KnowledgeBase, tmp_path: Path) -> None:
    embedder = shared_embedder()
    examples = fixture_examples(kb)
    train(examples, CHOSEN, tmp_path / "m", embedder, buckets=1 << 12)
    model = IntentModel(tmp_path / "m", embedder)
    learned = next(e for e in examples if e.label == "caid-overview")
    nearest = model.neighbours(learned.text)
    assert nearest["caid-overview"] == pytest.approx(1.0, abs=1e-3)
    assert max(nearest, key=lambda k: nearest[k]) == "caid-overview"
    assert set(nearest) == set(CHOSEN)


def test_the_ngram_neighbours_are_plain_cosines_over_the_kept_n_grams(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each label's n-gram neighbour is the best cosine, computed plainly, of the question's
    hashed features to its texts' over the columns of at most NGRAM_MAX_TEXTS texts."""
    monkeypatch.setattr(intent, "NGRAM_MAX_TEXTS", 3)  # a small corpus: some columns dropped
    embedder = shared_embedder()
    buckets = 1 << 12
    examples = fixture_examples(kb)
    train(examples, CHOSEN, tmp_path / "m", embedder, buckets=buckets)
    model = IntentModel(tmp_path / "m", embedder)

    def dense(text: str) -> np.ndarray:
        vector = np.zeros(buckets)
        columns, values = sparse_features(classifier_text(text), buckets)
        vector[columns] = values
        return vector

    learned = {e.text: dense(e.text) for e in examples}
    used = np.count_nonzero(np.stack(list(learned.values())), axis=0)
    kept = used <= 3
    assert 0 < kept[used > 0].sum() < (used > 0).sum()
    for question in ("who organised the hackathon", "wat is caid", "the the the"):
        found = model.ngram_neighbours(question)
        assert set(found) == set(CHOSEN)
        q = dense(question) * kept
        for name in CHOSEN:
            plain = max(float(q @ learned[e.text]) for e in examples if e.label == name)
            assert found[name] == pytest.approx(plain, abs=2e-3)  # values stored as float16
    assert set(model.ngram_neighbours("").values()) == {0.0}
    assert model.ngram_neighbours("wat is caid", ["caid-overview", "x"]) == {
        "caid-overview": model.ngram_neighbours("wat is caid")["caid-overview"]
    }


def test_the_router_uses_a_trained_model(kb: KnowledgeBase, tmp_path: Path) -> None:
    embedder = shared_embedder()
    train(fixture_examples(kb), CHOSEN, tmp_path / "m", embedder, buckets=1 << 12)
    model = IntentModel(tmp_path / "m", embedder)
    found = model.probabilities("who organised the hackathon")
    assert max(found, key=lambda k: found[k]) == "hackathon-hosts"
    assert sum(found.values()) == pytest.approx(1.0)
    with_model = Router(kb, embedder, intent_models={SOURCE: model})
    without = Router(kb, embedder, intent_models={})
    question = "who organised the hackathon"
    best = with_model.explain(question).decisions[0].candidates[0]
    assert best.intent == "hackathon-hosts"
    assert best.intent_probability > 0.2
    assert without.explain(question).decisions[0].candidates[0].intent_probability == 0.0


def test_the_labels_are_the_entries_then_not_answered(kb: KnowledgeBase) -> None:
    labels = labels_of(kb, SOURCE)
    assert labels[-1] == NOT_ANSWERED
    assert labels[:-1] == tuple(e.id for e in kb.entries)
