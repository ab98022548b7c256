"""Building replies: from a decision (or a safety verdict) to the ``Reply`` data that renderers
turn into text or blocks. All wording comes from knowledge/messages.yaml."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.core.conversation import RelatedQuestions, distinct_citations, spell_out
from bot.core.knowledge import Entry, KnowledgeBase, SmalltalkTopic, Unstated
from bot.core.messages import MessageKey
from bot.core.reply import Citation, Reply, ReplyKind, RouteRole, Suggestion, SupportRoute

MAX_CLOSEST = 2  # "not in source": at most this many closest facts


class ReplyBuilder:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._entries = {entry.id: entry for entry in kb.entries}
        self._unstated = {item.id: item for item in kb.unstated}
        self.related = RelatedQuestions(kb)

    def _spelled(self, text: str) -> str:
        return spell_out(text, self.kb.abbreviations)

    def answer(self, intent: str, question: str, *, confidence: float = 1.0) -> Reply:
        entry = self._entries[intent]
        return Reply(
            question=question,
            kind=ReplyKind.ANSWER,
            body=self._spelled(entry.answer),
            intent=entry.id,
            citations=distinct_citations(entry.citations),
            confidence=round(confidence, 4),
            related=self.related.of(entry.id),
        )

    def combined(self, question: str, answers: Sequence[Reply], unanswered: Sequence[str]) -> Reply:
        """One reply for a message of several parts: each answer in order, then the parts the
        source does not answer."""
        citations: list[Citation] = []
        for answer in answers:
            citations += [c for c in answer.citations if c not in citations]
        body = [answer.body for answer in answers]
        body += [
            self.kb.message(MessageKey.CORE_PART_NOT_ANSWERED, part=part) for part in unanswered
        ]
        answered = [answer.intent for answer in answers if answer.intent]
        return Reply(
            question=question,
            kind=ReplyKind.ANSWER,
            body=self._spelled(" ".join(body)),
            intent=answers[0].intent,
            citations=distinct_citations(citations),
            confidence=min(answer.confidence for answer in answers),
            related=self.related.of(answers[0].intent, exclude=answered),
        )

    def not_in_source(
        self, question: str, *, unstated: str | None, nearest: str | None, confidence: float
    ) -> Reply:
        item = self._unstated.get(unstated) if unstated else None
        if isinstance(item, Unstated):
            missing = self.kb.message(MessageKey.CORE_NOT_IN_SOURCE, missing=item.missing)
            closest = [self._entries[i] for i in item.closest]
            intent: str | None = item.id
        else:
            missing = self.kb.message(MessageKey.CORE_NOT_IN_SOURCE_GENERIC)
            entry = self._entries.get(nearest) if nearest else None
            closest = [entry] if entry is not None else []
            intent = None
        closest = closest[:MAX_CLOSEST]
        parts = [missing]
        if closest:
            parts.append(self.kb.message(MessageKey.CORE_CLOSEST_INTRO))
            parts += [entry.answer for entry in closest]
        citations: list[Citation] = []
        for entry in closest:
            citations += [c for c in entry.citations if c not in citations]
        return Reply(
            question=question,
            kind=ReplyKind.NOT_IN_SOURCE,
            body=self._spelled(" ".join(parts)),
            intent=intent,
            citations=distinct_citations(citations),
            suggestions=tuple(Suggestion(e.id, e.question) for e in closest),
            confidence=round(confidence, 4),
        )

    def clarify(
        self,
        question: str,
        choices: Iterable[str],
        *,
        confidence: float,
        key: MessageKey = MessageKey.CORE_CLARIFY,
    ) -> Reply:
        entries: list[Entry] = [self._entries[i] for i in choices if i in self._entries]
        return Reply(
            question=question,
            kind=ReplyKind.CLARIFY,
            body=self.kb.message(key),
            suggestions=tuple(Suggestion(e.id, e.question) for e in entries),
            confidence=round(confidence, 4),
        )

    def fallback(self, question: str, key: MessageKey = MessageKey.CORE_FALLBACK) -> Reply:
        examples = self.kb.example_questions
        start = sum(map(ord, question)) % len(examples) if examples else 0
        chosen = [examples[(start + offset) % len(examples)] for offset in range(3)]
        return Reply(
            question=question,
            kind=ReplyKind.FALLBACK,
            body=self.kb.message(key),
            suggestions=tuple(Suggestion(i, self._entries[i].question) for i in chosen),
        )

    def safeguarding(self, question: str, *, self_concern: bool) -> Reply:
        routes = _once(self.kb.support_routes)
        if self_concern:
            body = self.kb.message(MessageKey.CORE_REFUSAL_SUPPORT)
            routes = (
                *self.kb.routes_with_role(RouteRole.SELF_HELP),
                *(r for r in routes if r.role is not RouteRole.SELF_HELP),
            )
        elif routes:
            # The most urgent line leads (the emergency route); the renderers do not repeat it
            # among the routes (see ``Reply.listed_routes``).
            urgent = (*self.kb.routes_with_role(RouteRole.EMERGENCY), routes[0])[0]
            contact = urgent.phone or urgent.url or ""
            body = self.kb.message(
                MessageKey.CORE_SAFEGUARDING_LEAD,
                urgent=urgent.description.rstrip(". "),
                contact=contact,
            )
        else:
            body = self.kb.message(MessageKey.CORE_SAFEGUARDING)
        return Reply(
            question=question,
            kind=ReplyKind.SAFEGUARDING,
            body=body,
            support_routes=routes,
            confidence=1.0,
        )

    def refusal(self, question: str) -> Reply:
        support = self.kb.routes_with_role(RouteRole.SELF_HELP)
        body = self.kb.message(MessageKey.CORE_REFUSAL)
        if support:
            body = f"{body} {self.kb.message(MessageKey.CORE_REFUSAL_SUPPORT)}"
        return Reply(
            question=question,
            kind=ReplyKind.REFUSAL,
            body=body,
            support_routes=tuple(support),
            confidence=1.0,
        )

    def smalltalk(self, question: str, topic: SmalltalkTopic) -> Reply:
        suggestions = self.kb.example_questions[:3] if topic.id == "help" else ()
        return Reply(
            question=question,
            kind=ReplyKind.SMALLTALK,
            body=topic.reply,
            intent=f"smalltalk.{topic.id}",
            suggestions=tuple(Suggestion(i, self._entries[i].question) for i in suggestions),
            confidence=1.0,
        )


def _once(routes: Sequence[SupportRoute]) -> tuple[SupportRoute, ...]:
    """Each route once (by name), in order."""
    seen: set[str] = set()
    kept: list[SupportRoute] = []
    for route in routes:
        if route.name.lower() not in seen:
            seen.add(route.name.lower())
            kept.append(route)
    return tuple(kept)
