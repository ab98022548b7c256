"""The labelled safety corpus: ``knowledge/safety/corpus/*.yaml``, one file per writer.

Each file is a list of ``{text: "...", label: LABEL}`` items; the file's name is the writer (a
register or persona), so validation can hold each writer out in turn. Loading rejects unknown
labels and keys, empty texts, and duplicates (after folding case and white space) within and
across files, naming the file and item. Needs only PyYAML: ``python -m bot check`` runs it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.safety_model import LABELS

DEFAULT_CORPUS_DIR = (
    Path(__file__).resolve().parent.parent.parent / "knowledge" / "safety" / "corpus"
)


class CorpusError(ValueError):
    """The corpus is malformed; the message names the file and the item."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    writer: str


def text_key(text: str) -> str:
    """A text as duplicates are found: case and white space folded."""
    return " ".join(text.casefold().split())


def load_corpus(directory: Path = DEFAULT_CORPUS_DIR) -> tuple[Example, ...]:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise CorpusError(f"{directory}: no corpus files (*.yaml)")
    examples: list[Example] = []
    first_seen: dict[str, str] = {}
    for path in files:
        writer = path.stem
        try:
            items = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise CorpusError(f"{path.name}: not valid YAML: {error}") from error
        if not isinstance(items, list):
            raise CorpusError(f"{path.name}: expected a list of items")
        for number, item in enumerate(items, start=1):
            where = f"{path.name} item {number}"
            if not isinstance(item, dict) or set(item) != {"text", "label"}:
                raise CorpusError(f"{where}: expected exactly the keys text and label")
            text, label = item["text"], item["label"]
            if not isinstance(text, str) or not text.strip():
                raise CorpusError(f"{where}: empty text")
            if label not in LABELS:
                raise CorpusError(f"{where}: unknown label {label!r} (labels: {', '.join(LABELS)})")
            key = text_key(text)
            if key in first_seen:
                raise CorpusError(f"{where}: duplicate of {first_seen[key]}")
            first_seen[key] = where
            examples.append(Example(text.strip(), label, writer))
    return tuple(examples)


def describe(examples: tuple[Example, ...]) -> str:
    writers = Counter(e.writer for e in examples)
    labels = Counter(e.label for e in examples)
    return f"{len(examples)} messages from {len(writers)} writers; " + ", ".join(
        f"{label} {labels[label]}" for label in LABELS
    )
