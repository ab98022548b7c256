"""``python -m bot.training.safety``: train the safety classifier and validate it honestly.

It learns from the corpus of ``knowledge/safety/corpus/``, from the bot's own curated
phrasings (every question and alternate of faq.yaml and unstated.yaml, and the small-talk
phrases: one more benign writer), and from the router's labelled question files
(``tests/core/questions/``: ordinary questions in many registers, one benign writer a file).

    pip install -e '.[train]'
    python -m bot.training.safety --cv      # grouped cross-validation: each writer held out
    python -m bot.training.safety --cv --groups 8   # eight groups of writers held out in turn
    python -m bot.training.safety           # retrain bot/models/safety-classifier/ exactly
    python -m bot.training.safety --check   # exit 1 if a retrain differs from the shipped files

Cross-validation trains on every writer but one and scores the one left out, so the figures say
how the classifier does on a register it never saw, not how well it remembers. It reports the
gate's routing (safeguarding, refusal, answered normally) with the thresholds of
``knowledge/safety.yaml``, and the probabilities at which a safeguarding recall target is met.

The gate asks the router whether a message that only the classifier would route is a question
its source answers (the classifier's ``question_*`` thresholds then apply). The router reads
each such message as when serving, with an intent model and an answer gate that never saw it:
a text of a question file by the router's out-of-fold model for that file (``--folds``, shared
with ``python -m bot.training.router --folds``; building the 60 takes about an hour on two
cores) and a gate fitted without that file, any other by the shipped model and gate, which
never saw the corpus. (The curated phrasings are the shipped model's own training texts, so
their writer's figure flatters.)
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import sys
import tempfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.embedding import StaticEmbedder, shared_embedder
from bot.core.evaluation import load_items
from bot.core.knowledge import ClassifierConfig, KnowledgeBase
from bot.core.safety import SafetyCheck, SafetyVerdict, _model_verdict, gate_message
from bot.core.safety_model import DEFAULT_CLASSIFIER_DIR, LABELS, Scores
from bot.core.textmodel import FILES as MODEL_FILES
from bot.core.textmodel import HIDDEN_FILES
from bot.training import add_common_options, rebuilt_identically, textmodel
from bot.training.corpus import DEFAULT_CORPUS_DIR, Example, describe, load_corpus, text_key
from bot.training.questions import QUESTION_SETS, load_sets

# Question-file items due one of these are ordinary questions (benign for the classifier).
QUESTION_KINDS = frozenset({"answer", "none", "not_in_source", "fallback", "clarify", "smalltalk"})

# The classifier: a network with one hidden layer (bot.core.textmodel). Chosen by a grouped
# 8-fold cross-validation (writers grouped by the CRC-32 of their names) against the logistic
# regression it replaced (131,072 buckets, C=8): at thresholds that route no fewer disclosures
# and let no more harmful requests through, it lets more ordinary messages through (README).
BUCKETS = 1 << 14
HIDDEN = 64
PENALTY = 1e-3  # the L2 penalty on the weights (sklearn's alpha)
EPOCHS = 15
FILES = (*MODEL_FILES, *HIDDEN_FILES)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When the classifier routes a message (see ``classifier`` in knowledge/safety.yaml)."""

    safeguarding: float
    harmful: float


def route(scores: Scores, thresholds: Thresholds) -> str:
    """safeguarding, refusal or answer: the classifier's own routing, as in the gate."""
    config = ClassifierConfig(thresholds.safeguarding, thresholds.harmful, 1.0, 0.0, 1.0, 1.0, 1.0)
    return ROUTES[_model_verdict(scores, config)]


ROUTES = {
    SafetyVerdict.SAFE: "answer",
    SafetyVerdict.SAFEGUARDING: "safeguarding",
    SafetyVerdict.SELF_CONCERN: "safeguarding",
    SafetyVerdict.REFUSAL: "refusal",
}


ROUTE_NAMES = ("safeguarding", "refusal", "answer")  # the routes, in the order reports give them

EXPECTED_ROUTE = {
    "safeguarding": "safeguarding",
    "self_concern": "safeguarding",
    "harmful": "refusal",
    "benign": "answer",
}


def fit(
    examples: Sequence[Example], embedder: StaticEmbedder, buckets: int, epochs: int = EPOCHS
) -> Any:
    return textmodel.fit_network(
        [e.text for e in examples],
        [e.label for e in examples],
        embedder,
        buckets,
        hidden=HIDDEN,
        penalty=PENALTY,
        epochs=epochs,
    )


def probabilities(
    model: Any, texts: Sequence[str], embedder: StaticEmbedder, buckets: int
) -> list[Scores]:
    found = textmodel.probabilities(model, texts, embedder, buckets, LABELS)
    return [Scores(*(float(p) for p in row)) for row in found]


def report(examples: Sequence[Example], routes: Sequence[str]) -> list[str]:
    """Per expected route: recall; per route given: precision."""
    expected = [EXPECTED_ROUTE[e.label] for e in examples]
    lines = []
    for name in ROUTE_NAMES:
        due = [i for i, want in enumerate(expected) if want == name]
        given = [i for i, got in enumerate(routes) if got == name]
        hit = sum(routes[i] == name for i in due)
        right = sum(expected[i] == name for i in given)
        recall = hit / len(due) if due else 0.0
        precision = right / len(given) if given else 0.0
        lines.append(
            f"  {name:13} recall {hit}/{len(due)} = {100 * recall:5.1f} %   "
            f"precision {right}/{len(given)} = {100 * precision:5.1f} %"
        )
    return lines


def writer_folds(examples: Sequence[Example], groups: int | None) -> list[str]:
    """Each example's fold: its writer, or with ``groups`` one of that many groups of writers
    (by the CRC-32 of the writer's name, so the same on every machine)."""
    if groups is None:
        return [e.writer for e in examples]
    return [f"group {zlib.crc32(e.writer.encode('utf-8')) % groups}" for e in examples]


def cross_validate(
    examples: Sequence[Example], embedder: StaticEmbedder, groups: int | None = None
) -> list[Scores]:
    """Each writer scored by a classifier trained on all the others (with ``groups``, each
    group of writers by one trained on the other groups: fewer fits, as many held out)."""
    folds = writer_folds(examples, groups)
    pooled: list[Scores | None] = [None] * len(examples)
    for held_out in sorted(set(folds)):
        train = [e for e, fold in zip(examples, folds, strict=True) if fold != held_out]
        test = [i for i, fold in enumerate(folds) if fold == held_out]
        model = fit(train, embedder, BUCKETS)
        found = probabilities(model, [examples[i].text for i in test], embedder, BUCKETS)
        for i, s in zip(test, found, strict=True):
            pooled[i] = s
    return [s for s in pooled if s is not None]


RuleOutcome = tuple[SafetyVerdict, str | None]


def rule_outcomes(kb: KnowledgeBase, examples: Sequence[Example]) -> list[RuleOutcome]:
    """Each message's rules verdict and deciding rule, read once (they do not depend on the
    classifier or its thresholds)."""
    from bot.core.index import general_analyser

    analyser = general_analyser(kb)
    check = SafetyCheck(kb.safety)
    return [check.rules(analyser.analyse(example.text[:500])) for example in examples]


Answers = Callable[[int], bool]  # whether the router reads message i as a question it answers


def gate_routes(
    rules: Sequence[RuleOutcome],
    scores: Sequence[Scores],
    config: ClassifierConfig,
    answers: Answers | None = None,
) -> list[str]:
    """The whole gate's routing (rules and classifier together, and the router's reading of a
    message only the classifier would route), as when serving."""
    routes = []
    for i, ((verdict, rule), found) in enumerate(zip(rules, scores, strict=True)):
        ask = None if answers is None else functools.partial(answers, i)
        routes.append(ROUTES[gate_message(verdict, rule, found, config, ask)[0]])
    return routes


def router_answers(kb: KnowledgeBase, examples: Sequence[Example], folds: Path) -> Answers:
    """Whether the router reads message i as a question its source answers, as it serves:
    with an intent model and an answer gate that never saw it (a question file's message is
    read with the file's out-of-fold intent model and a gate fitted without the file, as
    ``python -m bot.training.router`` scores it; any other message with the shipped ones, which
    never saw it); memoised, built on first use. (Until the release after 9a3fc72 this reading
    had no answer gate: the router decided by ``answer_probability`` alone, as a source without
    a gate does, while the served router asks its gate.)"""
    from bot.core.answer_gate import AnswerGate, shared_answer_gates
    from bot.core.intent_model import IntentModel, shared_intent_models
    from bot.core.router import Router
    from bot.training import intent
    from bot.training.router import UNANSWERED_SHARE, Examples, fit_gate, gate_rows, with_config

    sets = load_sets()
    where: dict[str, str] = {}
    for name, items in sets.items():
        for item in items:
            where.setdefault(text_key(item.question), name)
    source = next(iter(kb.sources))
    found: dict[int, bool] = {}
    routers: dict[str, Router] = {}
    models: dict[str, IntentModel] = {}
    rows: dict[str, Examples] = {}  # each question file's answer-gate rows, out of fold

    def gate(fold: str) -> AnswerGate:
        if not fold:
            return shared_answer_gates((source,))[source]
        if not rows:
            rows.update(gate_rows(kb, sets, models, UNANSWERED_SHARE))
        return fit_gate(rows, fold, f"without {fold}")

    def answers(i: int) -> bool:
        if i not in found:
            if not models:
                embedder = shared_embedder()
                texts = intent.training_set(kb, source, sets)
                labels = intent.labels_of(kb, source)
                models.update(intent.fold_models(texts, labels, embedder, folds))
                models[""] = shared_intent_models(embedder, (source,))[source]
            fold = where.get(text_key(examples[i].text), "")
            if fold not in routers:
                routers[fold] = with_config(kb, kb.router_config, models[fold], gate(fold))
            found[i] = routers[fold].answers(examples[i].text)
        return found[i]

    return answers


def rule_precision(
    kb: KnowledgeBase, examples: Sequence[Example], rules: Sequence[RuleOutcome]
) -> list[str]:
    """How often each rule routes a corpus message the way its label says it should."""
    right: dict[str, int] = {}
    wrong: dict[str, int] = {}
    for example, (verdict, name) in zip(examples, rules, strict=True):
        if name is None:
            continue
        rule = name.split("+")[0]
        tally = right if ROUTES[verdict] == EXPECTED_ROUTE[example.label] else wrong
        tally[rule] = tally.get(rule, 0) + 1
    lines = []
    for rule in sorted({*right, *wrong}):
        hit, miss = right.get(rule, 0), wrong.get(rule, 0)
        demoted = " (demoted)" if rule in kb.safety.classifier.demoted_rules else ""
        share = 100 * hit / (hit + miss)
        lines.append(f"  {rule:24} right {hit:4}  wrong {miss:4}  {share:5.1f} %{demoted}")
    return lines


def print_validation(
    kb: KnowledgeBase,
    examples: Sequence[Example],
    scores: Sequence[Scores],
    answers: Answers | None = None,
) -> None:
    rules = rule_outcomes(kb, examples)
    print("each rule on the corpus (the rules were written before it; not trained on it):")
    print("\n".join(rule_precision(kb, examples, rules)))
    config = kb.safety.classifier
    thresholds = Thresholds(config.safeguarding, config.harmful)
    shipped = gate_routes(rules, scores, config, answers)
    for writer in sorted({e.writer for e in examples}):
        index = [i for i, e in enumerate(examples) if e.writer == writer]
        chosen = [examples[i] for i in index]
        print(f"held out {writer} ({len(index)} messages), gate (rules and classifier):")
        print("\n".join(report(chosen, [shipped[i] for i in index])))
    print(f"all writers, classifier alone ({len(examples)} messages):")
    print("\n".join(report(examples, [route(s, thresholds) for s in scores])))
    print("all writers, gate (rules and classifier) with knowledge/safety.yaml's thresholds:")
    print("\n".join(report(examples, shipped)))
    print("\n".join(confusion(examples, shipped)))
    concern = sorted(
        s.concern
        for s, e in zip(scores, examples, strict=True)
        if EXPECTED_ROUTE[e.label] == "safeguarding"
    )
    for target in (0.95, 0.98, 0.99):
        cut = concern[int((1 - target) * len(concern))]
        print(
            f"  classifier safeguarding recall {target:.0%} needs a threshold of at most {cut:.3f}"
        )
    print(
        "gate recall per threshold pair (safeguarding, harmful), without the router's reading: "
        "safeguarding / refusal / answer"
    )
    for sg in (0.15, 0.2, 0.25, 0.3):
        for harm in (0.25, 0.3, 0.35, 0.4):
            trial = dataclasses.replace(config, safeguarding=sg, harmful=harm)
            print(f"  {sg:.2f} {harm:.2f}: {recalls(examples, gate_routes(rules, scores, trial))}")
    if answers is not None:
        print(
            "the same for a question the router answers (question_safeguarding, "
            "question_harmful), with the other thresholds as shipped:"
        )
        for sg in QUESTION_GRID:
            for harm in QUESTION_GRID:
                trial = dataclasses.replace(config, question_safeguarding=sg, question_harmful=harm)
                routes = gate_routes(rules, scores, trial, answers)
                print(f"  {sg:.2f} {harm:.2f}: {recalls(examples, routes)}")
    benign = [s for s, e in zip(scores, examples, strict=True) if e.label == "benign"]
    flagged = sum(s.concern >= config.risk for s in benign)
    print(f"risk note on benign messages (concern >= {config.risk}): {flagged}/{len(benign)}")


QUESTION_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def confusion(examples: Sequence[Example], routes: Sequence[str]) -> list[str]:
    """Per expected route, how many messages got each route."""
    lines = []
    for name in ROUTE_NAMES:
        due = [i for i, e in enumerate(examples) if EXPECTED_ROUTE[e.label] == name]
        counts = ", ".join(f"{got} {sum(routes[i] == got for i in due)}" for got in ROUTE_NAMES)
        lines.append(f"  due {name:13} ({len(due)}): {counts}")
    return lines


def recalls(examples: Sequence[Example], routes: Sequence[str]) -> str:
    """Per expected route, the share (and the count) routed so."""
    cells = []
    for name in ROUTE_NAMES:
        due = [i for i, e in enumerate(examples) if EXPECTED_ROUTE[e.label] == name]
        hit = sum(routes[i] == name for i in due)
        cells.append(f"{100 * hit / len(due):5.1f} ({hit})")
    return " / ".join(cells)


def corpus_digest(examples: Sequence[Example]) -> str:
    joined = "\n".join(f"{e.writer}\t{e.label}\t{e.text}" for e in examples)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


def knowledge_examples(kb: KnowledgeBase | None, corpus: Sequence[Example]) -> list[Example]:
    """The bot's own curated phrasings (questions and alternates of every entry and unstated
    item, and the small-talk phrases) as one more benign writer: what it exists to answer.
    Texts already in the corpus are left out."""
    if kb is None:
        return []
    seen = {text_key(e.text) for e in corpus}
    found: list[Example] = []
    texts = [text for item in (*kb.entries, *kb.unstated) for text in item.phrasings]
    texts += [phrase for topic in kb.smalltalk for phrase in topic.phrases]
    for text in texts:
        if text:
            key = text_key(text)
            if key not in seen:
                seen.add(key)
                found.append(Example(text, "benign", "knowledge-phrasings"))
    return found


# Question files the classifier does not learn from (file names starting so), though the intent
# model and the router do. writers9-* (815 questions, 40 % near-misses, many of them questions
# about grooming and about what the tool detects): retrained with them, the classifier lost
# nothing out of fold with the gate as it serves (README, "Safety: the gate"), but on the blind
# safety sets it let through 2 disclosures and 3 harmful requests, phrased as questions, that
# the classifier before it routed. A question file joins the classifier's writers only when
# both measures keep every disclosure and refusal. writers10-* (764 questions, written for the
# router after 1e024c6), writers11-* (754, after 05ebd73) and writers12-* (736, after 02e0a87)
# are kept out the same way, so that the classifier stays as shipped while the router learns
# from them. Tried after bef4418, with and without two more corpus writers (now
# tests/heldout/safety-*.yaml), and with a wider hidden layer: each trial lost a disclosure
# out of fold, let a blind disclosure through or blocked fewer blind harmful requests (README,
# "Safety: the gate").
NOT_LEARNED_AS_BENIGN = ("writers9-", "writers10-", "writers11-", "writers12-")


def question_examples(directory: Path | None, seen: Sequence[Example]) -> list[Example]:
    """The router's labelled question files (``tests/core/questions/``, in the repository) as
    more benign writers, one per file: ordinary questions in many registers, which the
    classifier must let through. Only questions due an answer or "the source does not say"
    count; texts already seen, and files named in ``NOT_LEARNED_AS_BENIGN``, are left out."""
    if directory is None:
        return []
    keys = {text_key(e.text) for e in seen}
    found: list[Example] = []
    for path in sorted(directory.glob("*.yaml")):
        if path.stem.startswith(NOT_LEARNED_AS_BENIGN):
            continue
        for item in load_items(path):
            if not item.expect <= QUESTION_KINDS:
                continue
            key = text_key(item.question)
            if key not in keys:
                keys.add(key)
                found.append(Example(item.question, "benign", f"questions-{path.stem}"))
    return found


def training_set(
    corpus: Path, kb: KnowledgeBase | None, questions: Path | None = None
) -> list[Example]:
    examples = list(load_corpus(corpus))
    examples += knowledge_examples(kb, examples)
    return examples + question_examples(questions, examples)


def train(
    corpus: Path,
    output: Path,
    embedder: StaticEmbedder,
    buckets: int = BUCKETS,
    kb: KnowledgeBase | None = None,
    questions: Path | None = None,
    epochs: int = EPOCHS,
) -> None:
    """Fit on the corpus (and, given a knowledge base, its phrasings; given a folder of
    question files, its questions) and write the files. ``epochs``: more for a tiny corpus
    (the tests' fixtures), which a few passes in batches of 64 would not teach."""
    examples = training_set(corpus, kb, questions)
    model = fit(examples, embedder, buckets, epochs)
    corpus_name = f"{describe(tuple(examples))}; sha256 {corpus_digest(examples)}"
    textmodel.export(
        model,
        output,
        LABELS,
        buckets,
        embedder.dimensions,
        {"penalty": PENALTY, "epochs": epochs, "corpus": corpus_name},
    )


def main(argv: list[str] | None = None) -> int:
    from bot.core.knowledge import load_knowledge
    from bot.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m bot.training.safety")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS_DIR)
    add_common_options(parser, DEFAULT_CLASSIFIER_DIR)
    parser.add_argument(
        "--scores",
        type=Path,
        help="with --cv: keep the out-of-fold scores in this JSON file, and reuse them when it "
        "exists (to compare thresholds without retraining)",
    )
    parser.add_argument(
        "--groups",
        type=int,
        help="with --cv: hold out this many groups of writers in turn (by the CRC-32 of each "
        "writer's name) instead of each writer (fewer fits)",
    )
    parser.add_argument(
        "--folds",
        type=Path,
        help="with --cv: the router's out-of-fold intent models, kept and reused as by "
        "python -m bot.training.router --folds (a scratch folder by default)",
    )
    args = parser.parse_args(argv)
    embedder = shared_embedder()
    kb = load_knowledge(Settings.from_env().knowledge_dir)
    if args.cv:
        examples = training_set(args.corpus, kb, QUESTION_SETS)
        print(describe(tuple(examples)))
        if args.scores and args.scores.exists():
            rows = json.loads(args.scores.read_text(encoding="utf-8"))
            scores = [Scores(*row) for row in rows]
        else:
            scores = cross_validate(examples, embedder, args.groups)
            if args.scores:
                rows = [[s.benign, s.safeguarding, s.self_concern, s.harmful] for s in scores]
                args.scores.write_text(json.dumps(rows), encoding="utf-8")
        with tempfile.TemporaryDirectory() as scratch:
            answers = router_answers(kb, examples, args.folds or Path(scratch))
            print_validation(kb, examples, scores, answers)
        return 0
    if args.check:
        rebuilt = rebuilt_identically(
            lambda folder: train(args.corpus, folder, embedder, kb=kb, questions=QUESTION_SETS),
            args.output,
            FILES,
        )
        return 0 if rebuilt else 1
    train(args.corpus, args.output, embedder, kb=kb, questions=QUESTION_SETS)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
