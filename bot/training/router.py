"""``python -m bot.training.router``: fit the router's fusion weights and decision thresholds.

    pip install -e '.[train]'
    python -m bot.training.router --cv     # grouped cross-validation over the question sets
    python -m bot.training.router          # refit and rewrite knowledge/router.yaml

Training data: the labelled question sets of tests/core/questions/ and the development set
(../shared/eval/dev-questions.yaml when present). For each answerable question, every
candidate entry is an example: right when its citations overlap the expected lines. For a
question the source does not answer, every candidate entry is wrong. A logistic regression
over the candidates' signals gives the fusion weights; the thresholds are then chosen by
coordinate search for the whole router's best score on the same sets: right replies less the
answers given where the source has none (a false answer costs as much as a right reply earns).

Cross-validation holds out each question file in turn (a writer or a register), fits the
weights on the rest, and scores the held-out file with the whole router, so the figure says
how the fusion does on questions of a kind it never saw.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.core.config import FusionWeights, RouterConfig
from bot.core.evaluation import EvalItem, evaluate, load_items
from bot.core.knowledge import Entry, KnowledgeBase, load_knowledge
from bot.core.reply import ReplyKind
from bot.core.router import Router
from bot.core.safety import SafetyVerdict
from bot.core.wrappers import set_apart
from bot.settings import Settings

REPOSITORY = Path(__file__).resolve().parent.parent.parent
QUESTION_SETS = REPOSITORY / "tests" / "core" / "questions"
DEV_SET = REPOSITORY.parent / "shared" / "eval" / "dev-questions.yaml"
REGULARISATION = 1.0
# Asking back is not fitted: the labelled sets hold few vague questions, so a fit would never
# ask back. Its thresholds are set by hand in router.yaml.
FITTED = ("answer_probability", "unstated_probability")
GRID = {
    "answer_probability": [round(0.2 + 0.05 * i, 2) for i in range(13)],
    "unstated_probability": [round(0.2 + 0.05 * i, 2) for i in range(13)],
}


def question_files() -> list[Path]:
    files = sorted(QUESTION_SETS.glob("*.yaml"))
    return [*files, DEV_SET] if DEV_SET.is_file() else files


def _overlaps(entry: Entry, spans: Sequence[tuple[int, int]]) -> bool:
    return any(c.first_line <= b and a <= c.last_line for c in entry.citations for a, b in spans)


def examples(router: Router, items: Sequence[EvalItem]) -> tuple[list[list[float]], list[int]]:
    """Feature rows and labels of every candidate entry of every question the router matches."""
    entries = {entry.id: entry for entry in router.kb.entries}
    rows: list[list[float]] = []
    labels: list[int] = []
    for item in items:
        if not ({"answer", "none", "not_in_source", "fallback"} & item.expect):
            continue  # safety and small-talk items are not matched
        text = item.question[:500]
        general = router.general.analyse(text)
        if (
            general.is_empty
            or router.safety.assess(text, general).verdict is not SafetyVerdict.SAFE
        ):
            continue
        core = set_apart(router._focus(text))
        _, candidates = router._best_source(core)
        answerable = "answer" in item.expect and bool(item.lines)
        for candidate in candidates:
            entry = entries.get(candidate.intent)
            if entry is None:
                continue
            features = candidate.features()
            rows.append([features[name] for name in FusionWeights.names() if name != "bias"])
            labels.append(int(answerable and _overlaps(entry, item.lines)))
    return rows, labels


def fit(rows: list[list[float]], labels: list[int]) -> FusionWeights:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=REGULARISATION, max_iter=5000, tol=1e-8)
    model.fit(np.asarray(rows), np.asarray(labels))
    names = [name for name in FusionWeights.names() if name != "bias"]
    values = {name: round(float(w), 4) for name, w in zip(names, model.coef_[0], strict=True)}
    return FusionWeights(bias=round(float(model.intercept_[0]), 4), **values)


def with_config(kb: KnowledgeBase, config: RouterConfig) -> Router:
    return Router(dataclasses.replace(kb, router_config=config))


# A confident wrong answer costs more than saying the source does not say: each false answer
# counts against the objective as much as a right reply counts for it.
FALSE_ANSWER_COST = 1.0


def accuracy(router: Router, items: list[EvalItem]) -> float:
    """The objective the thresholds maximise: the share of right replies, less the cost of
    the answers given where none was due."""
    report = evaluate(router, items)
    due_none = [r for r in report.results if "answer" not in r.item.expect]
    false = sum(r.reply.kind is ReplyKind.ANSWER for r in due_none)
    right = sum(r.correct for r in report.results)
    return (right - FALSE_ANSWER_COST * false) / len(report.results)


def search_thresholds(
    kb: KnowledgeBase, config: RouterConfig, items: list[EvalItem]
) -> RouterConfig:
    """Coordinate search over the fitted thresholds, two rounds, for the best accuracy."""
    best = accuracy(with_config(kb, config), items)
    for _ in range(2):
        for name in FITTED:
            for value in GRID[name]:
                trial = dataclasses.replace(config, **{name: value})  # type: ignore[arg-type]
                found = accuracy(with_config(kb, trial), items)
                if found > best + 1e-9:
                    best, config = found, trial
    print("thresholds: " + ", ".join(f"{n}={getattr(config, n)}" for n in FITTED))
    final = evaluate(with_config(kb, config), items)
    print(
        f"on the training sets: {100 * final.accuracy:.1f} % right, "
        f"{100 * final.false_answer_rate:.1f} % false answers"
    )
    return config


def load_sets() -> dict[str, list[EvalItem]]:
    return {path.stem: load_items(path) for path in question_files()}


def cross_validate(kb: KnowledgeBase, sets: dict[str, list[EvalItem]]) -> None:
    base = with_config(kb, kb.router_config)
    per_set = {name: examples(base, items) for name, items in sets.items()}
    right = total = 0
    for held_out, items in sets.items():
        rows = [r for name, (rs, _) in per_set.items() if name != held_out for r in rs]
        labels = [y for name, (_, ys) in per_set.items() if name != held_out for y in ys]
        weights = fit(rows, labels)
        router = with_config(kb, dataclasses.replace(kb.router_config, fusion=weights))
        report = evaluate(router, items)
        right += sum(r.correct for r in report.results)
        total += len(report.results)
        print(f"held out {held_out:14} {100 * report.accuracy:5.1f} % of {len(items)}")
    print(
        "all sets, each scored by weights fitted without it: "
        f"{right}/{total} = {100 * right / total:.1f} %"
    )


def write_config(path: Path, config: RouterConfig) -> None:
    text = path.read_text(encoding="utf-8")
    for name in FITTED:
        text = re.sub(rf"(?m)^({name}:\s*)\S+", rf"\g<1>{getattr(config, name)}", text)
    for name in FusionWeights.names():
        text = re.sub(rf"(?m)^(  {name}:\s*)\S+", rf"\g<1>{getattr(config.fusion, name)}", text)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.training.router")
    parser.add_argument("--cv", action="store_true", help="grouped cross-validation only")
    args = parser.parse_args(argv)
    directory = Settings.from_env().knowledge_dir
    kb = load_knowledge(directory)
    sets = load_sets()
    if args.cv:
        cross_validate(kb, sets)
        return 0
    router = with_config(kb, kb.router_config)
    rows: list[list[float]] = []
    labels: list[int] = []
    for items in sets.values():
        r, y = examples(router, items)
        rows += r
        labels += y
    weights = fit(rows, labels)
    print("fusion: " + ", ".join(f"{n}={getattr(weights, n)}" for n in FusionWeights.names()))
    everything = [item for items in sets.values() for item in items]
    config = search_thresholds(
        kb, dataclasses.replace(kb.router_config, fusion=weights), everything
    )
    write_config(directory / "router.yaml", config)
    print(f"wrote {directory / 'router.yaml'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
