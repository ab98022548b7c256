"""Wrappers around a question are set apart by design, and indirect requests read as requests."""

from __future__ import annotations

import pytest

from bot.core.wrappers import asks, set_apart


@pytest.mark.parametrize(
    ("message", "core"),
    [
        ("Hi there! Who hosted the hackathon? Thanks in advance!", "Who hosted the hackathon?"),
        ("Quick question: what is CAID?", "what is CAID?"),
        ("Sorry for my bad English, what is the cost of tool?", "what is the cost of tool?"),
        (
            "I am a teacher preparing a lesson on online safety. Who chairs the taskforce?",
            "Who chairs the taskforce?",
        ),
        ("I need to brief my boss on the innovation call", "tell me about the innovation call"),
        ("I want to mention the taskforce in a lesson tomorrow.", "tell me about the taskforce"),
        ("Good morning, when is the ministerial? Many thanks", "when is the ministerial?"),
        (
            "I would be grateful if you could tell me who chaired the taskforce.",
            "who chaired the taskforce.",
        ),
        (
            "I am writing to ask when the ministerial takes place.",
            "when the ministerial takes place.",
        ),
        ("Could you kindly confirm whether the tool is free?", "is it true that the tool is free?"),
        # An apology ends where its clause hands over to the question.
        (
            "Sorry if this is a silly question but is the tool free?",
            "is the tool free?",
        ),
        ("Sorry for all the questions, but who hosted it?", "who hosted it?"),
        ("Sorry for my English and grammar, who hosted it?", "who hosted it?"),
        ("Morning! Who hosted the hackathon? Kind regards.", "Who hosted the hackathon?"),
        # An apology running into the question with no punctuation ends where it begins.
        (
            "hi! sorry, second question today what does the taskforce do?",
            "what does the taskforce do?",
        ),
        # ... and so does one that would otherwise run on to a later "so", past the question.
        (
            "sorry typing this one handed where was the hackathon held thanks so much",
            "where was the hackathon held",
        ),
        # "More" and "details" ask nothing of their own: a request for the subject.
        ("can you tell me a bit more about the taskforce?", "tell me about the taskforce"),
        ("Any info on the innovation call, please?", "tell me about the innovation call"),
        ("give me more details on CAID", "tell me about CAID"),
        # A request holding a question of its own is read as that question...
        (
            "I need to tell my boss which companies worked on the tool.",
            "which companies worked on the tool.",
        ),
        # A question word contracted with "is", typed in a hurry, still begins the question.
        ("sorry for my bad english whats the taskforce for", "whats the taskforce for"),
        ("quick one - whos chairing the taskforce", "whos chairing the taskforce"),
        # A sentence of thanks for something asks nothing.
        (
            "Hi! Huge thanks for all your earlier help. Who chairs the taskforce?",
            "Who chairs the taskforce?",
        ),
    ],
)
def test_wrappers_are_set_apart(message: str, core: str) -> None:
    assert set_apart(message) == core


@pytest.mark.parametrize(
    "message",
    [
        "Five Country Ministerial: when is it?",  # a subject before the colon is kept
        "thanks!",  # nothing would be left
        "who hosted the hackathon",
        "Morning meetings: who attends?",  # a time of day that names the subject
        "which companies did best",  # "best" is no sign-off
        "Was the Home Secretary thanked for his leadership?",  # thanked is the fact asked
        # ... and a request before a dash is no preamble when what follows asks nothing.
        "need a line on the taskforce - for our newsletter",
    ],
)
def test_what_is_not_a_wrapper_stays(message: str) -> None:
    assert set_apart(message) == message


@pytest.mark.parametrize(
    ("text", "asking"),
    [
        ("who chairs the taskforce", True),
        ("Does the release say when?", True),
        ("tell me about the innovation call", True),
        ("I need to know where the hackathon was held", True),
        ("wheres the ministerial", True),
        ("what's the innovation call", True),
        ("The release says the tool will be free once it is finished", False),
        ("Our charity works with teenagers", False),
    ],
)
def test_asks_tells_a_question_from_a_statement(text: str, asking: bool) -> None:
    assert asks(text) is asking
