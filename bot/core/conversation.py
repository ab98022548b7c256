"""Conversation helpers of the core: related questions after an answer, abbreviations spelled
out, passages that are never shown twice, and a way to reach a person. Pure functions over
the knowledge base.

Related questions for an entry are its curated ``related:`` list first, then entries on the
same subject: those citing lines it cites, then those sharing the most content words of
their question and answer (stop words aside). Readable questions only, never ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from bot.core.knowledge import Entry, KnowledgeBase
from bot.core.messages import MessageKey
from bot.core.normalise import stems
from bot.core.reply import Citation, Reply, ReplyKind, Suggestion

MAX_RELATED = 3
MAX_CONTEXT_INTENTS = 5  # the intents a conversation keeps, most recent last


class RelatedQuestions:
    """The related questions of entries, each worked out on first use (linear in the number
    of entries) and kept. Each entry's content words are read once, when the base is built,
    so no question pays for reading them all."""

    def __init__(self, kb: KnowledgeBase, limit: int = MAX_RELATED) -> None:
        self.kb = kb
        self.limit = limit
        self._entries = {entry.id: entry for entry in kb.entries}
        stop = kb.lexicon.stopwords
        self._content = {
            e.id: frozenset(s for s in stems(f"{e.question} {e.answer}") if s not in stop)
            for e in kb.entries
        }
        self._lines = {e.id: _line_set(e.citations) for e in kb.entries}
        # Who shares a line or a word with whom: a related entry shares at least one of them,
        # so only those are compared.
        self._sharing: dict[object, list[str]] = {}
        for e in kb.entries:
            for key in (*self._lines[e.id], *self._content[e.id]):
                self._sharing.setdefault(key, []).append(e.id)
        self._related: dict[str, tuple[str, ...]] = {}

    def ids(self, intent: str | None) -> tuple[str, ...]:
        """The ids of an entry's related entries, best first (none for anything else)."""
        entry = self._entries.get(intent or "")
        if entry is None:
            return ()
        if entry.id not in self._related:
            self._related[entry.id] = self._compute(entry)
        return self._related[entry.id]

    def of(self, intent: str | None, *, exclude: Iterable[str] = ()) -> tuple[Suggestion, ...]:
        """Up to ``limit`` related questions for an entry, as readable questions."""
        skip = {*exclude, intent}
        return tuple(
            Suggestion(i, self._entries[i].question) for i in self.ids(intent) if i not in skip
        )

    def _compute(self, entry: Entry) -> tuple[str, ...]:
        content, lines = self._content[entry.id], self._lines[entry.id]
        chosen = list(entry.related[: self.limit])
        others = {
            other
            for key in (*lines, *content)
            for other in self._sharing.get(key, ())
            if other != entry.id and other not in chosen
        }
        scored = []
        for other in others:
            shared = len(lines & self._lines[other])
            overlap = _overlap(content, self._content[other])
            if shared or overlap > 0:
                scored.append((-shared, -overlap, other))
        scored.sort()
        chosen += [other for _, _, other in scored[: max(0, self.limit - len(chosen))]]
        return tuple(chosen)


def _line_set(citations: Sequence[Citation]) -> frozenset[tuple[str, int]]:
    return frozenset((c.source, n) for c in citations for n in range(c.first_line, c.last_line + 1))


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def distinct_citations(citations: Iterable[Citation]) -> tuple[Citation, ...]:
    """The citations with no passage twice: a passage that is the same as, or contained in,
    one already kept (same source, lines within its span and its words within its quote) is
    dropped; a longer one replaces the shorter it contains."""
    kept: list[Citation] = []
    for citation in citations:
        words = " ".join(citation.quote.split())
        if any(_contains(k, citation, words) for k in kept):
            continue
        kept = [k for k in kept if not _contains(citation, k, " ".join(k.quote.split()))]
        kept.append(citation)
    return tuple(kept)


def _contains(outer: Citation, inner: Citation, inner_words: str) -> bool:
    return (
        outer.source == inner.source
        and outer.first_line <= inner.first_line
        and inner.last_line <= outer.last_line
        and inner_words in " ".join(outer.quote.split())
    )


def spell_out(text: str, abbreviations: Mapping[str, str]) -> str:
    """``text`` with each abbreviation spelled out where it is first used ("CAID (the Child
    Abuse Image Database)"), and only there; a text that already spells it out is left as it
    is. Idempotent, so joined answers can be spelled out again as a whole."""
    for short, long in abbreviations.items():
        pattern = re.compile(rf"\b{re.escape(short)}\b")
        expanded = f"{short} ({long})"
        text = text.replace(expanded, short)
        if long.lower().removeprefix("the ") in text.lower():
            continue
        text = pattern.sub(expanded, text, count=1)
    return text


CONTACT_TOPIC = "contact"  # the small-talk topic of "can I talk to a person?"


def with_contact(reply: Reply, kb: KnowledgeBase, contact: str | None) -> Reply:
    """The reply with the way to reach a person (the ``CONTACT`` setting): the answer to
    "can I talk to a person?" (or that none is configured), and a last line of help and of
    the fallback when one is configured."""
    if reply.kind is ReplyKind.SMALLTALK and reply.intent == f"smalltalk.{CONTACT_TOPIC}":
        body = (
            kb.message(MessageKey.CORE_CONTACT, contact=contact)
            if contact
            else kb.message(MessageKey.CORE_CONTACT_NONE)
        )
        return replace(reply, body=body)
    helps = reply.kind is ReplyKind.FALLBACK or reply.intent == "smalltalk.help"
    if contact and helps:
        return replace(
            reply, body=f"{reply.body} {kb.message(MessageKey.CORE_CONTACT_LINE, contact=contact)}"
        )
    return reply
