"""The shipped intent model fits the knowledge it was trained for, and bad files are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.core.embedding import shared_embedder
from bot.core.intent_model import DEFAULT_INTENT_DIR, NOT_ANSWERED, IntentModel
from bot.core.knowledge import KnowledgeBase
from bot.core.textmodel import ModelFileError

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
