"""The labelled question sets the router learns from, and how a question becomes a label.

Sets: every file of ``tests/core/questions/`` (the team's own sets and the independent writers'
training sets) and the shared development set (``../shared/eval/dev-questions.yaml``) when it is
beside the checkout. Each file is one writer or register, so validation can hold it out. The
blind sets of ``tests/blind/`` are never read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.core.embedding import StaticEmbedder
from bot.core.evaluation import EvalItem, load_items
from bot.core.intent_model import NOT_ANSWERED
from bot.core.knowledge import Entry, KnowledgeBase
from bot.core.normalise import MAX_QUESTION_CHARS
from bot.core.router import Router
from bot.core.wrappers import set_apart
from bot.training.corpus import load_corpus, text_key

REPOSITORY = Path(__file__).resolve().parent.parent.parent
QUESTION_SETS = REPOSITORY / "tests" / "core" / "questions"
DEV_SET = REPOSITORY.parent / "shared" / "eval" / "dev-questions.yaml"
MATCHED = frozenset({"answer", "none", "not_in_source", "fallback"})


def question_files(directory: Path = QUESTION_SETS) -> list[Path]:
    files = sorted(directory.glob("*.yaml"))
    return [*files, DEV_SET] if DEV_SET.is_file() else files


def load_sets(directory: Path = QUESTION_SETS) -> dict[str, list[EvalItem]]:
    """Each question file's items, by the file's name."""
    return {path.stem: load_items(path) for path in question_files(directory)}


def cited(entry: Entry) -> set[int]:
    return {n for c in entry.citations for n in range(c.first_line, c.last_line + 1)}


def overlaps(entry: Entry, spans: Sequence[tuple[int, int]]) -> bool:
    """The entry cites a line of one of the spans (how the evaluation judges an answer)."""
    return any(c.first_line <= b and a <= c.last_line for c in entry.citations for a, b in spans)


def label(
    item: EvalItem, entries: Sequence[Entry], embedder: StaticEmbedder | None = None
) -> str | None:
    """An item's intent label: the entry whose cited lines best cover the expected lines
    (Jaccard), ``NOT_ANSWERED`` when no answer is due, None when it is not a matched question
    (safety, small talk) or no entry cites its lines. Entries citing the same lines (when the
    Five Country Ministerial is, and what it is about) tie: given an embedder, the tie goes to
    the entry with the phrasing nearest the question, else to the first."""
    if not item.expect & MATCHED:
        return None
    if not item.answer_due:
        return NOT_ANSWERED
    wanted = {n for a, b in item.lines for n in range(a, b + 1)}
    shares = {}
    for entry in entries:
        lines = cited(entry)
        shares[entry.id] = len(wanted & lines) / len(wanted | lines) if wanted else 0.0
    top = max(shares.values(), default=0.0)
    if top <= 0.0:
        return None
    tied = [e for e in entries if shares[e.id] >= top - 1e-9]
    if len(tied) == 1 or embedder is None:
        return tied[0].id
    asked = embedder.embed(core_text(item.question))
    return max(tied, key=lambda e: float(np.max(_phrasings(embedder, e.phrasings) @ asked))).id


@lru_cache(maxsize=256)
def _phrasings(embedder: StaticEmbedder, phrasings: tuple[str, ...]) -> npt.NDArray[np.float32]:
    """An entry's phrasing vectors, embedded once however many questions tie on it."""
    return embedder.embed_many(list(phrasings))


def core_text(question: str) -> str:
    """What the router matches of a message: quoted Slack lines dropped, wrappers set apart."""
    return set_apart(Router.focus(question[:MAX_QUESTION_CHARS]))


def learned_texts(kb: KnowledgeBase, corpus: Path | None = None) -> frozenset[str]:
    """Every text the shipped models learn from (case and white space folded): the curated
    phrasings, the labelled question files and, when given, the safety corpus."""
    texts = {text_key(t) for item in (*kb.entries, *kb.unstated) for t in item.phrasings}
    for items in load_sets().values():
        texts |= {text_key(item.question) for item in items}
    if corpus is not None and corpus.is_dir():
        texts |= {text_key(example.text) for example in load_corpus(corpus)}
    return frozenset(texts)
