"""Loading and validating knowledge: the real base, and each class of error on a broken copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeBase, KnowledgeError, load_knowledge, uncited_sentences
from bot.settings import DEFAULT_KNOWLEDGE_DIR
from tests.conftest import KnowledgeCopy

SHARED_SOURCE = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "knowledge-source"
    / "home-office-hackathon-2018.txt"
)

BrokenCopy = KnowledgeCopy


def test_the_source_is_byte_identical_to_the_shared_copy() -> None:
    if not SHARED_SOURCE.exists():
        pytest.skip("../shared is not beside this checkout")
    ours = DEFAULT_KNOWLEDGE_DIR / "sources" / "home-office-hackathon-2018.txt"
    assert ours.read_bytes() == SHARED_SOURCE.read_bytes()


def test_real_knowledge_loads(kb: KnowledgeBase) -> None:
    assert len(kb.sources) == 1
    assert len(kb.entries) >= 25
    assert len(kb.measures) == 4
    assert kb.support_routes[0].phone is not None  # emergency line first


def test_line_numbers_are_computed_from_quotes(kb: KnowledgeBase) -> None:
    hosts = kb.entry("hackathon-hosts").citations[0]
    assert (hosts.first_line, hosts.last_line) == (3, 4)
    amount = kb.entry("innovation-call-amount").citations[0]
    assert (amount.first_line, amount.last_line) == (50, 50)


def test_one_locator_places_quotes_folded_and_on_a_given_line(kb: KnowledgeBase) -> None:
    source = kb.sources["home-office-hackathon-2018"]
    # Straight quotes and one space stand for the source's curly quote and its line break.
    found = source.cite("ensure criminals don't have access to this funding stream")
    assert found is not None
    assert (found.first_line, found.last_line) == (48, 49)
    assert found.quote == "ensure criminals don’t have access to this\nfunding stream"
    # "the Home Secretary" stands on several lines: a line picks the occurrence.
    first = source.find("the Home Secretary")
    on_35 = source.find("The Home Secretary", 35)
    assert first is not None
    assert on_35 is not None
    assert source.line_of(first[0]) == 4
    assert source.line_of(on_35[0]) == 35
    assert source.find("the Home Secretary", 2) is None
    assert source.cite("not a sentence of the source") is None
    assert source.locate(found) == source.text.index("ensure criminals")
    assert source.find("the Home Secretary", 27) is not None


def test_every_quote_is_a_verbatim_substring_of_its_source(kb: KnowledgeBase) -> None:
    for entry in kb.entries:
        for citation in entry.citations:
            text = kb.sources[citation.source].text
            assert citation.quote in text
            lines = text.splitlines()[citation.first_line - 1 : citation.last_line]
            assert citation.quote.split()[0] in lines[0]
            assert citation.quote.split()[-1] in lines[-1]


def test_every_sentence_of_the_source_is_cited(kb: KnowledgeBase) -> None:
    assert uncited_sentences(kb) == {"home-office-hackathon-2018": []}


def test_an_uncited_sentence_is_reported(knowledge_copy: BrokenCopy) -> None:
    folder = knowledge_copy(
        "faq.yaml",
        '    - "The Home Secretary was thanked for his leadership and commitment to the issue'
        ' of CSE."',
        '    - "Home Secretary said:"',
    )
    missing = uncited_sentences(load_knowledge(folder))["home-office-hackathon-2018"]
    assert any("thanked for his leadership" in text for _, _, text in missing)


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "faq.yaml",
            '"worked for 2 days at a hackathon in the United States"',
            '"worked for 3 days at a hackathon in the United States"',
            "faq.yaml entry 'hackathon-duration' (line",
        ),
        (
            "faq.yaml",
            "  answers: [duration]\n",
            "  answers: [duration]\n  colour: red\n",
            "unknown key 'colour'",
        ),
        (
            "faq.yaml",
            "- id: hackathon-location",
            "- id: hackathon-duration",
            "duplicate id 'hackathon-duration'",
        ),
        (
            "faq.yaml",
            "    - where was it held\n",
            "    - how long did they work for\n",
            "duplicate alternate",
        ),
        (
            "faq.yaml",
            "  answer: The engineers worked for 2 days at the hackathon.",
            '  answer: ""',
            "'answer' must be a non-empty string",
        ),
        (
            "faq.yaml",
            "- id: hackathon-duration\n",
            "- id: hackathon-duration\n  bad: [unclosed\n",
            "malformed YAML",
        ),
        (
            "unstated.yaml",
            "closest: [prototype-tool]",
            "closest: [no-such-entry]",
            "unknown entry 'no-such-entry'",
        ),
        (
            "faq.yaml",
            "  answers: [duration]",
            "  answers: [length]",
            "unknown question type 'length'",
        ),
        (
            "lexicon/home-office-hackathon-2018.yaml",
            "subjects: [hackathon,",
            "subjects: [nonsense,",
            "unknown concept 'nonsense'",
        ),
        (
            "messages.yaml",
            "  - prototype-tool\n",
            "  - not-an-entry\n",
            "unknown entry 'not-an-entry'",
        ),
        ("safety.yaml", '    phone: "0800 1111"\n', "", "childline"),
    ],
)
def test_each_error_stops_loading_with_a_clear_message(
    knowledge_copy: BrokenCopy, file: str, old: str, new: str, message: str
) -> None:
    folder = knowledge_copy(file, old, new)
    if file == "safety.yaml":
        # Childline without a phone still has a url: valid. Remove the url too.
        path = folder / file
        path.write_text(path.read_text().replace("    url: https://www.childline.org.uk/\n", "", 1))
        message = "needs a url or a phone"
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(folder)
    assert message in str(caught.value)
    assert file in str(caught.value)


def test_malformed_yaml_names_the_line(knowledge_copy: BrokenCopy) -> None:
    folder = knowledge_copy(
        "faq.yaml", "- id: hackathon-duration\n", "- id: hackathon-duration\n  x: [\n"
    )
    with pytest.raises(KnowledgeError, match=r"faq\.yaml \(line \d+\): malformed YAML"):
        load_knowledge(folder)


def test_a_source_without_metadata_is_rejected(tmp_path: Path, knowledge_dir: Path) -> None:
    folder = knowledge_dir
    (folder / "sources" / "extra.txt").write_text("Some other text.\n")
    with pytest.raises(KnowledgeError, match=r"extra\.txt: has no metadata file extra\.yaml"):
        load_knowledge(folder)


def test_a_second_source_is_two_files_and_can_be_quoted(knowledge_dir: Path) -> None:
    folder = knowledge_dir
    (folder / "sources" / "second.txt").write_text("A second document.\nIt has two lines.\n")
    (folder / "sources" / "second.yaml").write_text(
        "title: Second\ntopic: a second document\npublisher: Us\nlicence: CC0\n"
    )
    faq = folder / "faq.yaml"
    faq.write_text(
        faq.read_text() + "\n- id: second-doc\n  question: What is the second document?\n"
        "  answer: A second document.\n  cite:\n"
        "    - {quote: 'It has two lines.', source: second}\n"
    )
    kb = load_knowledge(folder)
    citation = kb.entry("second-doc").citations[0]
    assert (citation.source, citation.first_line, citation.last_line) == ("second", 2, 2)


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="not found"):
        load_knowledge(tmp_path / "nowhere")


def test_no_protected_word_stems_into_a_concept(kb: KnowledgeBase) -> None:
    """Words kept out of typo correction (founded, weather) must not meet a concept word
    through stemming either ("founded" and "found" share a stem)."""
    from bot.core.normalise import stems

    concept_words = {
        stems(phrase)[0]: name
        for name, phrases in kb.lexicon.concepts.items()
        for phrase in phrases
        if len(stems(phrase)) == 1
    }
    clashes = {
        word: concept_words[stems(word)[0]]
        for word in kb.lexicon.known_words
        if len(stems(word)) == 1 and stems(word)[0] in concept_words
    }
    assert not clashes


def test_weights_without_an_intent_model_cannot_use_one(knowledge_dir: Path) -> None:
    path = knowledge_dir / "router.yaml"
    head, marker, tail = path.read_text(encoding="utf-8").partition("fusion_without_intent:\n")
    tail = tail.replace("  intent_probability: 0.0\n", "  intent_probability: 1.5\n", 1)
    path.write_text(head + marker + tail, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"intent_probability, intent_not_answered, .* be 0"):
        load_knowledge(knowledge_dir)
