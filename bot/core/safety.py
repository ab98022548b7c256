"""The safeguarding and refusal checks, run before anything else.

Safeguarding favours recall: anyone who may be reporting or fearing harm gets the reporting and
support routes at once. A question is safeguarding when it
- asks how or where to report abuse, grooming, images or a person (``report_requests`` with a
  ``report_targets`` word);
- names harm (``harm_terms``) together with someone at risk (``persons_at_risk``), not counting
  phrases like "tell me" (``not_personal``), or with any first-person word when it is not about
  the source's subjects (``about_the_tool``);
- fears harm and asks how to tell or protect (``worry_phrases``);
- says a child or someone is suffering harm now (``victim_phrases``);
- names someone acting (``third_party_actors``) with harm against a child, unless it is plainly a
  question about the tool (``about_the_tool``) with no first-person words;
- says the writer came across abuse material (``found_verbs`` with ``found_material`` and
  ``first_person`` words);
- voices worry about one's own urges (``self_urges``);
- speaks of danger (``danger``) with a child or someone at risk.

Otherwise it is a refusal when it seeks to evade detection or moderation, to find abuse
material, to get into a police system such as CAID without permission, to contact children
covertly, or how to harm a child. Names such as "Child Abuse Image
Database" (``neutral_names``) are blanked first. The word lists live in ``knowledge/safety.yaml``
under ``vocabulary``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.core.knowledge import SafetyVocabulary
from bot.core.normalise import Analysis, PhraseMatcher, stem


class SafetyVerdict(StrEnum):
    SAFE = "safe"
    SAFEGUARDING = "safeguarding"
    SELF_CONCERN = "self_concern"  # worried about their own urges: Stop It Now first
    REFUSAL = "refusal"


@dataclass(frozen=True, slots=True)
class _Matchers:
    lists: dict[str, PhraseMatcher]

    def has(self, name: str, sequence: tuple[str, ...]) -> bool:
        return self.lists[name].contains(sequence)

    def spans(self, name: str, sequence: tuple[str, ...]) -> list[tuple[int, int]]:
        return [(start, end) for start, end, _ in self.lists[name].scan(sequence)]


class SafetyCheck:
    """Classifies an analysed question as safe, safeguarding or refusal."""

    def __init__(self, vocabulary: SafetyVocabulary) -> None:
        self._m = _Matchers(
            {name: PhraseMatcher({name: words}) for name, words in vocabulary.lists.items()}
        )
        for required in (
            "report_requests",
            "report_targets",
            "harm_terms",
            "persons_at_risk",
            "not_personal",
            "third_party_actors",
            "child_terms",
            "about_the_tool",
            "first_person",
            "self_urges",
            "danger",
            "evade_phrases",
            "evade_targets",
            "agents",
            "covert_tails",
            "covert_terms",
            "contact_verbs",
            "obtain_verbs",
            "material_terms",
            "abuse_terms",
            "harm_howto",
            "neutral_names",
            "found_verbs",
            "found_material",
            "worry_phrases",
            "victim_phrases",
            "intrusion_verbs",
            "intrusion_targets",
            "unauthorised",
        ):
            if required not in self._m.lists:
                raise ValueError(f"safety.yaml: vocabulary list {required!r} is missing")
        self._without = stem("without")

    def check(self, analysis: Analysis) -> SafetyVerdict:
        seq = self._mask(analysis.stems, "neutral_names")
        if not seq:
            return SafetyVerdict.SAFE
        if self._m.has("self_urges", seq):
            return SafetyVerdict.SELF_CONCERN
        if self._is_safeguarding(seq):
            return SafetyVerdict.SAFEGUARDING
        if self._is_refusal(seq):
            # "My daughter's coach messages her privately" has the shape of covert contact,
            # but names someone at risk: it is a disclosure, not a request.
            if self._personal(seq):
                return SafetyVerdict.SAFEGUARDING
            return SafetyVerdict.REFUSAL
        return SafetyVerdict.SAFE

    def _mask(self, seq: tuple[str, ...], name: str) -> tuple[str, ...]:
        """Blank out the words of every phrase of list ``name``."""
        masked = list(seq)
        for start, end in self._m.spans(name, seq):
            for index in range(start, end):
                masked[index] = ""
        return tuple(masked)

    def _personal(self, seq: tuple[str, ...]) -> bool:
        return self._m.has("persons_at_risk", self._mask(seq, "not_personal"))

    def _is_safeguarding(self, seq: tuple[str, ...]) -> bool:
        m = self._m
        harm = m.has("harm_terms", seq)
        if m.has("report_requests", seq) and (m.has("report_targets", seq) or harm):
            return True
        if harm and self._personal(seq):
            return True
        if (
            m.has("found_verbs", seq)
            and m.has("found_material", seq)
            and m.has("first_person", seq)
        ):
            return True
        about_source = m.has("about_the_tool", seq)
        speaking = self._mask(seq, "not_personal")  # without "tell me", "I want to know"
        if harm and m.has("first_person", speaking) and not about_source:
            return True  # "we think grooming is happening in our club"
        if m.has("worry_phrases", seq) and not about_source:
            return True
        at_risk = m.has("child_terms", seq) or m.has("third_party_actors", seq)
        if m.has("victim_phrases", seq) and (at_risk or self._personal(seq)):
            return not about_source  # "a colleague's kid is being blackmailed"
        about_tool = about_source and not m.has("first_person", seq)
        if harm and m.has("third_party_actors", seq) and m.has("child_terms", seq):
            return not about_tool
        return m.has("danger", seq) and (self._personal(seq) or m.has("child_terms", seq))

    def _is_refusal(self, seq: tuple[str, ...]) -> bool:
        m = self._m
        if m.has("harm_howto", seq):
            return True
        agent = m.has("agents", seq)
        if (
            m.has("intrusion_verbs", seq)
            and m.has("intrusion_targets", seq)
            and m.has("unauthorised", seq)
        ):
            return True
        if m.has("evade_phrases", seq) and m.has("evade_targets", seq) and agent:
            return True
        covert = m.has("covert_terms", seq) or self._without_noticing(seq)
        if m.has("contact_verbs", seq) and m.has("child_terms", seq) and covert:
            return True
        if covert and m.has("evade_targets", seq) and agent:
            return True
        return (
            m.has("obtain_verbs", seq)
            and m.has("material_terms", seq)
            and m.has("abuse_terms", seq)
            and agent
        )

    def _without_noticing(self, seq: tuple[str, ...]) -> bool:
        if self._without not in seq:
            return False
        after = seq[seq.index(self._without) + 1 :]
        return self._m.has("covert_tails", after)
