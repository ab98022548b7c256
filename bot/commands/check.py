"""``python -m bot check``: validate the knowledge base and report what it covers.

It rejects what a hot reload rejects (:meth:`bot.deploy.reload.KnowledgeWatcher.try_load`):
the knowledge must load and a router must be built from it. Either failure is one line. It
also validates the safety classifier's training corpus (``safety/corpus``), which is not read
at run time.
"""

from __future__ import annotations

import argparse

from bot.commands._core import add_knowledge_option, knowledge_dir
from bot.core.intent_model import NOT_ANSWERED
from bot.core.knowledge import KnowledgeBase, KnowledgeError, load_knowledge, uncited_sentences
from bot.core.router import Router
from bot.training.corpus import CorpusError, describe, load_corpus


def configure(parser: argparse.ArgumentParser) -> None:
    add_knowledge_option(parser)


def run(args: argparse.Namespace) -> int:
    directory = knowledge_dir(args)
    try:
        kb = load_knowledge(directory)
    except KnowledgeError as error:
        raise KnowledgeError(_one_line(error)) from None
    try:
        router = Router(kb)
    except Exception as error:  # what the reload rejects, check rejects (one line)
        raise KnowledgeError(
            f"no router can be built from it: {type(error).__name__}: {_one_line(error)}"
        ) from None
    alternates = sum(len(e.alternates) for e in kb.entries)
    alternates += sum(len(u.alternates) for u in kb.unstated)
    print(f"knowledge: {directory}")
    print(f"sources: {len(kb.sources)}")
    for source in kb.sources.values():
        print(f"  {source.id}: {source.title} ({source.line_count} lines, {source.licence})")
    print(
        f"entries: {len(kb.entries)} answers, {len(kb.unstated)} unstated, {alternates} alternates"
    )
    print(f"measures: {len(kb.measures)}")
    print(f"support routes: {len(kb.support_routes)}")
    print(f"small talk topics: {len(kb.smalltalk)}")
    for source_id in kb.sources:
        print(f"intent model of {source_id}: {_intent_status(kb, router, source_id)}")
    corpus = directory / "safety" / "corpus"
    if corpus.is_dir():
        try:
            print(f"safety corpus: {describe(load_corpus(corpus))}")
        except CorpusError as error:
            raise KnowledgeError(f"safety/corpus/{error}") from None
    uncovered = uncited_sentences(kb)
    total = sum(len(sentences) for sentences in uncovered.values())
    if total == 0:
        print("coverage: every sentence of every source is cited")
        return 0
    print(f"coverage: {total} sentence(s) cited by no entry")
    for source_id, sentences in uncovered.items():
        for first, last, text in sentences:
            print(f"  {source_id} lines {first}-{last}: {text}")
    return 1


def _intent_status(kb: KnowledgeBase, router: Router, source: str) -> str:
    """Whether a source's shipped intent model knows exactly its entries (a warning only:
    the router works with a stale model, but new entries get no learned signal)."""
    model = router.intent_models.get(source)
    if model is None:
        return "none (scored without the learned signal)"
    entries = {e.id for e in kb.entries if kb.source_of(e) == source}
    known = set(model.labels) - {NOT_ANSWERED}
    if known == entries:
        return f"{len(known)} entries ({model.trained_on})"
    unknown, gone = sorted(entries - known), sorted(known - entries)
    return (
        f"stale: retrain it (python -m bot.training.intent); entries it does not know: "
        f"{', '.join(unknown) or 'none'}; labels no longer entries: {', '.join(gone) or 'none'}"
    )


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())
