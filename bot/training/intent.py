"""``python -m bot.training.intent``: train each source's intent model, and validate it honestly.

    pip install -e '.[train]'
    python -m bot.training.intent --cv      # grouped cross-validation: each question file held out
    python -m bot.training.intent           # retrain bot/models/intent/SOURCE/ exactly
    python -m bot.training.intent --check   # exit 1 if a retrain differs from the shipped files

It learns from the source's curated phrasings (every question and alternate of its entries,
labelled with the entry; of its unstated items, labelled ``NOT_ANSWERED``) and from the
labelled question sets (:mod:`bot.training.questions`), each question labelled with the entry
whose citations best cover its expected lines, or ``NOT_ANSWERED`` when no answer is due. The
question sets cite lines of one source (the first, or ``--source``).

Cross-validation trains on the phrasings and every file but one and scores the one left out:
the share of its questions whose most probable label is right (an entry citing the expected
lines, or ``NOT_ANSWERED`` when none is due). It is the model alone; the router's figure
(``python -m bot.training.router --cv``) fuses it with the other signals.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.core.embedding import StaticEmbedder, shared_embedder
from bot.core.evaluation import EvalItem
from bot.core.intent_model import (
    DEFAULT_INTENT_DIR,
    INTENT_FILES,
    NEIGHBOUR_FILES,
    NGRAM_FILES,
    NOT_ANSWERED,
    IntentModel,
)
from bot.core.knowledge import Entry, KnowledgeBase
from bot.core.textmodel import ModelFileError, TextModel, classifier_text, sparse_features
from bot.training import add_common_options, rebuilt_identically, textmodel
from bot.training.questions import core_text, label, load_sets, overlaps

BUCKETS = 1 << 15
REGULARISATION = 8.0  # sklearn's C: the inverse of the L2 penalty
# The neighbours table keeps the static embedding's first dimensions (its principal
# directions, strongest first). A study on the out-of-fold gate rows of November 2026 (each
# file's gate fitted without it, its neighbours from the other files; a simulation of the
# decisions at a gate threshold of 0.75, 7,877 questions) gave 7,055 right and 229 false
# answers without the two neighbour features, and 7,100 / 206, 7,113 / 196 and 7,132 / 201
# with 64, 128 and all 256 dimensions, which cost about 27, 96 and 218 us a question.
NEIGHBOUR_DIMENSIONS = 128
# The n-gram neighbours' index leaves out the n-grams of more than this many learned texts. A
# study on the out-of-fold gate rows of 30 November 2026 (9,947 questions of 48 files, each
# file's gate fitted without it and its nearest texts taken from the other files; a simulation
# of the decisions at a gate threshold of 0.75) gave 9,054 right and 241 false answers without
# the two n-gram features, 9,088 / 226, 9,081 / 227, 9,107 / 218 and 9,096 / 220 with the
# n-grams of at most 100, 200, 500 and 1,000 texts, and 9,134 / 215 with all of them, which a
# question reads as about 1,100, 3,400, 12,800, 28,000 and 305,000 postings (about 1.9 ms).
NGRAM_MAX_TEXTS = 500
PHRASINGS = "knowledge-phrasings"  # the group of the curated phrasings (never held out)


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    group: str  # a question file, or the curated phrasings


def source_entries(kb: KnowledgeBase, source: str) -> list[Entry]:
    return [e for e in kb.entries if kb.source_of(e) == source]


def labels_of(kb: KnowledgeBase, source: str) -> tuple[str, ...]:
    """The model's labels: the source's entry ids in knowledge order, then NOT_ANSWERED."""
    return (*(e.id for e in source_entries(kb, source)), NOT_ANSWERED)


def phrasing_examples(kb: KnowledgeBase, source: str) -> list[Example]:
    found = [Example(t, e.id, PHRASINGS) for e in source_entries(kb, source) for t in e.phrasings]
    found += [
        Example(t, NOT_ANSWERED, PHRASINGS)
        for u in kb.unstated
        if kb.source_of(u) == source
        for t in u.phrasings
    ]
    return found


def question_examples(
    kb: KnowledgeBase, source: str, sets: dict[str, list[EvalItem]]
) -> list[Example]:
    entries = source_entries(kb, source)
    embedder = shared_embedder()
    found = []
    for name, items in sets.items():
        for item in items:
            wanted = label(item, entries, embedder)
            if wanted is not None:
                found.append(Example(core_text(item.question), wanted, name))
    return found


def training_set(kb: KnowledgeBase, source: str, sets: dict[str, list[EvalItem]]) -> list[Example]:
    return phrasing_examples(kb, source) + question_examples(kb, source, sets)


def digest(examples: Sequence[Example]) -> str:
    joined = "\n".join(f"{e.group}\t{e.label}\t{e.text}" for e in examples)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


def train(
    examples: Sequence[Example],
    labels: Sequence[str],
    output: Path,
    embedder: StaticEmbedder,
    buckets: int = BUCKETS,
) -> None:
    """Fit on the examples and write the model's files."""
    model = textmodel.fit(
        [e.text for e in examples],
        [e.label for e in examples],
        embedder,
        buckets,
        regularisation=REGULARISATION,
        balanced=False,
    )
    textmodel.export(
        model,
        output,
        labels,
        buckets,
        embedder.dimensions,
        {"regularisation": REGULARISATION, "corpus": corpus_note(examples)},
    )
    write_neighbours(examples, labels, output, embedder, buckets)


def write_neighbours(
    examples: Sequence[Example],
    labels: Sequence[str],
    output: Path,
    embedder: StaticEmbedder,
    buckets: int = BUCKETS,
) -> None:
    """The neighbours of :class:`IntentModel`: each example's static embedding, cut to
    ``NEIGHBOUR_DIMENSIONS`` and scaled to unit length, rows grouped by label in ``labels``
    order (``NEIGHBOUR_FILES``), and the same rows' hashed n-gram features as an inverted
    index (``NGRAM_FILES``)."""
    position = {name: number for number, name in enumerate(labels)}
    ordered = sorted(examples, key=lambda e: position[e.label])  # stable: file order within
    texts = [classifier_text(e.text) for e in ordered]
    write_ngram_index(texts, output, buckets)
    vectors = embedder.embed_many(texts)
    vectors = vectors[:, :NEIGHBOUR_DIMENSIONS].astype(np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    output.mkdir(parents=True, exist_ok=True)
    np.save(output / NEIGHBOUR_FILES[0], vectors.astype(np.float16), allow_pickle=False)
    owners = np.array([position[e.label] for e in ordered], dtype=np.int16)
    np.save(output / NEIGHBOUR_FILES[1], owners, allow_pickle=False)


def write_ngram_index(texts: Sequence[str], output: Path, buckets: int) -> None:
    """The texts' hashed n-gram features (:func:`sparse_features`), row by row in ``texts``
    order, as an inverted index without the columns of more than ``NGRAM_MAX_TEXTS`` texts."""
    features = [sparse_features(text, buckets) for text in texts]
    columns = np.concatenate([np.zeros(0, dtype=np.int64), *(c for c, _ in features)])
    values = np.concatenate([np.zeros(0), *(v for _, v in features)])
    rows = np.repeat(np.arange(len(texts)), [len(c) for c, _ in features])
    kept = np.bincount(columns, minlength=buckets)[columns] <= NGRAM_MAX_TEXTS
    columns, values, rows = columns[kept], values[kept], rows[kept]
    order = np.lexsort((rows, columns))  # by column, then row
    starts = np.searchsorted(columns[order], np.arange(buckets + 1))
    row_type = np.int16 if len(texts) <= np.iinfo(np.int16).max else np.int32
    output.mkdir(parents=True, exist_ok=True)
    for name, array in zip(
        NGRAM_FILES,
        (starts.astype(np.int32), rows[order].astype(row_type), values[order].astype(np.float16)),
        strict=True,
    ):
        np.save(output / name, array, allow_pickle=False)


def corpus_note(examples: Sequence[Example]) -> str:
    """What a model was trained on, as its meta.json records it."""
    groups = sorted({e.group for e in examples})
    return f"{len(examples)} labelled texts from {len(groups)} groups; sha256 {digest(examples)}"


def fold_models(
    examples: Sequence[Example],
    labels: Sequence[str],
    embedder: StaticEmbedder,
    folder: Path,
) -> dict[str, IntentModel]:
    """Per question file, a model trained without it (written under ``folder`` and loaded as
    the router loads a shipped one). A model already in ``folder`` trained on exactly the
    same texts is reused (its neighbours table, cheap to build, is written again)."""
    models = {}
    for group in sorted({e.group for e in examples} - {PHRASINGS}):
        directory = folder / group
        kept = [e for e in examples if e.group != group]
        try:
            found = TextModel(directory, embedder)
        except ModelFileError:
            found = None
        if found is None or found.trained_on != corpus_note(kept) or found.labels != tuple(labels):
            train(kept, labels, directory, embedder)
        else:
            write_neighbours(kept, labels, directory, embedder)
        models[group] = IntentModel(directory, embedder)
    return models


def cross_validate(
    kb: KnowledgeBase,
    source: str,
    sets: dict[str, list[EvalItem]],
    embedder: StaticEmbedder,
    folds: Path | None = None,
) -> None:
    examples = training_set(kb, source, sets)
    entries = {e.id: e for e in source_entries(kb, source)}
    with tempfile.TemporaryDirectory() as scratch:
        models = fold_models(examples, labels_of(kb, source), embedder, folds or Path(scratch))
        right = total = 0
        for name, items in sets.items():
            hits = count = 0
            for item in items:
                if label(item, list(entries.values())) is None:
                    continue
                found = models[name].probabilities(core_text(item.question))
                best = max(found, key=lambda k: found[k])
                count += 1
                if best == NOT_ANSWERED:
                    hits += not item.answer_due
                else:
                    hits += item.answer_due and overlaps(entries[best], item.lines)
            right, total = right + hits, total + count
            print(f"held out {name:28} {100 * hits / max(count, 1):5.1f} % of {count}")
    print(f"all files, each scored by a model trained without it: {right}/{total}", end=" ")
    print(f"= {100 * right / max(total, 1):.1f} %")


def main(argv: list[str] | None = None) -> int:
    from bot.core.knowledge import load_knowledge
    from bot.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m bot.training.intent")
    parser.add_argument("--source", help="the source the question sets cite (default: first)")
    add_common_options(parser, DEFAULT_INTENT_DIR)
    parser.add_argument(
        "--folds",
        type=Path,
        help="with --cv: keep the out-of-fold models in this folder and reuse those trained on "
        "the same texts (shared with python -m bot.training.router --folds)",
    )
    args = parser.parse_args(argv)
    embedder = shared_embedder()
    kb = load_knowledge(Settings.from_env().knowledge_dir)
    source = args.source or next(iter(kb.sources))
    sets = load_sets()
    if args.cv:
        cross_validate(kb, source, sets, embedder, args.folds)
        return 0
    examples = training_set(kb, source, sets)
    labels = labels_of(kb, source)
    output = args.output / source
    if args.check:
        rebuilt = rebuilt_identically(
            lambda folder: train(examples, labels, folder, embedder), output, INTENT_FILES
        )
        return 0 if rebuilt else 1
    train(examples, labels, output, embedder)
    print(f"wrote {output} ({len(examples)} texts, {len(labels)} labels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
