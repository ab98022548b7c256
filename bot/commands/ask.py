"""``python -m bot ask``: answer a question, for people or (with --json) for machines."""

from __future__ import annotations

import argparse
import json
import sys

from bot.commands._core import add_knowledge_option, load_router
from bot.core.render import render_terminal, reply_json


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", nargs="+", help="the question, or - to read one per line")
    parser.add_argument("--json", action="store_true", help="print one JSON object per question")
    add_knowledge_option(parser)


def run(args: argparse.Namespace) -> int:
    kb, router = load_router(args)
    text = " ".join(args.question)
    questions = sys.stdin if text == "-" else [text]
    for raw in questions:
        question = raw.rstrip("\r\n") if text == "-" else raw
        reply = router.reply(question)
        if args.json:
            print(json.dumps(reply_json(kb, reply), ensure_ascii=False), flush=True)
        else:
            print(render_terminal(kb, reply), flush=True)
    return 0
