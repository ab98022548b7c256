"""Block Kit messages and views, built from replies and knowledge with ``slack_sdk.models``.

Pure functions: nothing here talks to Slack. Every text a user could have typed, and every
text from the knowledge files, is escaped with :func:`bot.core.render.escape_mrkdwn`, so a
typed ``<!channel>`` stays text. Every message keeps within Slack's limits (at most 50
blocks, 3,000 characters a section, 75 a button label, 2,000 a button value): long passages
are cut with an ellipsis rather than rejected by Slack.

Buttons carry what their click needs in their value (:class:`ReplyRef`): the reply's id for
votes and choices, who asked, where, and the question, so that any replica can act on a
click without shared state. The value is signed (:mod:`bot.slack.signing`); a click acts only
on a value that verifies, and a message is changed only by rebuilding it from that value,
never by writing back the blocks a click payload claims.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextActionsBlock,
    ContextBlock,
    DividerBlock,
    FeedbackButtonObject,
    FeedbackButtonsElement,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.core import render
from bot.core.conversation import distinct_citations
from bot.core.knowledge import KnowledgeBase, Measure
from bot.core.messages import MessageKey
from bot.core.render import escape_mrkdwn
from bot.core.reply import Citation, Reply, ReplyKind, SupportRoute
from bot.slack.signing import SIGNATURE_OVERHEAD, ValueSigner

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_CONTEXT_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK_TEXT = 3000
MAX_VALUE_QUESTION = 1000
ELLIPSIS = "…"

# Block and action ids the listeners match on.
FEEDBACK_BLOCK = "feedback"
SHARE_BLOCK = "share"
CLARIFY_BLOCK = "clarify"
ACTION_VOTE_UP = "feedback_up"  # the custom vote buttons of messages posted before native ones
ACTION_VOTE_DOWN = "feedback_down"
ACTION_FEEDBACK = "feedback"  # Block Kit's native feedback_buttons
VOTE_UP_PREFIX = "up:"
VOTE_DOWN_PREFIX = "down:"
RELATED_BLOCK = "related"
ACTION_RELATED_PREFIX = "related_"
ACTION_CLARIFY_PREFIX = "clarify_choose_"
ACTION_CLARIFY_NONE = "clarify_none"
ACTION_SHARE = "share_reply"
ACTION_MEASURE_MORE = "measure_more"

_FEEDBACK_KINDS = (ReplyKind.ANSWER, ReplyKind.NOT_IN_SOURCE)
_EXAMPLE_KINDS = (ReplyKind.FALLBACK, ReplyKind.SMALLTALK)


class Origin(StrEnum):
    """Where a reply was asked for; it decides privacy and how the message is updated."""

    CHANNEL = "channel"  # a mention in a channel, or a message shared into one
    IM = "im"  # a direct message
    COMMAND = "command"  # /ask: an ephemeral reply only the asker sees

    @classmethod
    def of_channel(cls, channel_id: str) -> Origin:
        return cls.IM if channel_id.startswith("D") else cls.CHANNEL


# --- fitting text into Slack's limits ---------------------------------------------------------


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def escaped(text: str, limit: int) -> str:
    """``text`` escaped for mrkdwn and cut to ``limit`` without splitting an entity."""
    safe = escape_mrkdwn(text)
    if len(safe) <= limit:
        return safe
    head = safe[: limit - len(ELLIPSIS)]
    ampersand = head.rfind("&", max(0, len(head) - 5))
    if ampersand >= 0 and ";" not in head[ampersand:]:
        head = head[:ampersand]
    return head.rstrip() + ELLIPSIS


def block_quote(text: str, limit: int = MAX_SECTION_TEXT) -> str:
    """Escaped ``text`` as an mrkdwn block quote of one paragraph (the source's hard line wraps
    reflowed), within ``limit``."""
    quoted = f"> {' '.join(escape_mrkdwn(text).split())}".rstrip() or "> "
    if len(quoted) <= limit:
        return quoted
    head = quoted[: limit - len(ELLIPSIS)]
    ampersand = head.rfind("&", max(0, len(head) - 5))
    if ampersand >= 0 and ";" not in head[ampersand:]:
        head = head[:ampersand]
    return head.rstrip() + ELLIPSIS


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _button(label: str, action_id: str, value: str, *, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=cut(label, MAX_BUTTON_TEXT), emoji=True),
        action_id=action_id,
        value=value,
        style=style,
    )


# --- what buttons carry -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplyRef:
    """A reply as its buttons carry it (JSON in the button value, at most 2,000 characters).

    ``intent`` is set when the reply answered an entry chosen from a clarify question, so the
    reply can be rebuilt exactly; ``choice`` is the entry a clarify button stands for;
    ``voters`` lists who voted on a message in a shared conversation.
    """

    reply_id: str
    asker: str
    origin: Origin
    question: str
    intent: str | None = None
    choice: str | None = None
    voters: tuple[str, ...] = field(default=())
    shared: bool = False

    def encode(self, signer: ValueSigner) -> str:
        """The signed button value, at most :data:`MAX_BUTTON_VALUE` characters.

        The question is cut to fit (a binary search over its length, so bounded by
        construction); :class:`ValueError` if even an empty question would not fit.
        """
        fields: dict[str, Any] = {"r": self.reply_id, "u": self.asker, "o": self.origin.value}
        if self.intent is not None:
            fields["i"] = self.intent
        if self.choice is not None:
            fields["c"] = self.choice
        if self.voters:
            fields["v"] = list(self.voters)
        if self.shared:
            fields["s"] = 1
        room = MAX_BUTTON_VALUE - SIGNATURE_OVERHEAD

        def encoded(question: str) -> str:
            return json.dumps({**fields, "q": question}, ensure_ascii=False, separators=(",", ":"))

        question = cut(self.question, MAX_VALUE_QUESTION)
        value = encoded(question)
        if len(value) > room:
            # JSON escaping made it too long: the longest cut of the question that fits.
            low, high = 0, len(question)
            while low < high:
                middle = (low + high + 1) // 2
                if len(encoded(cut(question, middle))) <= room:
                    low = middle
                else:
                    high = middle - 1
            value = encoded(cut(question, low) if low else "")
            if len(value) > room:
                raise ValueError("a button value's fixed fields do not fit in a button")
        return signer.sign(value)

    @classmethod
    def decode(cls, value: object, signer: ValueSigner) -> ReplyRef | None:
        """The reference in a button value, or None when it is not one the bot signed."""
        text = signer.verify(value)
        if text is None:
            return None
        try:
            fields = json.loads(text)
        except (ValueError, RecursionError):
            return None
        if not isinstance(fields, dict):
            return None
        texts = [fields.get(key) for key in ("r", "u", "o", "q")]
        if not all(isinstance(text, str) for text in texts):
            return None
        origin = fields["o"]
        if origin not in {o.value for o in Origin}:
            return None
        intent = fields.get("i")
        choice = fields.get("c")
        voters = fields.get("v", [])
        if not (intent is None or isinstance(intent, str)):
            return None
        if not (choice is None or isinstance(choice, str)):
            return None
        if not (isinstance(voters, list) and all(isinstance(v, str) for v in voters)):
            return None
        return cls(
            reply_id=fields["r"],
            asker=fields["u"],
            origin=Origin(origin),
            question=fields["q"],
            intent=intent,
            choice=choice,
            voters=tuple(voters),
            shared=fields.get("s") == 1,
        )

    def with_voter(self, user_id: str) -> ReplyRef:
        """This reference with ``user_id`` among the voters (unchanged if it would not fit)."""
        if user_id in self.voters:
            return self
        added = replace(self, voters=(*self.voters, user_id))
        return added if _fits(added) else self


def _fits(ref: ReplyRef) -> bool:
    """Whether ``ref`` encodes without cutting its question further than a cut to
    :data:`MAX_VALUE_QUESTION` does (the key does not change the length)."""
    try:
        value = ref.encode(_LENGTH_ONLY)
    except ValueError:
        return False
    return ReplyRef.decode(value, _LENGTH_ONLY) == replace(
        ref, question=cut(ref.question, MAX_VALUE_QUESTION)
    )


_LENGTH_ONLY = ValueSigner.ephemeral()


# --- messages ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A message: fallback text (notifications, screen readers) and its blocks."""

    text: str
    blocks: tuple[Block, ...]

    def block_dicts(self) -> list[dict[str, Any]]:
        return [block.to_dict() for block in self.blocks]

    def to_api(self) -> dict[str, Any]:
        """Arguments for chat.postMessage, chat.postEphemeral and response_url posts."""
        return {
            "text": self.text,
            "blocks": self.block_dicts(),
            "unfurl_links": False,
            "unfurl_media": False,
        }


class FeedbackState(StrEnum):
    OPEN = "open"  # 👍 / 👎 buttons
    CLOSED = "closed"  # the asker voted: a thank-you line instead of buttons


def reply_message(
    reply: Reply,
    kb: KnowledgeBase,
    *,
    ref: ReplyRef,
    signer: ValueSigner,
    restate: bool = False,
    share_button: bool = False,
    feedback: FeedbackState = FeedbackState.OPEN,
) -> SlackMessage:
    """The Slack message for a reply; its buttons carry ``ref`` signed by ``signer``.

    ``restate`` repeats the question first (a slash command's asker can't see their command);
    a ``ref.shared`` reply names its asker as who shared it into a channel; ``share_button``
    offers "Share in channel" (never on a private reply). The same reply and reference always
    give the same message, so a click can rebuild it rather than trust the clicked blocks.
    """
    shared_by = ref.asker if ref.shared else None
    head: list[Block] = []
    if shared_by is not None:
        line = kb.message(MessageKey.SLACK_SHARED_BY).replace("{user}", _mention(shared_by))
        head.append(_context(_fill(line, "question", reply.question)))
    elif restate:
        head.append(
            _context(_fill(kb.message(MessageKey.SLACK_YOU_ASKED), "question", reply.question))
        )
    head.append(_section(escaped(reply.body, MAX_SECTION_TEXT)))
    if reply.listed_routes:
        head.append(_section(_support_text(reply.listed_routes, reply)))
    if reply.kind in _EXAMPLE_KINDS and reply.suggestions:
        head.append(_section(_bullets(s.question for s in reply.suggestions)))

    tail: list[Block] = []
    if reply.kind is ReplyKind.CLARIFY and reply.suggestions:
        tail.append(_clarify_actions(reply, kb, ref, signer))
    if reply.related:
        tail.append(related_block(reply, ref, signer))
    if reply.kind in _FEEDBACK_KINDS and not reply.is_private:
        tail.append(feedback_block(kb, ref, feedback, signer))
    if share_button and not reply.is_private:
        value = ref.encode(signer)
        label = kb.message(MessageKey.SLACK_SHARE_BUTTON)
        tail.append(
            ActionsBlock(block_id=SHARE_BLOCK, elements=[_button(label, ACTION_SHARE, value)])
        )

    blocks = head + citation_blocks(reply.citations, kb, MAX_BLOCKS - len(head) - len(tail)) + tail
    return SlackMessage(text=escaped(reply.body, MAX_FALLBACK_TEXT), blocks=tuple(blocks))


def _mention(user_id: str) -> str:
    """A mention of a Slack user id; anything that is not an id stays plain, escaped text."""
    if re.fullmatch(r"[UW][A-Z0-9]{2,20}", user_id):
        return f"<@{user_id}>"
    return escape_mrkdwn(user_id)


def _fill(template: str, placeholder: str, user_text: str, limit: int = MAX_CONTEXT_TEXT) -> str:
    """Put text a user typed, escaped, into a template, keeping the whole within ``limit``."""
    marker = "{" + placeholder + "}"
    room = max(len(ELLIPSIS), limit - len(template.replace(marker, "")))
    return template.replace(marker, escaped(" ".join(user_text.split()), room))


def citation_blocks(citations: Sequence[Citation], kb: KnowledgeBase, budget: int) -> list[Block]:
    """Each citation as a source line and its quoted passage, within ``budget`` blocks.

    When not all fit, as many as fit are shown and a last line says how many were left out.
    No passage is shown twice.
    """
    citations = distinct_citations(citations)
    if 2 * len(citations) <= budget:
        shown = list(citations)
    else:
        shown = list(citations[: max(0, (budget - 1) // 2)])
    blocks: list[Block] = []
    for citation in shown:
        blocks.append(_context(source_line(citation, kb)))
        blocks.append(_section(block_quote(citation.quote)))
    if len(shown) < len(citations) and budget > len(blocks):
        blocks.append(
            _context(kb.message(MessageKey.SLACK_MORE_PASSAGES, count=len(citations) - len(shown)))
        )
    return blocks


def source_line(citation: Citation, kb: KnowledgeBase) -> str:
    """ "Source: TITLE, lines 42–56", linked to the source's public address when its metadata
    gives one."""
    line = cut(escape_mrkdwn(render.source_line(kb, citation)), MAX_CONTEXT_TEXT - 200)
    source = kb.sources.get(citation.source)
    url = source.url if source is not None else None
    if url and len(url) < 200 and not any(c in url for c in "<>| \n"):
        return f"<{url}|{line}>"
    return line


def _support_text(routes: Iterable[SupportRoute], reply: Reply | None = None) -> str:
    """Each route once; a route whose description the reply's body leads with is named
    without repeating it."""
    lines: list[str] = []
    for route in routes:
        name = escape_mrkdwn(route.name)
        if route.url and not any(c in route.url for c in "<>| "):
            name = f"<{route.url}|{name}>"
        description = route.description if reply is None else reply.route_description(route)
        line = f"• *{name}* ({escape_mrkdwn(route.region)})"
        if description:
            line += f": {escape_mrkdwn(description)}"
        if route.phone:
            line += f" {escape_mrkdwn(route.phone)}"
        lines.append(line)
    return cut("\n".join(lines), MAX_SECTION_TEXT)


def _bullets(items: Iterable[str]) -> str:
    return cut("\n".join(f"• {escape_mrkdwn(item)}" for item in items), MAX_SECTION_TEXT)


def _clarify_actions(
    reply: Reply, kb: KnowledgeBase, ref: ReplyRef, signer: ValueSigner
) -> ActionsBlock:
    buttons = [
        _button(
            s.question,
            f"{ACTION_CLARIFY_PREFIX}{n}",
            replace(ref, choice=s.intent).encode(signer),
        )
        for n, s in enumerate(reply.suggestions[:24])
    ]
    none_label = kb.message(MessageKey.CORE_NONE_OF_THESE)
    buttons.append(_button(none_label, ACTION_CLARIFY_NONE, ref.encode(signer)))
    return ActionsBlock(block_id=CLARIFY_BLOCK, elements=buttons)


def feedback_block(
    kb: KnowledgeBase, ref: ReplyRef, state: FeedbackState, signer: ValueSigner
) -> Block:
    """Block Kit's native feedback buttons (a ``context_actions`` block), or a thank-you line
    once the asker has voted. Each button's value is the vote and the reply's signed
    reference."""
    if state is FeedbackState.CLOSED:
        return ContextBlock(
            block_id=FEEDBACK_BLOCK,
            elements=[MarkdownTextObject(text=kb.message(MessageKey.SLACK_FEEDBACK_THANKS))],
        )
    return ContextActionsBlock(
        block_id=FEEDBACK_BLOCK,
        elements=[
            FeedbackButtonsElement(
                action_id=ACTION_FEEDBACK,
                positive_button=FeedbackButtonObject(
                    text=cut(kb.message(MessageKey.SLACK_FEEDBACK_UP), MAX_BUTTON_TEXT),
                    value=vote_value(VOTE_UP_PREFIX, ref, signer),
                ),
                negative_button=FeedbackButtonObject(
                    text=cut(kb.message(MessageKey.SLACK_FEEDBACK_DOWN), MAX_BUTTON_TEXT),
                    value=vote_value(VOTE_DOWN_PREFIX, ref, signer),
                ),
            )
        ],
    )


def vote_value(prefix: str, ref: ReplyRef, signer: ValueSigner) -> str:
    """A feedback button's value: the vote, then the reply's signed reference, within 2,000
    characters (the question is cut further when the vote's prefix needs the room)."""
    value = prefix + ref.encode(signer)
    question = ref.question
    while len(value) > MAX_BUTTON_VALUE and question:
        question = question[: max(0, len(question) - (len(value) - MAX_BUTTON_VALUE) - 1)]
        value = prefix + replace(ref, question=question).encode(signer)
    return value


def decode_vote(value: object, signer: ValueSigner) -> tuple[bool, ReplyRef] | None:
    """(True for 👍, the reference) from a feedback button's value, or None when the bot did
    not sign the reference."""
    if not isinstance(value, str):
        return None
    for prefix, up in ((VOTE_UP_PREFIX, True), (VOTE_DOWN_PREFIX, False)):
        if value.startswith(prefix):
            ref = ReplyRef.decode(value[len(prefix) :], signer)
            return None if ref is None else (up, ref)
    return None


def related_block(reply: Reply, ref: ReplyRef, signer: ValueSigner) -> ActionsBlock:
    """Up to three related questions, one button each, as readable questions; each value is
    the reference (signed) with the related entry as its choice."""
    buttons = [
        _button(
            s.question,
            f"{ACTION_RELATED_PREFIX}{n}",
            replace(ref, choice=s.intent, intent=None, voters=()).encode(signer),
        )
        for n, s in enumerate(reply.related[:3])
    ]
    return ActionsBlock(block_id=RELATED_BLOCK, elements=buttons)


def ask_usage(kb: KnowledgeBase) -> str:
    """How to use ``/ask``, with the first example question."""
    example = kb.entry(kb.example_questions[0]).question
    return kb.message(MessageKey.SLACK_ASK_USAGE, example=example)


def plain_message(text: str) -> SlackMessage:
    """A one-section message of the bot's own wording (escaped all the same)."""
    safe = escaped(text, MAX_SECTION_TEXT)
    return SlackMessage(text=safe, blocks=(_section(safe),))


def clarify_declined_message(kb: KnowledgeBase, question: str) -> SlackMessage:
    """What replaces a clarify question when the asker picks "None of these"."""
    blocks: list[Block] = [
        _context(_fill(kb.message(MessageKey.SLACK_YOU_ASKED), "question", question)),
        _section(escaped(kb.message(MessageKey.SLACK_CLARIFY_DECLINED), MAX_SECTION_TEXT)),
        _section(_bullets(kb.example_questions[:3])),
    ]
    return SlackMessage(
        text=escaped(kb.message(MessageKey.SLACK_CLARIFY_DECLINED), MAX_FALLBACK_TEXT),
        blocks=tuple(blocks),
    )


# --- measures ---------------------------------------------------------------------------------


def measures_message(kb: KnowledgeBase, *, unmatched: str | None = None) -> SlackMessage:
    """The package of measures, each with its one-line summary and a "More" button.

    ``unmatched`` is a name the asker looked for that matched nothing; the list says so.
    """
    if not kb.measures:
        none = kb.message(MessageKey.SLACK_MEASURES_NONE)
        return SlackMessage(
            text=cut(none, MAX_FALLBACK_TEXT), blocks=(_section(escaped(none, MAX_SECTION_TEXT)),)
        )
    intro = escaped(kb.message(MessageKey.SLACK_MEASURES_INTRO), MAX_SECTION_TEXT // 2)
    if unmatched is not None:
        notice = kb.message(MessageKey.SLACK_MEASURES_NO_MATCH)
        room = MAX_SECTION_TEXT - len(intro) - 1
        intro = _fill(notice, "name", unmatched, room) + "\n" + intro
    blocks: list[Block] = [_section(intro)]
    more = kb.message(MessageKey.SLACK_MEASURES_MORE_BUTTON)
    room = MAX_BLOCKS - len(blocks)
    shown = kb.measures if len(kb.measures) <= room else kb.measures[: room - 1]
    for measure in shown:
        text = escaped(f"{measure.name}\n{measure.summary}", MAX_SECTION_TEXT)
        name, _, summary = text.partition("\n")
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"*{name}*\n{summary}"),
                accessory=_button(more, ACTION_MEASURE_MORE, measure.id),
            )
        )
    if len(shown) < len(kb.measures):
        blocks.append(
            _context(
                kb.message(MessageKey.SLACK_MORE_MEASURES, count=len(kb.measures) - len(shown))
            )
        )
    return SlackMessage(
        text=cut(kb.message(MessageKey.SLACK_MEASURES_INTRO), MAX_FALLBACK_TEXT),
        blocks=tuple(blocks),
    )


def measure_message(measure: Measure, kb: KnowledgeBase) -> SlackMessage:
    """One measure: its name, summary and cited passages."""
    text = escaped(f"{measure.name}\n{measure.summary}", MAX_SECTION_TEXT)
    name, _, summary = text.partition("\n")
    head: list[Block] = [_section(f"*{name}*\n{summary}")]
    blocks = head + citation_blocks(measure.citations, kb, MAX_BLOCKS - len(head))
    return SlackMessage(text=escaped(measure.name, MAX_FALLBACK_TEXT), blocks=tuple(blocks))


# --- App Home ---------------------------------------------------------------------------------


def home_view(kb: KnowledgeBase, *, contact: str | None = None) -> dict[str, Any]:
    """The App Home tab: what the bot is and draws on, the measures, examples, reporting, and
    how to reach a person (the ``CONTACT`` setting), when one is configured."""
    blocks: list[Block] = [
        HeaderBlock(
            text=PlainTextObject(text=cut(kb.message(MessageKey.SLACK_HOME_TITLE), MAX_HEADER_TEXT))
        ),
        _section(escaped(kb.message(MessageKey.SLACK_HOME_INTRO), MAX_SECTION_TEXT)),
        _section(f"*{escape_mrkdwn(kb.message(MessageKey.SLACK_HOME_SOURCES))}*"),
    ]
    blocks.append(
        _section(
            cut(
                "\n".join(
                    f"• {escape_mrkdwn(s.title)} ({escape_mrkdwn(s.publisher)}, "
                    f"{escape_mrkdwn(s.licence)})"
                    for s in kb.sources.values()
                ),
                MAX_SECTION_TEXT,
            )
        )
    )
    if kb.measures:
        blocks.append(DividerBlock())
        blocks.append(_section(f"*{escape_mrkdwn(kb.message(MessageKey.SLACK_HOME_MEASURES))}*"))
        measures = "\n".join(
            f"• *{escape_mrkdwn(m.name)}*: {escape_mrkdwn(m.summary)}" for m in kb.measures
        )
        blocks.append(_section(cut(measures, MAX_SECTION_TEXT)))
    blocks.append(DividerBlock())
    blocks.append(_section(f"*{escape_mrkdwn(kb.message(MessageKey.SLACK_HOME_EXAMPLES))}*"))
    blocks.append(_section(_bullets(kb.example_questions)))
    blocks.append(_context(escaped(kb.message(MessageKey.SLACK_HOME_HOW_TO_ASK), MAX_CONTEXT_TEXT)))
    if contact:
        line = kb.message(MessageKey.CORE_CONTACT_LINE, contact=contact)
        blocks.append(_context(escaped(line, MAX_CONTEXT_TEXT)))
    blocks.append(DividerBlock())
    blocks.append(_section(f"*{escape_mrkdwn(kb.message(MessageKey.SLACK_HOME_REPORT))}*"))
    blocks.append(
        _section(escaped(kb.message(MessageKey.SLACK_HOME_REPORT_INTRO), MAX_SECTION_TEXT))
    )
    if kb.support_routes:
        blocks.append(_section(_support_text(kb.support_routes)))
    blocks.append(_context(escaped(kb.message(MessageKey.SLACK_HOME_PRIVACY), MAX_CONTEXT_TEXT)))
    return {"type": "home", "blocks": [block.to_dict() for block in blocks[:MAX_BLOCKS]]}
