"""Knowledge is scoped per source: adding one changes no reply about another."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from bot.core.evaluation import load_items
from bot.core.knowledge import load_knowledge
from bot.core.policy import Decision, DecisionKind
from bot.core.reply import ReplyKind
from bot.core.router import Router
from bot.core.scoring import Candidate
from bot.settings import DEFAULT_KNOWLEDGE_DIR

QUESTION_SETS = sorted((Path(__file__).parent / "questions").glob("*.yaml"))

LIBRARY_TEXT = """Riverside Library opens from 9am to 5pm, Monday to Saturday.
Library cards are free for everyone who lives in the borough.
"""
LIBRARY_META = """title: "Riverside Library opening hours"
topic: the opening hours of the Riverside Library
publisher: Riverside Council
licence: "Test fixture"
"""
LIBRARY_FAQ = """
- id: library-hours
  question: When is the library open?
  answer: The library opens from 9am to 5pm, Monday to Saturday.
  answers: [when]
  cite:
    - source: riverside-library
      quote: "Riverside Library opens from 9am to 5pm, Monday to Saturday."
  alternates:
    - what are the library opening hours
    - is the library open on saturday

- id: library-cards
  question: How much does a library card cost?
  answer: Library cards are free for everyone who lives in the borough.
  answers: [amount, who]
  cite:
    - source: riverside-library
      quote: "Library cards are free for everyone who lives in the borough."
  alternates:
    - do I have to pay for a library card
    - who can get a library card
"""
LIBRARY_LEXICON = """concepts:
  library: [library, libraries, riverside library]
  card: [library card, card, membership]
subjects: [library]
domain_terms: [library, library card, borough]
"""


@pytest.fixture(scope="module")
def with_library(tmp_path_factory: pytest.TempPathFactory) -> Router:
    target = tmp_path_factory.mktemp("two-sources") / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, target)
    (target / "sources" / "riverside-library.txt").write_text(LIBRARY_TEXT, encoding="utf-8")
    (target / "sources" / "riverside-library.yaml").write_text(LIBRARY_META, encoding="utf-8")
    (target / "lexicon" / "riverside-library.yaml").write_text(LIBRARY_LEXICON, encoding="utf-8")
    faq = target / "faq.yaml"
    faq.write_text(faq.read_text(encoding="utf-8") + LIBRARY_FAQ, encoding="utf-8")
    return Router(load_knowledge(target))


def test_adding_a_source_changes_no_reply_about_another(
    router: Router, with_library: Router
) -> None:
    library = with_library.indexes["riverside-library"]
    questions = [
        item.question
        for path in QUESTION_SETS
        for item in load_items(path)
        # A question the new source is on topic for ("when does the British Library open?")
        # is about it, not about the hackathon: it may rightly change.
        if not library.analyser.analyse(item.question).terms & library.domain
    ]
    assert len(questions) > 2500
    changed = [
        q
        for q in questions
        if (a := router.reply(q)).kind != (b := with_library.reply(q)).kind
        or a.intent != b.intent
        or a.citations != b.citations
    ]
    assert changed == []


def test_the_second_source_answers_its_own_questions(with_library: Router) -> None:
    reply = with_library.reply("what time does the library open?")
    assert reply.kind is ReplyKind.ANSWER
    assert reply.intent == "library-hours"
    assert reply.citations[0].source == "riverside-library"


def test_what_the_second_source_does_not_say_is_not_answered_by_the_first(
    with_library: Router,
) -> None:
    reply = with_library.reply("does the library have a cafe?")
    assert reply.kind is not ReplyKind.ANSWER
    assert all(c.source == "riverside-library" for c in reply.citations)


def test_a_source_lexicon_must_name_a_source(tmp_path: Path) -> None:
    target = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, target)
    (target / "lexicon" / "nowhere.yaml").write_text("concepts: {}\n", encoding="utf-8")
    from bot.core.knowledge import KnowledgeError

    with pytest.raises(KnowledgeError, match="no source 'nowhere'"):
        load_knowledge(target)


def test_equal_claims_go_to_the_source_in_whose_words_the_question_is() -> None:
    """Each source has its own fusion, so their probabilities do not compare: between two
    off-topic claims of one rank, the source whose items use more of the question's terms
    wins, even with a lower probability."""
    likely = Candidate(intent="a", question="a?", unstated=False, probability=0.9)
    unlikely = Candidate(intent="b", question="b?", unstated=False, probability=0.6)
    foreign = Decision(DecisionKind.ANSWER, "x", "one", ("a",), (likely,), coverage=0.5)
    native = Decision(DecisionKind.NOT_IN_SOURCE, "y", "two", ("b",), (unlikely,), coverage=1.0)
    assert max([foreign, native], key=lambda d: d.strength) is native
    # On topic still comes first.
    on_topic = dataclasses.replace(foreign, on_topic=True)
    assert max([on_topic, native], key=lambda d: d.strength) is on_topic


def test_claims_equal_in_words_go_to_the_nearer_phrasing_not_the_higher_probability() -> None:
    """Fused probabilities are each source's own; the embedding is shared by all sources, so
    the nearer phrasing decides between claims of one rank and one coverage."""
    likely = Candidate(intent="a", question="a?", unstated=False, probability=0.9, semantic=0.4)
    near = Candidate(intent="b", question="b?", unstated=False, probability=0.6, semantic=0.7)
    one = Decision(DecisionKind.NOT_IN_SOURCE, "x", "one", ("a",), (likely,), coverage=0.5)
    two = Decision(DecisionKind.NOT_IN_SOURCE, "y", "two", ("b",), (near,), coverage=0.5)
    assert max([one, two], key=lambda d: d.strength) is two
