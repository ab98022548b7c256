"""``python -m bot eval FILE``: score the router on a question file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.cli import UsageError
from bot.commands._core import add_knowledge_option, knowledge_dir, load_router
from bot.core.evaluation import EvalFileError, evaluate, load_items


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="questions in the dev-questions.yaml format")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--unseen",
        action="store_true",
        help="leave out questions found word for word in what the models learn from (the "
        "curated phrasings, tests/core/questions, the safety corpus)",
    )
    add_knowledge_option(parser)


def run(args: argparse.Namespace) -> int:
    try:
        items = load_items(args.file)
    except EvalFileError as error:
        raise UsageError(str(error)) from None
    kb, router = load_router(args)
    if args.unseen:
        from bot.training.corpus import text_key
        from bot.training.questions import learned_texts

        learned = learned_texts(kb, knowledge_dir(args) / "safety" / "corpus")
        kept = [item for item in items if text_key(item.question) not in learned]
        print(f"unseen: {len(kept)} of {len(items)} questions (the others are learned from)")
        items = kept
    report = evaluate(router, items)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        return 0
    for miss in report.misses:
        got = miss.reply.kind.value + (f" ({miss.reply.intent})" if miss.reply.intent else "")
        lines = ",".join(f"{c.first_line}-{c.last_line}" for c in miss.reply.citations)
        wanted = "/".join(sorted(miss.item.expect))
        print(
            f"MISS [{miss.item.category}] {miss.item.question!r}: expected {wanted}, got {got}"
            + (f" lines {lines}" if lines else "")
        )
    print()
    for category, (right, total) in report.by_category().items():
        print(f"{category:<14} {right:>4}/{total:<4} {100 * right / total:6.1f} %")
    correct = sum(r.correct for r in report.results)
    print(f"false answers: {100 * report.false_answer_rate:.1f} % of questions that had no answer")
    print(f"overall: {correct}/{len(report.results)} = {100 * report.accuracy:.1f} %")
    return 0
