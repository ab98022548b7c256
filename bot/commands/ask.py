"""``python -m bot ask``: answer a question, for people or (with --json) for machines."""

from __future__ import annotations

import argparse
import json
import sys

from bot.commands._core import add_knowledge_option, load_router
from bot.core.conversation import with_contact
from bot.core.render import render_explanation, render_terminal, reply_json
from bot.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", nargs="+", help="the question, or - to read one per line")
    parser.add_argument("--json", action="store_true", help="print one JSON object per question")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also print the evidence: the safety verdict's scores and rules, and the decision",
    )
    add_knowledge_option(parser)


def run(args: argparse.Namespace) -> int:
    kb, router = load_router(args)
    contact = Settings.from_env().contact  # how to reach a person, as in Slack
    text = " ".join(args.question)
    questions = sys.stdin if text == "-" else [text]
    for raw in questions:
        question = raw.rstrip("\r\n") if text == "-" else raw
        explanation = router.explain(question)
        reply = with_contact(explanation.reply, kb, contact)
        if args.json:
            found = reply_json(kb, reply)
            if args.explain:
                found["explain"] = explanation.to_json()
            print(json.dumps(found, ensure_ascii=False), flush=True)
            continue
        print(render_terminal(kb, reply), flush=True)
        if args.explain:
            print(render_explanation(explanation), flush=True)
    return 0
