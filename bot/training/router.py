"""``python -m bot.training.router``: fit the router's fusion weights, answer gate and thresholds.

    pip install -e '.[train]'
    python -m bot.training.router --cv     # grouped cross-validation over the question sets
    python -m bot.training.router          # refit; rewrite router.yaml and the answer gate

Training data: the labelled question sets (:mod:`bot.training.questions`). For each answerable
question, every candidate entry is an example: right when its citations overlap the expected
lines. For a question the source does not answer, every candidate entry is wrong. A logistic
regression over the candidates' signals gives the fusion weights: ``fusion`` with the intent
model's probability, ``fusion_without_intent`` without it (for a source without a model). The
answer gate (:mod:`bot.core.answer_gate`) is fitted next, on one row per question: the likeliest
answerable entry's features in context, right when that entry cites the expected lines (written
to ``bot/models/answer-gate/SOURCE.json``). The thresholds are then chosen by coordinate search
for the whole router's best score on the same sets: right replies less the answers given where
the source has none (a false answer costs twice what a right reply earns;
``--false-answer-cost`` changes that). Both the fit and the search weigh each file's questions
so that those the source does not answer make up a quarter of it (``--unanswered-share``), as in
the general sets, whatever the file's own mix: the near-miss pair files, half near-misses, then
teach where each fact stops without teaching that half of all questions have no answer. (Before
the answer gate, a cost of 2 lowered right replies more than false answers, and the cost was 1.
With a first fit of the gate, out of fold on the 8,101 questions of November 2026, its threshold
at 0.7 / 0.75 / 0.8 / 0.85 gave 7,309 / 7,296 / 7,277 / 7,229 right and 304 / 273 / 234 / 192
false answers, against 7,262 and 267 without it: a cost of 1 chose 0.7, more right replies and
more false answers than without the gate, while the issue's target weighs false answers hardest.
With a cost of 2 the fit chose 0.75: 7,296 right, false answers 9.7 %.)

The intent model has learned these very questions, so its probability on them would look
perfect. Every question is therefore scored with an intent model trained without its file
(out of fold), when fitting the weights, choosing the thresholds and validating; the shipped
model (``python -m bot.training.intent``) is trained on everything.

Cross-validation holds out each question file in turn (a writer or a register), fits the
weights on the rest, and scores the held-out file with the whole router and an intent model
that never saw it, so the figure says how the router does on questions of a kind it never saw.
(The other files' intent probabilities come from models that did see the held-out file; only
the fusion weights, a dozen numbers, can carry that.) ``--cv`` studies the fusion: its routers
decide by ``answer_probability``, without an answer gate. The fit scores each file with a gate
fitted without that file, as it searches the thresholds and as it reports.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bot.blas import one_thread
from bot.core.answer_gate import DEFAULT_GATE_DIR, AnswerGate, quadratic_terms
from bot.core.config import INTENT_FEATURES, FusionWeights, RouterConfig
from bot.core.embedding import shared_embedder
from bot.core.evaluation import EvalItem, evaluate
from bot.core.index import SourceIndex
from bot.core.intent_model import IntentModel
from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.core.normalise import Analysis
from bot.core.policy import gate_input
from bot.core.reply import ReplyKind
from bot.core.router import Router
from bot.core.safety import SafetyVerdict
from bot.core.scoring import Candidate
from bot.settings import Settings
from bot.training import add_common_options, intent
from bot.training.questions import core_text, load_sets, overlaps

# sklearn's C (the inverse of the L2 penalty) of the fusion fit. The signals' products (see
# FusionWeights) came with it: grouped cross-validation (--cv) on the files of November 2026 gave
# 88.5 % right and false answers 14.5 % with both, against 88.0 % and 15.5 % with neither (a
# quicker study of the candidates alone found the products worth about half as much at C=1).
REGULARISATION = 10.0
# Asking back is not fitted: the labelled sets hold few vague questions, so a fit would never
# ask back. Its thresholds are set by hand in router.yaml.
FITTED = (
    "answer_probability",
    "answer_gate",
    "unstated_probability",
    "yes_no_probability",
    "wrong_type_intent",
)
GRID = {
    "answer_gate": [round(0.4 + 0.05 * i, 2) for i in range(11)],
    "yes_no_probability": [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5],
    "answer_probability": [round(0.2 + 0.05 * i, 2) for i in range(15)],
    "unstated_probability": [round(0.2 + 0.05 * i, 2) for i in range(13)],
    "wrong_type_intent": [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0],
}
# What the policy alone reads (bot/core/policy.py, and the router's small talk): the scoring
# of a question does not depend on them, so a threshold trial need not re-score it.
POLICY = (
    *FITTED,
    "on_topic_threshold",
    "unstated_form_similarity",
    "clarify_probability",
    "clarify_margin",
    "clarify_max_intent",
    "clarify_max_terms",
    "clarify_max_choices",
    "yes_no_explained",
    "smalltalk_max_words",
)
SCORING = tuple(f.name for f in dataclasses.fields(RouterConfig) if f.name not in POLICY)
Sets = dict[str, list[EvalItem]]
Scored = tuple[SourceIndex, Analysis, list[Candidate]]  # a source's scoring of a text
Models = Mapping[str, IntentModel]  # per question file, its out-of-fold intent model


Examples = tuple[list[list[float]], list[int], list[float]]  # feature rows, labels, weights


def examples(router: Router, items: Sequence[EvalItem], share: float) -> Examples:
    """Feature rows, labels and weights of every candidate entry of every question the router
    matches (each weighted as its question, :func:`question_weights`)."""
    entries = {entry.id: entry for entry in router.kb.entries}
    rows: list[list[float]] = []
    labels: list[int] = []
    weights: list[float] = []
    for item, core, weight in matched(router, items, share):
        _, candidates = router._best_source(core)
        answerable = item.answer_due and bool(item.lines)
        for candidate in candidates:
            entry = entries.get(candidate.intent)
            if entry is None:
                continue
            features = candidate.features()
            rows.append([features[name] for name in fitted_names(bool(router.intent_models))])
            labels.append(int(answerable and overlaps(entry, item.lines)))
            weights.append(weight)
    return rows, labels, weights


def matched(
    router: Router, items: Sequence[EvalItem], share: float
) -> Iterator[tuple[EvalItem, str, float]]:
    """The questions the router matches (not safety or small-talk items, and not those the
    safety gate routes as it serves: it asks the router whether the source answers), each
    with the text matched (wrappers set apart) and its weight (:func:`question_weights`)."""
    due_none = sum(not item.answer_due for item in items)
    weight_answered, weight_none = question_weights(due_none, len(items), share)
    for item in items:
        if not ({"answer", "none", "not_in_source", "fallback"} & item.expect):
            continue
        text = item.question[:500]
        general = router.general.analyse(text)
        if general.is_empty or (
            router.safety.assess(text, general, answers=partial(router.answers, text)).verdict
            is not SafetyVerdict.SAFE
        ):
            continue
        yield item, core_text(text), weight_answered if item.answer_due else weight_none


def gate_examples(router: Router, items: Sequence[EvalItem], share: float) -> Examples:
    """The answer gate's feature rows, labels and weights: one per matched question with an
    answerable entry, right when that likeliest entry cites the expected lines (the first
    source's scoring, as the policy reads it)."""
    entries = {entry.id: entry for entry in router.kb.entries}
    source = next(iter(router.kb.sources))
    rows: list[list[float]] = []
    labels: list[int] = []
    weights: list[float] = []
    for item, core, weight in matched(router, items, share):
        [(index, analysis, candidates)] = router._scored(core, only=source)
        found = gate_input(core, analysis, candidates, index)
        if found is None:
            continue
        top, features = found
        rows.append(list(features))
        right = item.answer_due and bool(item.lines)
        labels.append(int(right and overlaps(entries[top.intent], item.lines)))
        weights.append(weight)
    return rows, labels, weights


def gate_rows(kb: KnowledgeBase, sets: Sets, models: Models, share: float) -> dict[str, Examples]:
    """Per question file, its answer-gate rows (:func:`gate_examples`), each file scored with
    its out-of-fold intent model."""
    return {
        name: gate_examples(ThresholdTrials(kb, models[name]), items, share)
        for name, items in sets.items()
    }


# sklearn's C of the answer gate, chosen when it read 19 features (the two neighbour features
# came later, with C kept): leave-one-file-
# out on the files of November 2026 (a simulation of the decisions, at a threshold of 0.7) gave
# 7,244 / 7,239 / 7,235 right and 254 / 248 / 252 false answers of 8,101 at C = 0.1 / 0.3 / 1,
# and 7,221 and 254 at C = 3.
GATE_REGULARISATION = 0.3


def fit_gate(per_set: Mapping[str, Examples], held_out: str | None, note: str) -> AnswerGate:
    """The answer gate fitted on every file's rows but ``held_out``'s."""
    from sklearn.linear_model import LogisticRegression

    kept = [found for name, found in per_set.items() if name != held_out]
    rows = np.asarray([row for rs, _, _ in kept for row in rs], dtype=np.float64)
    labels = np.asarray([y for _, ys, _ in kept for y in ys])
    weights = np.asarray([w for _, _, ws in kept for w in ws])
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=GATE_REGULARISATION, max_iter=5000, tol=1e-8)
    with one_thread():
        model.fit(quadratic_terms((rows - mean) / scale), labels, sample_weight=weights)
    return AnswerGate(mean, scale, model.coef_[0].copy(), float(model.intercept_[0]), note)


Gates = Mapping[str, AnswerGate]  # per question file, its gate fitted without it


def fold_gates(per_set: Mapping[str, Examples]) -> dict[str, AnswerGate]:
    """Per file, the gate fitted without it."""
    return {name: fit_gate(per_set, name, f"without {name}") for name in per_set}


# The question files hold different shares of questions the source does not answer: the general
# sets 18-33 %, the near-miss pair files 45-48 %. Fitted as they stand, the pair files would
# teach the router that nearly half of all questions have no answer, and the threshold search
# would leave plain questions near the line unanswered. So in every file each question is
# weighted for those without an answer to make up this share (about that of the general sets,
# the shared development set and the blind sets); --unanswered-share changes it for a run, and
# 0 fits on the files as they stand.
UNANSWERED_SHARE = 0.25


def question_weights(due_none: int, total: int, share: float) -> tuple[float, float]:
    """The weights of a file's answerable questions and of those with no answer, for the
    latter to weigh ``share`` of the file (the file's total weight stays its size)."""
    if share <= 0.0 or due_none in (0, total):
        return 1.0, 1.0
    return (1.0 - share) * total / (total - due_none), share * total / due_none


def fitted_names(with_model: bool) -> list[str]:
    """The weights fitted: all but the bias, and the intent model's probability only for a
    router with a model."""
    skip = {"bias"} if with_model else {"bias", *INTENT_FEATURES}
    return [name for name in FusionWeights.names() if name not in skip]


def fit(
    rows: list[list[float]], labels: list[int], weights: list[float], names: list[str]
) -> FusionWeights:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=REGULARISATION, max_iter=5000, tol=1e-8)
    with one_thread():
        model.fit(np.asarray(rows), np.asarray(labels), sample_weight=np.asarray(weights))
    values = dict.fromkeys(FusionWeights.names(), 0.0)
    values.update({n: round(float(w), 4) for n, w in zip(names, model.coef_[0], strict=True)})
    values["bias"] = round(float(model.intercept_[0]), 4)
    return FusionWeights(**values)


def first_source_model(kb: KnowledgeBase, model: IntentModel | None) -> dict[str, IntentModel]:
    """The intent models of a router with one model for the first source, or none."""
    return {} if model is None else {next(iter(kb.sources)): model}


def first_source_gate(kb: KnowledgeBase, gate: AnswerGate | None) -> dict[str, AnswerGate]:
    """The answer gates of a router with one gate for the first source, or none."""
    return {} if gate is None else {next(iter(kb.sources)): gate}


def with_config(
    kb: KnowledgeBase,
    config: RouterConfig,
    model: IntentModel | None,
    gate: AnswerGate | None = None,
) -> Router:
    """A router over ``config``, with one intent model (and answer gate) for the first source,
    or none."""
    return Router(
        dataclasses.replace(kb, router_config=config),
        intent_models=first_source_model(kb, model),
        answer_gates=first_source_gate(kb, gate),
    )


# A confident wrong answer costs more than saying the source does not say: each false answer
# counts against the objective this many times what a right reply counts for it (on top of
# not being right). --false-answer-cost changes it for a run.
FALSE_ANSWER_COST = 2.0


class FileScore(NamedTuple):
    right: int
    right_none: int  # of them, questions the source has no answer for
    false: int  # answers given where the source has none
    due_none: int  # questions the source has no answer for
    total: int


class ThresholdTrials(Router):
    """A router for trying decision thresholds: what the scoring of a text gives is kept, and
    :meth:`use` swaps the configuration the policy reads. The thresholds searched are read
    only by the policy (:mod:`bot.core.policy`), after scoring, so a trial re-decides every
    question without re-scoring it (the search took about an hour, re-scoring each trial)."""

    def __init__(
        self, kb: KnowledgeBase, model: IntentModel | None, gate: AnswerGate | None = None
    ) -> None:
        super().__init__(
            kb,
            intent_models=first_source_model(kb, model),
            answer_gates=first_source_gate(kb, gate),
        )
        self._kept: dict[tuple[str, str | None, str | None], list[Scored]] = {}

    def use(self, config: RouterConfig) -> None:
        """Decide with ``config``: it must differ from the scoring's only in the thresholds
        the policy reads."""
        for name in SCORING:
            if getattr(config, name) != getattr(self.config, name):
                raise ValueError(f"{name} changes the scoring; build a new router")
        self.config = config
        for index in self.indexes.values():
            index.config = config

    def _scored(
        self, text: str, own_words: str | None = None, only: str | None = None
    ) -> list[Scored]:
        key = (text, own_words, only)
        found = self._kept.get(key)
        if found is None:
            found = self._kept[key] = super()._scored(text, own_words, only)
        return found


def fold_routers(
    kb: KnowledgeBase,
    config: RouterConfig,
    sets: Sets,
    models: Models | None,
    gates: Gates | None = None,
) -> dict[str, ThresholdTrials]:
    """Per file, a router with its out-of-fold intent model and answer gate (or none when
    ``models`` or ``gates`` is None), for trying thresholds."""
    scoring = dataclasses.replace(kb, router_config=config)
    return {
        name: ThresholdTrials(
            scoring,
            None if models is None else models[name],
            None if gates is None else gates[name],
        )
        for name in sets
    }


def fold_reports(
    kb: KnowledgeBase,
    config: RouterConfig,
    sets: Sets,
    models: Models | None,
    routers: Mapping[str, ThresholdTrials] | None = None,
    gates: Gates | None = None,
) -> dict[str, FileScore]:
    """Per file, its score by a router with its out-of-fold intent model and answer gate (or
    none when ``models`` or ``gates`` is None); ``routers`` (:func:`fold_routers`) are reused
    with ``config``'s thresholds when given."""
    routers = routers or fold_routers(kb, config, sets, models, gates)
    found = {}
    for name, items in sets.items():
        router = routers[name]
        router.use(config)
        report = evaluate(router, items)
        due_none = [r for r in report.results if not r.item.answer_due]
        false = sum(r.reply.kind is ReplyKind.ANSWER for r in due_none)
        right = sum(r.correct for r in report.results)
        right_none = sum(r.correct for r in due_none)
        found[name] = FileScore(right, right_none, false, len(due_none), len(items))
    return found


class Weighing(NamedTuple):
    """How the fit weighs questions and mistakes (the command's options)."""

    false_answer_cost: float = FALSE_ANSWER_COST
    unanswered_share: float = UNANSWERED_SHARE


def objective(reports: Mapping[str, FileScore], weighing: Weighing) -> float:
    """The weighted share of right replies, less the cost of the answers given where none was
    due (each question weighted as in :func:`question_weights`)."""
    earned = weight = 0.0
    for r in reports.values():
        answered, none = question_weights(r.due_none, r.total, weighing.unanswered_share)
        earned += answered * (r.right - r.right_none)
        earned += none * (r.right_none - weighing.false_answer_cost * r.false)
        weight += answered * (r.total - r.due_none) + none * r.due_none
    return earned / weight


# A threshold moves only for a gain of at least this much of the objective (about five
# questions in 5,000): a smaller one is noise, and a threshold moved on noise changes replies
# for nothing ("did Amazon take part?" once got the hackathon's date when the unstated
# threshold went from 0.5 to 0.4 for a gain of one weighted question).
MIN_GAIN = 0.001


def search_thresholds(
    kb: KnowledgeBase,
    config: RouterConfig,
    sets: Sets,
    models: Models | None,
    weighing: Weighing,
    gates: Gates | None = None,
) -> RouterConfig:
    """Coordinate search over the fitted thresholds, two rounds, for the best objective,
    from the thresholds of ``config``."""
    routers = fold_routers(kb, config, sets, models, gates)
    best = objective(fold_reports(kb, config, sets, models, routers), weighing)
    for _ in range(2):
        for name in FITTED:
            for value in GRID[name]:
                trial = dataclasses.replace(config, **{name: value})  # type: ignore[arg-type]
                found = objective(fold_reports(kb, trial, sets, models, routers), weighing)
                if found > best + MIN_GAIN:
                    best, config = found, trial
    print("thresholds: " + ", ".join(f"{n}={getattr(config, n)}" for n in FITTED))
    return config


def fusion_examples(
    kb: KnowledgeBase, config: RouterConfig, sets: Sets, models: Models | None, share: float
) -> dict[str, Examples]:
    """Per file, the candidates' feature rows, labels and weights (out-of-fold intent
    probabilities)."""
    return {
        name: examples(
            with_config(kb, config, None if models is None else models[name]), items, share
        )
        for name, items in sets.items()
    }


def fit_without(
    per_set: Mapping[str, Examples], held_out: str | None, names: list[str]
) -> FusionWeights:
    kept = [found for name, found in per_set.items() if name != held_out]
    rows = [row for rs, _, _ in kept for row in rs]
    labels = [y for _, ys, _ in kept for y in ys]
    weights = [w for _, _, ws in kept for w in ws]
    return fit(rows, labels, weights, names)


def print_reports(title: str, reports: Mapping[str, FileScore]) -> None:
    """Each file's share of right replies and of false answers (answers given where the
    source has none, as a share of those questions), then all files'."""
    print(title)
    for name, r in reports.items():
        print(f"  {name:28} {_rates(r)}")
    whole = FileScore(*(sum(column) for column in zip(*reports.values(), strict=True)))
    print(f"  {'all files':28} {_rates(whole)}")


def _rates(score: FileScore) -> str:
    right = 100 * score.right / score.total
    false = 100 * score.false / score.due_none if score.due_none else 0.0
    return f"{right:5.1f} % right of {score.total:<5} false answers {false:4.1f} %"


def cross_validate(kb: KnowledgeBase, sets: Sets, models: Models, share: float) -> None:
    for label, fold in (("with", models), ("without", None)):
        names = fitted_names(fold is not None)
        per_set = fusion_examples(kb, kb.router_config, sets, fold, share)
        reports = {}
        for held_out, items in sets.items():
            weights = fit_without(per_set, held_out, names)
            key = "fusion" if fold is not None else "fusion_without_intent"
            config = dataclasses.replace(kb.router_config, **{key: weights})  # type: ignore[arg-type]
            reports.update(fold_reports(kb, config, {held_out: items}, fold))
        print_reports(
            f"each file held out, fusion fitted without it, {label} an intent model "
            "that never saw it:",
            reports,
        )


def write_config(path: Path, config: RouterConfig) -> None:
    text = path.read_text(encoding="utf-8")
    for name in FITTED:
        text = re.sub(rf"(?m)^({name}:\s*)\S+", rf"\g<1>{getattr(config, name)}", text)
    for key in ("fusion", "fusion_without_intent"):
        weights = getattr(config, key)
        head, _, rest = text.partition(f"\n{key}:\n")
        block, blank, tail = rest.partition("\n\n")
        for name in FusionWeights.names():
            block = re.sub(rf"(?m)^(  {name}:\s*)\S+", rf"\g<1>{getattr(weights, name)}", block)
        text = f"{head}\n{key}:\n{block}{blank}{tail}"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.training.router")
    add_common_options(parser)
    parser.add_argument(
        "--folds",
        type=Path,
        help="keep the out-of-fold intent models in this folder and reuse those trained on the "
        "same texts (a scratch folder by default)",
    )
    parser.add_argument(
        "--false-answer-cost",
        type=float,
        default=FALSE_ANSWER_COST,
        help="what a false answer costs the threshold search, in right replies "
        f"(default {FALSE_ANSWER_COST})",
    )
    parser.add_argument(
        "--unanswered-share",
        type=float,
        default=UNANSWERED_SHARE,
        help="the share of each file's weight given to its questions the source does not answer "
        f"(default {UNANSWERED_SHARE}; 0 weighs every question alike)",
    )
    args = parser.parse_args(argv)
    weighing = Weighing(args.false_answer_cost, args.unanswered_share)
    directory = Settings.from_env().knowledge_dir
    kb = load_knowledge(directory)
    sets = load_sets()
    embedder = shared_embedder()
    source = next(iter(kb.sources))
    examples_ = intent.training_set(kb, source, sets)
    with tempfile.TemporaryDirectory() as scratch:
        labels = intent.labels_of(kb, source)
        models = intent.fold_models(examples_, labels, embedder, args.folds or Path(scratch))
        if args.cv:
            cross_validate(kb, sets, models, weighing.unanswered_share)
            return 0
        config = kb.router_config
        for key, fold in (("fusion_without_intent", None), ("fusion", models)):
            per_set = fusion_examples(kb, config, sets, fold, weighing.unanswered_share)
            weights = fit_without(per_set, None, fitted_names(fold is not None))
            shown = ", ".join(f"{n}={getattr(weights, n)}" for n in FusionWeights.names())
            print(f"{key}: {shown}")
            config = dataclasses.replace(config, **{key: weights})  # type: ignore[arg-type]
        gate_sets = gate_rows(
            dataclasses.replace(kb, router_config=config), sets, models, weighing.unanswered_share
        )
        gates = fold_gates(gate_sets)
        count = sum(len(rows) for rows, _, _ in gate_sets.values())
        gate = fit_gate(gate_sets, None, f"{count} questions from {len(gate_sets)} files")
        config = search_thresholds(kb, config, sets, models, weighing, gates)
        reports = fold_reports(kb, config, sets, models, gates=gates)
        print_reports("on the training sets (out-of-fold intent model and gate):", reports)
    write_config(directory / "router.yaml", config)
    gate.save(DEFAULT_GATE_DIR / f"{source}.json")
    print(f"wrote {directory / 'router.yaml'} and {DEFAULT_GATE_DIR / f'{source}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
