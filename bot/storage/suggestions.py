"""``python -m bot suggest``: alternates proposed for existing entries, as YAML to paste.

Two sources: unanswered questions whose nearest entry scored at least ``min_score`` (a near
miss), and clarify questions after which the asker chose an entry. Phrasings an entry already
has are left out. Nothing is written to ``knowledge/``: a curator reviews and pastes.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

import yaml
from rapidfuzz.utils import default_process

from bot.core.knowledge import KnowledgeBase
from bot.core.messages import MessageKey
from bot.storage.curation import CurationData, known_phrasings

DEFAULT_MIN_SCORE = 0.5


@dataclass(slots=True)
class Proposal:
    """New phrasings for one entry, each with why it is proposed."""

    intent: str
    question: str
    file: str
    phrasings: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (text, why)


_SLACK_MARKUP = re.compile(r"<[!@#][^>]*>")


def _without_slack_markup(text: str) -> str:
    """Drop mentions and broadcasts (<!channel>, <@U123>) people typed: no entry needs them."""
    return " ".join(_SLACK_MARKUP.sub(" ", text).split())


def _item(kb: KnowledgeBase, intent: str) -> tuple[str, str] | None:
    if kb.has_entry(intent):
        return kb.entry(intent).question, "faq.yaml"
    for item in kb.unstated:
        if item.id == intent:
            return item.question, "unstated.yaml"
    return None  # removed from the knowledge since


def propose(
    data: CurationData, kb: KnowledgeBase, *, min_score: float = DEFAULT_MIN_SCORE
) -> list[Proposal]:
    proposals: dict[str, Proposal] = {}

    def add(intent: str, text: str, why: str) -> None:
        item = _item(kb, intent)
        text = _without_slack_markup(text)
        key = default_process(text)
        if item is None or not key or key in known_phrasings(kb, intent):
            return
        proposal = proposals.setdefault(intent, Proposal(intent, item[0], item[1]))
        proposal.phrasings.setdefault(key, (text, why))

    for chosen in data.chosen_phrasings:
        why = kb.message(MessageKey.REPORT_SUGGEST_CHOSEN, text=chosen.question, count=chosen.count)
        add(chosen.intent, chosen.question, why)
    for group in data.unanswered:
        near = group.nearest
        if near is None or near.score < min_score:
            continue
        for text, count in group.phrasings:
            if default_process(text) in data.rejected_phrasings:
                continue  # whoever asked it said "none of these" to the candidates
            why = kb.message(
                MessageKey.REPORT_SUGGEST_NEAR_MISS,
                text=text,
                count=count,
                score=f"{near.score:.2f}",
            )
            add(near.intent, text, why)
    return sorted(
        proposals.values(), key=lambda proposal: (-len(proposal.phrasings), proposal.intent)
    )


def _comment(text: str) -> list[str]:
    return [f"# {line}".rstrip() for line in text.splitlines()]


def render_yaml(proposals: list[Proposal], kb: KnowledgeBase, *, days: int) -> str:
    """The proposals as one YAML list (so the whole output parses), with comments saying why."""
    if not proposals:
        return "\n".join(_comment(kb.message(MessageKey.REPORT_SUGGEST_NONE, days=days))) + "\n"
    lines = _comment(textwrap.fill(kb.message(MessageKey.REPORT_SUGGEST_HEADER), 96))
    for proposal in proposals:
        lines += ["", f"# {proposal.file}: {proposal.intent}: {proposal.question}"]
        lines += [f"#   {why}" for _text, why in proposal.phrasings.values()]
        snippet = [
            {
                "id": proposal.intent,
                "alternates": [text for text, _why in proposal.phrasings.values()],
            }
        ]
        lines += yaml.safe_dump(
            snippet, sort_keys=False, allow_unicode=True, default_flow_style=False, width=96
        ).splitlines()
    return "\n".join(lines) + "\n"
