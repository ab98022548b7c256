"""The knowledge contract in the core: message keys, topics from the sources' metadata, route
roles, quotes that must name their source, sentences for coverage, optional measures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.core.knowledge import (
    SAFETY_LISTS,
    KnowledgeBase,
    KnowledgeError,
    load_knowledge,
    sentence_spans,
)
from bot.core.messages import PLACEHOLDERS, MessageKey
from bot.core.reply import ReplyKind, RouteRole
from bot.core.router import Router
from bot.settings import DEFAULT_KNOWLEDGE_DIR
from tests.conftest import KnowledgeCopy

BrokenCopy = KnowledgeCopy
REPO = Path(__file__).resolve().parents[2]


def add_source(folder: Path, name: str, text: str, topic: str) -> None:
    (folder / "sources" / f"{name}.txt").write_text(text, encoding="utf-8")
    (folder / "sources" / f"{name}.yaml").write_text(
        f"title: {name.title()}\ntopic: {topic}\npublisher: Test\nlicence: CC0\n", encoding="utf-8"
    )


# --- messages ----------------------------------------------------------------------------------


def test_every_message_key_is_loaded_and_formats(kb: KnowledgeBase) -> None:
    assert set(kb.messages) == set(MessageKey)
    for key in MessageKey:
        values = dict.fromkeys(PLACEHOLDERS.get(key, ()), "X")
        text = kb.message(key, **values)
        assert text, key
        assert "{" not in text, key


def test_a_plain_string_key_is_checked_against_the_enum(kb: KnowledgeBase) -> None:
    assert kb.message("core.clarify") == kb.message(MessageKey.CORE_CLARIFY)
    with pytest.raises(KeyError, match="not a MessageKey"):
        kb.message("core.no_such_message")


def test_no_message_names_the_hackathon(kb: KnowledgeBase) -> None:
    """What the sources are about comes from their metadata ({topic})."""
    for key, wording in kb.messages.items():
        for text in (wording.one, wording.several):
            assert "hackathon" not in text.lower(), key
    assert "hackathon" in kb.message(MessageKey.CORE_FALLBACK)  # from the source's topic
    smalltalk = yaml.safe_load((DEFAULT_KNOWLEDGE_DIR / "smalltalk.yaml").read_text())
    for topic in smalltalk["topics"]:
        assert "hackathon" not in topic["reply"].lower(), topic["id"]
    help_reply = next(t.reply for t in kb.smalltalk if t.id == "help")
    assert help_reply.startswith(f"I answer questions about {kb.topic},")


def test_a_smalltalk_reply_may_only_say_topic(knowledge_copy: BrokenCopy) -> None:
    folder = knowledge_copy("smalltalk.yaml", "about {topic}.", "about {subject}.")
    with pytest.raises(KnowledgeError, match=r"smalltalk\.yaml entry 'greeting' .*\{subject\}"):
        load_knowledge(folder)


def test_no_message_is_looked_up_by_a_string() -> None:
    """Every look-up passes a MessageKey, so mypy checks it."""
    pattern = re.compile(r"""\.message\(\s*f?["']""")
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in sorted((REPO / "bot").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders


def test_wording_for_several_sources(knowledge_dir: Path) -> None:
    folder = knowledge_dir
    add_source(folder, "library", "The library opens at nine.\n", "the community library")
    kb = load_knowledge(folder)
    assert kb.topic.startswith("the UK Home Office hackathon")
    assert kb.topic.endswith(" and the community library")
    assert kb.message(MessageKey.CORE_NOT_IN_SOURCE, missing="that").startswith(
        "The sources do not say"
    )
    assert "and the community library. For" in kb.message(MessageKey.CORE_FALLBACK)


# --- sources and quotes ------------------------------------------------------------------------


def test_a_source_needs_a_topic(knowledge_dir: Path) -> None:
    folder = knowledge_dir
    (folder / "sources" / "extra.txt").write_text("Some other text.\n", encoding="utf-8")
    (folder / "sources" / "extra.yaml").write_text(
        "title: Extra\npublisher: Us\nlicence: CC0\n", encoding="utf-8"
    )
    with pytest.raises(
        KnowledgeError, match=r"^sources/extra\.yaml \(line 1\): missing key 'topic'"
    ):
        load_knowledge(folder)


def test_a_quote_in_several_sources_must_name_its_source(knowledge_dir: Path) -> None:
    folder = knowledge_dir
    add_source(folder, "copy", "A prototype tool has been developed\nelsewhere.\n", "a copy")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(folder)
    message = str(caught.value)
    assert message.startswith("faq.yaml entry ")
    assert "is in several sources (copy, home-office-hackathon-2018): add 'source:'" in message
    assert "\n" not in message


def test_a_quote_naming_its_source_binds_to_it(knowledge_copy: BrokenCopy) -> None:
    quote = "A prototype tool has been developed"
    folder = knowledge_copy(
        "faq.yaml", f'    - "{quote}"', f'    - {{quote: "{quote}", source: copy}}'
    )
    add_source(folder, "copy", f"Intro.\n{quote} elsewhere.\n", "a copy")
    kb = load_knowledge(folder)
    cited = {(c.source, c.first_line) for e in kb.entries for c in e.citations if c.quote == quote}
    assert ("copy", 2) in cited


def test_a_source_given_both_nested_and_flattened_is_an_error(knowledge_dir: Path) -> None:
    folder = knowledge_dir
    nested = folder / "sources" / "home-office-hackathon-2018.txt"
    (folder / "sources__home-office-hackathon-2018.txt").write_bytes(nested.read_bytes())
    with pytest.raises(KnowledgeError, match="also given as sources__home-office"):
        load_knowledge(folder)


# --- safety ------------------------------------------------------------------------------------


def test_the_safety_lists_are_exactly_the_declared_ones(kb: KnowledgeBase) -> None:
    assert set(kb.safety.lists) == set(SAFETY_LISTS)


def test_routes_keep_their_id_and_role(kb: KnowledgeBase) -> None:
    assert kb.support_routes[0].role is RouteRole.EMERGENCY
    assert [r.id for r in kb.routes_with_role(RouteRole.SELF_HELP)] == ["stop-it-now"]
    assert [r.id for r in kb.routes_with_role(RouteRole.REPORT_IMAGES)] == ["iwf", "inhope"]
    assert kb.route("childline").role is RouteRole.CHILD_SUPPORT
    assert all(route.id and route.role for route in kb.support_routes)


QUESTIONS = [
    "I am worried about my own sexual thoughts about children",
    "how do I avoid detection by the moderation tool",
    "someone online is grooming my child",
    "how do I report abuse images",
]


def renamed(folder: Path) -> Path:
    """Every route gets a new display name that shares no words with the old one."""
    path = folder / "safety.yaml"
    names = iter(range(1, 100))
    text = re.sub(
        r"(?m)^    name: .*$", lambda _: f"    name: Helpline {next(names)}", path.read_text()
    )
    path.write_text(text, encoding="utf-8")
    return folder


def test_renaming_routes_keeps_their_roles(knowledge_dir: Path) -> None:
    kb = load_knowledge(renamed(knowledge_dir))
    assert all(route.name.startswith("Helpline ") for route in kb.support_routes)
    assert [r.id for r in kb.routes_with_role(RouteRole.SELF_HELP)] == ["stop-it-now"]


def test_renaming_any_route_changes_no_routing(router: Router, knowledge_dir: Path) -> None:
    other = Router(load_knowledge(renamed(knowledge_dir)))
    for question in QUESTIONS:
        before, after = router.reply(question), other.reply(question)
        assert before.kind in (ReplyKind.SAFEGUARDING, ReplyKind.REFUSAL), question
        assert (after.kind, after.body) == (before.kind, before.body), question
        assert [r.id for r in after.support_routes] == [r.id for r in before.support_routes]


# --- sentences for coverage --------------------------------------------------------------------


def test_headings_and_list_items_are_sentences_of_their_own() -> None:
    text = (
        "Opening times.\nLibrary:\nOpen at nine: closed on Sundays. It lends films.\n"
        "We offer:\n- books\nand magazines\n- films\n\nNotices\n\nThe end"
    )
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Opening times.",
        "Library:",
        "Open at nine: closed on Sundays.",
        "It lends films.",
        "We offer:",
        "- books\nand magazines",
        "- films",
        "Notices",
        "The end",
    ]


# --- measures are optional ---------------------------------------------------------------------


def test_knowledge_without_measures_loads(knowledge_dir: Path) -> None:
    folder = knowledge_dir
    (folder / "measures.yaml").unlink()
    kb = load_knowledge(folder)
    assert kb.measures == ()
    assert Router(kb).find_measure("caid") is None
