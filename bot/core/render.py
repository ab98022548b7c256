"""Renderers: a :class:`Reply` as Slack mrkdwn or as plain terminal text.

Block Kit lives in the Slack layer; these two are the text forms (the JSON ``text`` field,
Slack's fallback text, and the command line). Only wording from ``knowledge/`` is used, and
everything inserted into mrkdwn is escaped, so nothing can ping a channel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.core.knowledge import KnowledgeBase
from bot.core.messages import MessageKey
from bot.core.reply import Citation, Reply, ReplyKind

if TYPE_CHECKING:
    from bot.core.router import Explanation
    from bot.core.scoring import Candidate


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack treats as markup (mentions, broadcasts, links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def passage(citation: Citation) -> str:
    """A quoted passage on one line: the source's words, its line breaks as spaces."""
    return " ".join(citation.quote.split())


def source_line(kb: KnowledgeBase, citation: Citation) -> str:
    if citation.first_line == citation.last_line:
        return kb.message(
            MessageKey.CORE_SOURCE_LINE_SINGLE, title=citation.title, first=citation.first_line
        )
    return kb.message(
        MessageKey.CORE_SOURCE_LINE,
        title=citation.title,
        first=citation.first_line,
        last=citation.last_line,
    )


def _lines(
    kb: KnowledgeBase,
    reply: Reply,
    *,
    escape: Callable[[str], str],
    bold: Callable[[str], str],
    quote: Callable[[str], str],
    italic: Callable[[str], str],
    bullet: str,
) -> list[str]:
    lines = [escape(reply.body)]
    if reply.kind in (ReplyKind.SAFEGUARDING, ReplyKind.REFUSAL):
        for route in reply.listed_routes:
            contacts = " · ".join(escape(p) for p in (route.phone, route.url) if p)
            description = reply.route_description(route)
            said = f": {escape(description)}" if description else ""
            lines.append(
                f"{bullet}{bold(escape(route.name))} ({escape(route.region)}){said} {contacts}"
            )
        return lines
    if reply.kind is ReplyKind.CLARIFY:
        lines += [f"{bullet}{escape(s.question)}" for s in reply.suggestions]
        lines.append(f"{bullet}{escape(kb.message(MessageKey.CORE_NONE_OF_THESE))}")
        return lines
    if reply.kind in (ReplyKind.FALLBACK, ReplyKind.SMALLTALK):
        lines += [f"{bullet}{escape(s.question)}" for s in reply.suggestions]
        return lines
    for citation in reply.citations:
        lines.append(quote(escape(passage(citation))))
        lines.append(italic(escape(source_line(kb, citation))))
    return lines


def render_mrkdwn(kb: KnowledgeBase, reply: Reply) -> str:
    """The reply as Slack mrkdwn (the JSON ``text`` field and Slack's fallback text)."""
    return "\n".join(
        _lines(
            kb,
            reply,
            escape=escape_mrkdwn,
            bold=lambda s: f"*{s}*",
            quote=lambda s: f"> {s}",
            italic=lambda s: f"_{s}_",
            bullet="• ",
        )
    )


def render_terminal(kb: KnowledgeBase, reply: Reply) -> str:
    """The reply as plain text for a terminal."""
    return "\n".join(
        _lines(
            kb,
            reply,
            escape=lambda s: s,
            bold=lambda s: s,
            quote=lambda s: f"  “{s}”",
            italic=lambda s: f"    — {s}",
            bullet="  • ",
        )
    )


def reply_json(kb: KnowledgeBase, reply: Reply) -> dict[str, object]:
    """The machine interface's JSON object for a reply."""
    return {
        "question": reply.question,
        "kind": reply.kind.value,
        "intent": reply.intent,
        "text": render_mrkdwn(kb, reply),
        "citations": [c.to_json() for c in reply.citations],
        "confidence": reply.confidence,
        "suggestions": [s.to_json() for s in reply.suggestions],
    }


def render_explanation(explanation: Explanation) -> str:
    """The evidence for a reply, for ``ask --explain``: the safety verdict (when the message
    was classified) and each decision with its candidates' signals."""
    lines = ["", "Explanation"]
    safety = explanation.safety
    if safety is not None:
        lines.append(f"  safety: {safety.verdict.value}")
        rule = safety.rule or "none fired"
        if safety.demoted:
            rule += ", demoted: a risk signal only"
        lines.append(f"    rules: {safety.rule_verdict.value} ({rule})")
        if safety.scores is not None:
            scores = ", ".join(f"{k} {v:.3f}" for k, v in safety.scores.to_json().items())
            lines.append(f"    classifier: {safety.model_verdict.value} ({scores})")
        if safety.answerable:
            lines.append(
                "    a question the source answers: below the classifier's thresholds for one"
            )
        if safety.risk:
            lines.append("    risk signal: yes (the reply ends with where to get help)")
    if explanation.matched is not None:
        lines.append(f"  matched text: {explanation.matched!r}")
    for decision in explanation.decisions:
        lines.append(f"  decision: {decision.kind.value} ({decision.reason})")
        for candidate in decision.candidates[:5]:
            lines.append(
                f"    {candidate.intent:36} p={candidate.probability:.3f} "
                f"lexical={candidate.lexical:.3f} explained={candidate.explained:.2f} "
                f"semantic={candidate.semantic:.3f} answer={candidate.semantic_answer:.3f} "
                f"intent={candidate.intent_probability:.3f} "
                f"not-answered={candidate.intent_not_answered:.3f} "
                + _nearest(candidate)
                + (" wrong-type" if candidate.wrong_type else "")
                + (" other-subject" if candidate.other_subject else "")
            )
    return "\n".join(lines)


def _nearest(candidate: Candidate) -> str:
    """The nearest learned texts, where they were read (the candidate the answer gate reads)."""
    if candidate.neighbour is None:
        return "nearest=- n-grams=-"
    entry, not_answered, by_ngrams, by_ngrams_not_answered = candidate.nearest_values()
    return (
        f"nearest={entry:.3f}/{not_answered:.3f} "
        f"n-grams={by_ngrams:.3f}/{by_ngrams_not_answered:.3f}"
    )
