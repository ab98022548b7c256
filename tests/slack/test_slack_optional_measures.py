"""Measures are optional: without measures.yaml, ``/measures`` says there are none and App Home
leaves the section out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.core.messages import MessageKey
from bot.settings import DEFAULT_KNOWLEDGE_DIR
from bot.slack.blocks import ask_usage, home_view, measures_message


def without_measures(tmp_path: Path) -> KnowledgeBase:
    folder = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, folder)
    (folder / "measures.yaml").unlink()
    return load_knowledge(folder)


def test_measures_without_measures_says_there_are_none(tmp_path: Path) -> None:
    kb = without_measures(tmp_path)
    message = measures_message(kb).to_api()
    assert message["text"] == kb.message(MessageKey.SLACK_MEASURES_NONE)
    assert len(message["blocks"]) == 1
    assert measures_message(kb, unmatched="caid").to_api()["text"] == message["text"]


def test_app_home_without_measures_has_no_measures_section(tmp_path: Path) -> None:
    kb = without_measures(tmp_path)
    view = json.dumps(home_view(kb), ensure_ascii=False)
    assert kb.message(MessageKey.SLACK_HOME_MEASURES) not in view
    assert kb.message(MessageKey.SLACK_HOME_REPORT) in view


def test_ask_usage_takes_its_topic_and_example_from_the_knowledge(knowledge: KnowledgeBase) -> None:
    usage = ask_usage(knowledge)
    assert knowledge.topic in usage
    assert f"`/ask {knowledge.entry(knowledge.example_questions[0]).question}`" in usage
