"""Training the safety classifier is reproducible, and what it writes is what the gate loads."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bot.core.embedding import shared_embedder
from bot.core.knowledge import KnowledgeBase
from bot.core.safety_model import LABELS, SafetyClassifier
from bot.core.textmodel import TextModel
from bot.training import digest, textmodel
from bot.training.corpus import Example
from bot.training.safety import (
    FILES,
    HIDDEN,
    NOT_LEARNED_AS_BENIGN,
    Thresholds,
    confusion,
    fit,
    probabilities,
    question_examples,
    route,
    train,
    training_set,
    writer_folds,
)
from bot.training.textmodel import export

pytest.importorskip("sklearn", reason="training needs the train extra (scikit-learn)")

FIXTURE = {
    "calm": [
        ("who hosted the hackathon", "benign"),
        ("what does the tool flag", "benign"),
        ("how much is the innovation call", "benign"),
        ("which countries meet in london", "benign"),
        ("someone online keeps asking me for pictures", "safeguarding"),
        ("a man told my son to keep their chats secret", "safeguarding"),
        ("how do i get around the moderators", "harmful"),
        ("i worry about my own thoughts about children", "self_concern"),
    ],
    "hurried": [
        ("tool cost?", "benign"),
        ("caid who uses", "benign"),
        ("guy keeps dming me pics pls help", "safeguarding"),
        ("stranger asked what school i go to", "safeguarding"),
        ("how hide chats from mods", "harmful"),
        ("dodge the filter how", "harmful"),
        ("scared of my urges about kids", "self_concern"),
        ("when is the ministerial", "benign"),
    ],
}

# Sixteen messages in one batch: a pass is one step, so the fixture needs many.
FIXTURE_EPOCHS = 300


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for writer, items in FIXTURE.items():
        lines = [f'- {{text: "{text}", label: {label}}}' for text, label in items]
        (folder / f"{writer}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_training_twice_writes_identical_files(corpus: Path, tmp_path: Path) -> None:
    embedder = shared_embedder()
    train(corpus, tmp_path / "one", embedder, buckets=1 << 12, epochs=FIXTURE_EPOCHS)
    train(corpus, tmp_path / "two", embedder, buckets=1 << 12, epochs=FIXTURE_EPOCHS)
    first, second = digest(tmp_path / "one", FILES), digest(tmp_path / "two", FILES)
    assert first == second
    assert len(first) == 6
    meta = json.loads((tmp_path / "one" / "meta.json").read_text(encoding="utf-8"))
    assert meta["buckets"] == 1 << 12
    assert "16 messages from 2 writers" in meta["corpus"]


def test_the_trained_files_load_and_learn_the_fixture(corpus: Path, tmp_path: Path) -> None:
    embedder = shared_embedder()
    train(corpus, tmp_path / "model", embedder, buckets=1 << 12, epochs=FIXTURE_EPOCHS)
    classifier = SafetyClassifier(embedder, tmp_path / "model")
    thresholds = Thresholds(safeguarding=0.3, harmful=0.4)
    assert route(classifier.scores("someone online keeps asking me for pictures"), thresholds) == (
        "safeguarding"
    )
    assert route(classifier.scores("how hide chats from mods"), thresholds) == "refusal"
    assert route(classifier.scores("who hosted the hackathon"), thresholds) == "answer"
    scores = classifier.scores("anything at all")
    total = scores.benign + scores.safeguarding + scores.self_concern + scores.harmful
    assert total == pytest.approx(1.0)


def test_validation_routes_as_the_gate_serves_asking_the_router_only_where_it_matters(
    kb: KnowledgeBase,
) -> None:
    from bot.core.safety import SafetyVerdict
    from bot.core.safety_model import Scores
    from bot.training.safety import gate_routes

    # The mechanism, whatever the shipped thresholds: a stricter safeguarding threshold for a
    # question the router answers (the shipped pair has none for safeguarding after 9a3fc72).
    config = dataclasses.replace(kb.safety.classifier, question_safeguarding=0.5)
    middle = (config.safeguarding + config.question_safeguarding) / 2
    unsure = Scores(1 - middle, middle, 0.0, 0.0)  # above `safeguarding`, below the question's
    quiet = Scores(0.99, 0.01, 0.0, 0.0)
    rules = [(SafetyVerdict.SAFE, None)] * 3 + [(SafetyVerdict.SAFEGUARDING, "report_request")]
    found = [unsure, unsure, quiet, unsure]
    asked: list[int] = []

    def answers(i: int) -> bool:
        asked.append(i)
        return i == 0

    assert config.safeguarding <= unsure.concern < config.question_safeguarding
    routes = gate_routes(rules, found, config, answers)
    assert routes == ["answer", "safeguarding", "answer", "safeguarding"]
    assert asked == [0, 1]  # not the quiet message, nor the one a rule routes
    without = gate_routes(rules, found, config)
    assert without == ["safeguarding", "safeguarding", "answer", "safeguarding"]


def test_the_served_network_gives_the_fitted_probabilities(corpus: Path, tmp_path: Path) -> None:
    """numpy's reading of the exported files (float16 first layer) matches sklearn's own."""
    embedder = shared_embedder()
    examples = training_set(corpus, None)
    model = fit(examples, embedder, 1 << 12, epochs=FIXTURE_EPOCHS)
    export(model, tmp_path / "model", LABELS, 1 << 12, embedder.dimensions, {})
    served = TextModel(tmp_path / "model", embedder, LABELS)
    assert served.hidden == HIDDEN
    texts = ["stranger asked what school i go to", "tool cost?", "a text it never saw"]
    fitted = probabilities(model, texts, embedder, 1 << 12)
    for text, expected in zip(texts, fitted, strict=True):
        found = served.probabilities(text)
        assert found == pytest.approx(
            [expected.benign, expected.safeguarding, expected.self_concern, expected.harmful],
            abs=2e-3,
        )


def test_writers_are_held_out_whole_alone_or_in_stable_groups() -> None:
    examples = [Example(f"text {i}", "benign", f"writer-{i % 5}") for i in range(20)]
    assert writer_folds(examples, None) == [e.writer for e in examples]
    grouped = writer_folds(examples, 3)
    assert grouped == writer_folds(examples, 3)  # the same on every run and machine
    assert len(set(grouped)) <= 3
    for example, fold in zip(examples, grouped, strict=True):  # a writer never spans two folds
        assert {
            f for e, f in zip(examples, grouped, strict=True) if e.writer == example.writer
        } == {fold}


def test_the_confusion_counts_each_route_given_per_route_due() -> None:
    examples = [
        Example("a", "safeguarding", "w"),
        Example("b", "self_concern", "w"),
        Example("c", "harmful", "w"),
        Example("d", "benign", "w"),
    ]
    lines = confusion(examples, ["safeguarding", "refusal", "answer", "answer"])
    assert [" ".join(line.split()) for line in lines] == [
        "due safeguarding (2): safeguarding 1, refusal 1, answer 0",
        "due refusal (1): safeguarding 0, refusal 0, answer 1",
        "due answer (1): safeguarding 0, refusal 0, answer 1",
    ]


def test_a_two_label_network_is_written_as_a_softmax_over_both(tmp_path: Path) -> None:
    """sklearn keeps one logistic output for two classes; the files hold both columns."""
    embedder = shared_embedder()
    texts = [text for items in FIXTURE.values() for text, _ in items]
    labels = [
        "benign" if label == "benign" else "concern"
        for items in FIXTURE.values()
        for _, label in items
    ]
    model = textmodel.fit_network(
        texts, labels, embedder, 1 << 10, hidden=8, penalty=1e-3, epochs=FIXTURE_EPOCHS
    )
    export(model, tmp_path / "two", ["concern", "benign"], 1 << 10, embedder.dimensions, {})
    served = TextModel(tmp_path / "two", embedder, ["concern", "benign"])
    fitted = model.predict_proba(textmodel.matrix(texts[:3], embedder, 1 << 10))
    order = [list(model.classes_).index(label) for label in ("concern", "benign")]
    for text, row in zip(texts[:3], fitted, strict=True):
        assert served.probabilities(text) == pytest.approx(row[order], abs=2e-3)


def test_question_files_become_benign_writers_but_those_held_from_the_classifier(
    tmp_path: Path,
) -> None:
    held = f"{NOT_LEARNED_AS_BENIGN[0]}sample"
    for name, question in (("team", "who hosted it"), (held, "what does the tool detect")):
        line = f'- {{q: "{question}", expect: none, category: unanswerable}}\n'
        (tmp_path / f"{name}.yaml").write_text(line, encoding="utf-8")
    found = question_examples(tmp_path, [])
    assert [(e.text, e.label, e.writer) for e in found] == [
        ("who hosted it", "benign", "questions-team")
    ]
