"""Block Kit building: escaping, Slack's size limits, and what buttons carry."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from bot.core.knowledge import KnowledgeBase
from bot.core.reply import Citation, Reply, ReplyKind, Suggestion, SupportRoute
from bot.core.router import Router
from bot.slack.blocks import (
    ELLIPSIS,
    MAX_BUTTON_VALUE,
    FeedbackState,
    Origin,
    ReplyRef,
    block_quote,
    cut,
    decode_vote,
    escaped,
    home_view,
    measures_message,
    reply_message,
)
from bot.slack.signing import ValueSigner
from tests.slack.fake_slack import block_kit_problem
from tests.slack.inspect_messages import PING, block, buttons, mrkdwn_text, visible_text

ENTITY_OR_PLAIN = re.compile(r"&(amp|lt|gt);|[^&<>]")
SIGNER = ValueSigner("a-test-signing-secret")


def ref(question: str = "q?", origin: Origin = Origin.CHANNEL) -> ReplyRef:
    return ReplyRef(reply_id="0" * 32, asker="U0ASKER1", origin=origin, question=question)


def well_escaped(text: str) -> bool:
    return ENTITY_OR_PLAIN.sub("", text.removesuffix(ELLIPSIS)) == ""


@given(st.text(alphabet=st.sampled_from("ab &<>\n"), max_size=400), st.integers(2, 300))
def test_escaped_text_is_cut_within_the_limit_without_splitting_an_entity(
    text: str, limit: int
) -> None:
    result = escaped(text, limit)
    assert len(result) <= limit
    assert well_escaped(result)
    if len(escaped(text, 10_000)) <= limit:
        assert result == escaped(text, 10_000)
    else:
        assert result.endswith(ELLIPSIS)


@given(st.text(max_size=5000), st.integers(3, 3000))
def test_block_quotes_stay_within_the_limit(text: str, limit: int) -> None:
    quoted = block_quote(text, limit)
    assert len(quoted) <= limit
    assert all(line.startswith(">") for line in quoted.splitlines())


def test_cut_ends_with_an_ellipsis_only_when_it_cuts() -> None:
    assert cut("short", 75) == "short"
    long = cut("word " * 40, 75)
    assert len(long) <= 75
    assert long.endswith(ELLIPSIS)


@given(st.text(max_size=4000), st.lists(st.text(max_size=12), max_size=300))
def test_button_values_round_trip_within_2000_characters(question: str, voters: list[str]) -> None:
    reference = ReplyRef("r" * 32, "U1", Origin.COMMAND, question, intent="x", choice="y")
    for voter in voters:
        reference = reference.with_voter(voter)
    value = reference.encode(SIGNER)
    assert len(value) <= MAX_BUTTON_VALUE
    decoded = ReplyRef.decode(value, SIGNER)
    assert decoded is not None
    assert decoded.reply_id == reference.reply_id
    assert decoded.voters == reference.voters
    assert reference.question.startswith(decoded.question.removesuffix(ELLIPSIS))


def test_values_that_are_not_ours_decode_to_none() -> None:
    for value in (
        None,
        "",
        "x",
        "[]",
        '{"r": 1}',
        json.dumps({"r": "a", "u": "b", "o": "moon", "q": "c"}),
        SIGNER.sign(json.dumps({"r": "a", "u": "b", "o": "moon", "q": "c"})),
        SIGNER.sign("[" * 100_000),
    ):
        assert ReplyRef.decode(value, SIGNER) is None


def test_encoding_a_huge_asker_id_ends_instead_of_looping() -> None:
    # It looped forever once the question was down to the ellipsis (issue 11, defect 1).
    for asker in ("U" * 1990, "U" * 2100, "\\" * 1500):
        reference = ReplyRef("r" * 32, asker, Origin.CHANNEL, "a question " * 300)
        try:
            value = reference.encode(SIGNER)
        except ValueError:
            continue  # the fixed fields alone do not fit: refused, not a hang
        assert len(value) <= MAX_BUTTON_VALUE


@given(st.text(min_size=1, max_size=3000), st.text(max_size=3000))
def test_encoding_always_ends_within_the_limit_or_refuses(asker: str, question: str) -> None:
    try:
        value = ReplyRef("r", asker, Origin.IM, question).encode(SIGNER)
    except ValueError:
        return
    assert len(value) <= MAX_BUTTON_VALUE
    assert ReplyRef.decode(value, SIGNER) is not None


def test_values_not_signed_by_this_key_are_refused() -> None:
    genuine = ReplyRef("r" * 32, "U0ASKER1", Origin.CHANNEL, "q?").encode(SIGNER)
    assert ReplyRef.decode(genuine, SIGNER) is not None
    text, _, mac = genuine.rpartition("~")
    forged_fields = json.loads(text) | {"u": "U0OTHER1", "i": "measures-package"}
    forged = json.dumps(forged_fields, separators=(",", ":"))
    for value in (
        text,  # unsigned, as the bot used to write it
        f"{forged}~{mac}",  # altered, old signature
        ValueSigner("another-secret").sign(text),  # another deployment's key
        genuine[:-1] + ("A" if genuine[-1] != "A" else "B"),
    ):
        assert ReplyRef.decode(value, SIGNER) is None


def huge_reply(kind: ReplyKind = ReplyKind.ANSWER) -> Reply:
    passage = "<!channel> a long passage & more " * 200
    return Reply(
        question="<!here> " * 1000,
        kind=kind,
        body="<!channel> & an answer " * 500,
        intent="measures-package",
        citations=tuple(
            Citation("src", f"A title <!here> {n} " * 20, n, n + 3, passage) for n in range(60)
        ),
        suggestions=tuple(
            Suggestion(f"entry-{n}", f"Question {n} <!channel> " * 20) for n in range(40)
        ),
        confidence=0.5,
    )


def test_an_oversized_reply_still_fits_slacks_limits(knowledge: KnowledgeBase) -> None:
    for kind in (ReplyKind.ANSWER, ReplyKind.CLARIFY, ReplyKind.NOT_IN_SOURCE):
        message = reply_message(
            huge_reply(kind),
            knowledge,
            ref=ref("<!here> " * 1000),
            signer=SIGNER,
            restate=True,
            share_button=True,
        )
        body = message.to_api()
        assert block_kit_problem(body) is None
        assert len(body["blocks"]) <= 50
        assert "more passages in the source" in visible_text(body)
        assert not PING.search(mrkdwn_text(body))
        if kind is ReplyKind.CLARIFY:
            clarify = block(body, "clarify")
            assert clarify is not None
            assert clarify["elements"][-1]["text"]["text"] == "None of these"
            assert all(len(e["text"]["text"]) <= 75 for e in clarify["elements"])


def test_the_longest_entry_fits_whole(knowledge: KnowledgeBase, router: Router) -> None:
    longest = max(
        knowledge.entries, key=lambda e: len(e.answer) + sum(len(c.quote) for c in e.citations)
    )
    reply = router.answer_intent(longest.id, longest.question)
    body = reply_message(
        reply, knowledge, ref=ref(longest.question), signer=SIGNER, restate=True, share_button=True
    ).to_api()
    assert block_kit_problem(body) is None
    text = " ".join(visible_text(body).replace("> ", "").split())
    for citation in longest.citations:
        assert " ".join(escaped(citation.quote, 10_000).split()) in text
    assert ELLIPSIS not in text


def test_every_entry_and_measure_fits(knowledge: KnowledgeBase, router: Router) -> None:
    for entry in knowledge.entries:
        reply = router.answer_intent(entry.id, entry.question)
        assert (
            block_kit_problem(reply_message(reply, knowledge, ref=ref(), signer=SIGNER).to_api())
            is None
        )
    assert block_kit_problem(measures_message(knowledge, unmatched="x" * 10_000).to_api()) is None
    assert block_kit_problem({"view": home_view(knowledge)}) is None


def test_private_replies_carry_no_buttons(knowledge: KnowledgeBase) -> None:
    route = SupportRoute(
        "Helpline <x>", "Call & talk", "UK", url="https://example.org/help", phone="0800 000"
    )
    for kind in (ReplyKind.SAFEGUARDING, ReplyKind.REFUSAL):
        reply = Reply(question="q", kind=kind, body="Get help:", support_routes=(route,))
        body = reply_message(reply, knowledge, ref=ref(), signer=SIGNER, share_button=True).to_api()
        assert not buttons(body)
        assert "<https://example.org/help|Helpline &lt;x&gt;>" in visible_text(body)


def test_closed_feedback_is_a_thank_you_line(knowledge: KnowledgeBase) -> None:
    reply = Reply(question="q", kind=ReplyKind.ANSWER, body="An answer.", intent="x")
    body = reply_message(
        reply, knowledge, ref=ref(), signer=SIGNER, feedback=FeedbackState.CLOSED
    ).to_api()
    feedback = block(body, "feedback")
    assert feedback is not None
    assert feedback["type"] == "context"
    assert not buttons(body)


def test_recording_a_voter_keeps_the_other_blocks(knowledge: KnowledgeBase) -> None:
    reply = Reply(question="q", kind=ReplyKind.ANSWER, body="An answer.", intent="x")
    blocks = reply_message(reply, knowledge, ref=ref(), signer=SIGNER).block_dicts()
    voted = ref().with_voter("U0VOTER")
    updated = reply_message(reply, knowledge, ref=voted, signer=SIGNER).block_dicts()
    assert updated[0] == blocks[0]
    feedback = [b for b in buttons({"blocks": updated}) if b["block_id"] == "feedback"]
    assert len(feedback) == 2
    for button in feedback:
        decoded = decode_vote(button["value"], SIGNER)
        assert decoded is not None
        assert decoded[1].voters == ("U0VOTER",)


def test_only_a_real_user_id_becomes_a_mention(knowledge: KnowledgeBase) -> None:
    reply = Reply(question="q", kind=ReplyKind.ANSWER, body="An answer.", intent="x")
    shared_ref = replace(ref(), shared=True)
    shared = reply_message(reply, knowledge, ref=shared_ref, signer=SIGNER).to_api()
    assert mrkdwn_text(shared).count("<@U0ASKER1> asked: q") == 1
    forged_ref = replace(ref(), asker="U1> <!channel", shared=True)
    forged = reply_message(reply, knowledge, ref=forged_ref, signer=SIGNER).to_api()
    assert not PING.search(mrkdwn_text(forged))


def test_a_quote_is_one_paragraph_and_its_source_line_links_to_the_source(
    knowledge: KnowledgeBase,
) -> None:
    source = next(iter(knowledge.sources.values()))
    linked = dataclasses.replace(
        knowledge,
        sources={source.id: dataclasses.replace(source, url="https://www.gov.uk/news/x")},
    )
    wrapped = Citation(
        source.id, source.title, 3, 4, "at a hackathon in the United\nStates co-hosted"
    )
    reply = Reply(
        question="q",
        kind=ReplyKind.ANSWER,
        body="An answer.",
        intent="x",
        citations=(wrapped, wrapped),
    )
    body = reply_message(reply, linked, ref=ref(), signer=SIGNER).to_api()
    texts = [b.get("text", {}).get("text", "") for b in body["blocks"]]
    quotes = [text for text in texts if text.startswith("> ")]
    assert quotes == ["> at a hackathon in the United States co-hosted"], "reflowed, shown once"
    assert "<https://www.gov.uk/news/x|Source: " in mrkdwn_text(body)
    assert "lines 3–4" in visible_text(body)
    plain = reply_message(reply, knowledge, ref=ref(), signer=SIGNER).to_api()
    assert "<http" not in mrkdwn_text(plain), "no link without a url in the metadata"
