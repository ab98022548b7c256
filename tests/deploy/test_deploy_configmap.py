"""The knowledge ConfigMap, mounted whole as the kubelet mounts it: a source added to it is
served by a running replica with no change to the Deployment, and training data stays out."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.core.knowledge import load_knowledge
from bot.deploy import configmap
from bot.settings import DEFAULT_KNOWLEDGE_DIR
from tests.deploy.conftest import StartReplica
from tests.deploy.replicas import Event, deliver, poll, replies_by_ts
from tests.slack.fake_slack import FakeSlack

RELOADED = re.compile(r"knowledge reloaded \(file change\)")
QUESTION = "When does the community library open?"
SOURCE_TITLE = "Community library notice"


def shipped_configmap() -> dict[str, Any]:
    path = DEFAULT_KNOWLEDGE_DIR.parent / "deploy" / "k8s" / "knowledge-configmap.yaml"
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def with_a_new_source(document: dict[str, Any]) -> dict[str, Any]:
    """The ConfigMap with a second source and an entry quoting it, as an operator would add
    them (three keys, nothing else)."""
    data = dict(document["data"])
    data["sources__community-library.txt"] = (
        "The community library opens at nine in the morning.\nIt lends books and films.\n"
    )
    data["sources__community-library.yaml"] = (
        f"title: {SOURCE_TITLE}\ntopic: the community library\npublisher: Test\nlicence: CC0\n"
    )
    data["faq.yaml"] += (
        "\n- id: library-opening\n"
        f"  question: {QUESTION}\n"
        "  answer: At nine in the morning.\n"
        "  answers: [when]\n"
        "  cite:\n"
        "    - 'The community library opens at nine in the morning.'\n"
    )
    return {**document, "data": data}


def test_the_mounted_configmap_reads_flattened_source_names(tmp_path: Path) -> None:
    mount = tmp_path / "knowledge"
    configmap.materialise(with_a_new_source(shipped_configmap()), mount)
    assert not (mount / "sources").exists()
    assert not (mount / "lexicon").exists()
    kb = load_knowledge(mount)
    assert "community-library" in kb.sources
    # The source's own lexicon (lexicon__NAME.yaml) is read too.
    shipped = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    home = "home-office-hackathon-2018"
    assert kb.source_lexicons[home].concepts == shipped.source_lexicons[home].concepts
    assert kb.source_lexicons[home] != kb.lexicon
    assert kb.entry("library-opening").citations[0].source == "community-library"


def test_training_data_stays_out_of_the_configmap(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, knowledge)
    corpus = knowledge / "safety" / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "examples.yaml").write_text("- text: a generic example\n", encoding="utf-8")
    files = configmap.knowledge_files(knowledge)
    assert not any(path.is_relative_to("safety/corpus") for path in files)
    assert Path("faq.yaml") in files
    assert Path("sources/home-office-hackathon-2018.txt") in files
    assert "corpus" not in configmap.manifest(knowledge).split("data:")[1].split("\n  faq")[0]


@pytest.mark.slow
async def test_a_source_added_to_the_configmap_is_served(
    start_replica: StartReplica, fake_slack: FakeSlack, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    mount = tmp_path / "knowledge"
    configmap.materialise(shipped_configmap(), mount)
    replica = await start_replica(
        "replica", BOT_KNOWLEDGE_DIR=str(mount), KNOWLEDGE_POLL_SECONDS="0.1"
    )

    async def answer() -> str:
        event = Event.mention(QUESTION)
        assert (await deliver(http, replica, event, retry_num=None)).status == 200
        await poll(lambda: event.ts in replies_by_ts(fake_slack), within=20, what="a reply")
        return json.dumps([c.body for c in replies_by_ts(fake_slack)[event.ts]])

    assert SOURCE_TITLE not in await answer()
    configmap.materialise(with_a_new_source(shipped_configmap()), mount)  # kubectl apply
    await replica.wait_for_line(RELOADED)
    reply = await answer()
    assert SOURCE_TITLE in reply
    assert "At nine in the morning." in reply
