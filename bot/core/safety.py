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

The learned classifier routes a message the rules let through when its probabilities reach the
thresholds of ``classifier``. This is a site about grooming, so ordinary questions about the
source use the words of disclosures ("how does the tool spot predators talking to kids?").
When the rules let a message through and the router reads it as a question its source
answers, the classifier routes it only from stricter thresholds (``question_safeguarding``,
``question_harmful``); a message let through that way still ends with where to get help,
privately.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.core.knowledge import ClassifierConfig, SafetyVocabulary
from bot.core.normalise import Analysis, PhraseMatcher, stem
from bot.core.safety_model import SafetyClassifier, Scores


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


@dataclass(frozen=True, slots=True)
class SafetyAssessment:
    """The gate's decision and its evidence (printed by ``ask --explain``)."""

    verdict: SafetyVerdict
    rule_verdict: SafetyVerdict
    rule: str | None  # the rule that decided the rules' verdict
    model_verdict: SafetyVerdict
    scores: Scores | None  # None when no classifier is loaded
    risk: bool  # not routed, but a risk signal: the reply ends with where to get help
    demoted: bool = False  # the rule that fired only raises the risk signal
    # The classifier alone would have routed it, but below its thresholds for a question the
    # router's source answers, which the router read it as.
    answerable: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict.value,
            "rules": {
                "verdict": self.rule_verdict.value,
                "rule": self.rule,
                "demoted": self.demoted,
            },
            "classifier": None
            if self.scores is None
            else {"verdict": self.model_verdict.value, "scores": self.scores.to_json()},
            "answerable_question": self.answerable,
            "risk_signal": self.risk,
        }


def _model_verdict(
    scores: Scores, config: ClassifierConfig, answerable: bool = False
) -> SafetyVerdict:
    """The classifier's routing: safeguarding first when it is at least as likely as harm.
    A question the router's source answers is routed from the stricter ``question_*``
    thresholds."""
    safeguarding = config.question_safeguarding if answerable else config.safeguarding
    harmful = config.question_harmful if answerable else config.harmful
    concern = scores.concern >= safeguarding
    if concern and scores.concern >= scores.harmful:
        return _concern_kind(scores)
    if scores.harmful >= harmful:
        return SafetyVerdict.REFUSAL
    return _concern_kind(scores) if concern else SafetyVerdict.SAFE


def _concern_kind(scores: Scores) -> SafetyVerdict:
    if scores.self_concern > scores.safeguarding:
        return SafetyVerdict.SELF_CONCERN
    return SafetyVerdict.SAFEGUARDING


def gate(
    rule_verdict: SafetyVerdict,
    rule: str | None,
    scores: Scores | None,
    config: ClassifierConfig,
    answerable: bool = False,
) -> tuple[SafetyVerdict, SafetyVerdict, SafetyVerdict, bool]:
    """The gate's verdict from the rules' verdict (and the rule that decided it) and the
    classifier's scores: (verdict, rules' verdict after demotion, classifier's verdict, whether
    the rule was demoted). ``answerable``: the router reads the message as a question its
    source answers (the classifier's stricter thresholds then apply, unless a rule routes it).
    One implementation for serving and for validation."""
    demoted = rule is not None and rule.split("+")[0] in config.demoted_rules
    if demoted:
        rule_verdict = SafetyVerdict.SAFE
    question = answerable and rule_verdict is SafetyVerdict.SAFE
    model_verdict = _model_verdict(scores, config, question) if scores else SafetyVerdict.SAFE
    return (
        _combine(rule_verdict, model_verdict, scores, config),
        rule_verdict,
        model_verdict,
        demoted,
    )


def gate_message(
    rule_verdict: SafetyVerdict,
    rule: str | None,
    scores: Scores | None,
    config: ClassifierConfig,
    answers: Callable[[], bool] | None,
) -> tuple[SafetyVerdict, SafetyVerdict, SafetyVerdict, bool, bool]:
    """:func:`gate`, asking ``answers`` (does the router read the message as a question its
    source answers?) only when the answer would change the verdict: (verdict, rules' verdict
    after demotion, classifier's verdict, whether the rule was demoted, whether the message
    was let through as such a question). One implementation for serving and for validation."""
    verdict, after, model, demoted = gate(rule_verdict, rule, scores, config)
    if verdict is SafetyVerdict.SAFE or answers is None or scores is None:
        return verdict, after, model, demoted, False
    lenient = gate(rule_verdict, rule, scores, config, answerable=True)
    if lenient[0] is SafetyVerdict.SAFE and answers():
        return (*lenient, True)
    return verdict, after, model, demoted, False


def _combine(
    rule: SafetyVerdict, model: SafetyVerdict, scores: Scores | None, config: ClassifierConfig
) -> SafetyVerdict:
    """Either signal routes a message. When they disagree, a disclosure wins over a refusal
    (refusing someone in danger is the worse mistake), unless the classifier is all but sure
    of a harmful request and sees no concern at all."""
    if rule is SafetyVerdict.SAFE:
        return model
    if model is SafetyVerdict.SAFE or model is rule:
        return rule
    if model is SafetyVerdict.REFUSAL:
        sure = scores is not None and (
            scores.harmful >= config.harmful_override and scores.concern < config.override_concern
        )
        return SafetyVerdict.REFUSAL if sure else rule
    if rule is SafetyVerdict.REFUSAL:
        return model  # the classifier hears a disclosure the refusal rule took for a request
    return SafetyVerdict.SELF_CONCERN if SafetyVerdict.SELF_CONCERN in (rule, model) else rule


class SafetyCheck:
    """Classifies a message as safe, safeguarding, self-concern or refusal."""

    def __init__(
        self, vocabulary: SafetyVocabulary, classifier: SafetyClassifier | None = None
    ) -> None:
        self._classifier = classifier
        self._config = vocabulary.classifier
        self._m = _Matchers(
            {name: PhraseMatcher({name: words}) for name, words in vocabulary.lists.items()}
        )
        self._without = stem("without")

    def rules(self, analysis: Analysis) -> tuple[SafetyVerdict, str | None]:
        """The rules' verdict and the name of the rule that decided it."""
        seq = self._mask(analysis.stems, "neutral_names")
        if not any(seq):
            return SafetyVerdict.SAFE, None
        if self._m.has("self_urges", seq):
            return SafetyVerdict.SELF_CONCERN, "self_urges"
        rule = self._safeguarding_rule(seq)
        if rule:
            return SafetyVerdict.SAFEGUARDING, rule
        rule = self._refusal_rule(seq)
        if rule:
            # "My daughter's coach messages her privately" has the shape of covert contact,
            # but names someone at risk: it is a disclosure, not a request.
            if self._personal(seq):
                return SafetyVerdict.SAFEGUARDING, f"{rule}+person_at_risk"
            return SafetyVerdict.REFUSAL, rule
        return SafetyVerdict.SAFE, None

    def assess(
        self,
        text: str,
        analysis: Analysis,
        *,
        classify: bool = True,
        answers: Callable[[], bool] | None = None,
    ) -> SafetyAssessment:
        """The gate's verdict for a message: the rules and the classifier, either routing it.
        A demoted rule (``classifier.demoted_rules``) does not route; it raises the risk
        signal instead. With ``classify`` false (a curated small-talk phrase, word for word),
        only the rules judge. ``answers`` says whether the router reads the message as a
        question its source answers; it is asked only when that would change the verdict."""
        found, rule = self.rules(analysis)
        scores = self._classifier.scores(text) if self._classifier and classify else None
        verdict, rule_verdict, model_verdict, demoted, answerable = gate_message(
            found, rule, scores, self._config, answers
        )
        risk = verdict is SafetyVerdict.SAFE and (
            answerable
            or demoted
            or (scores is not None and scores.concern >= self._config.risk)
            or self.risk_words(analysis)
        )
        return SafetyAssessment(
            verdict, rule_verdict, rule, model_verdict, scores, risk, demoted, answerable
        )

    def _mask(self, seq: tuple[str, ...], name: str) -> tuple[str, ...]:
        """Blank out the words of every phrase of list ``name``."""
        masked = list(seq)
        for start, end in self._m.spans(name, seq):
            for index in range(start, end):
                masked[index] = ""
        return tuple(masked)

    def _personal(self, seq: tuple[str, ...]) -> bool:
        return self._m.has("persons_at_risk", self._mask(seq, "not_personal"))

    def _safeguarding_rule(self, seq: tuple[str, ...]) -> str | None:
        """The name of the first safeguarding rule that fires, if any."""
        m = self._m
        harm = m.has("harm_terms", seq)
        if m.has("report_requests", seq) and (m.has("report_targets", seq) or harm):
            return "report_request"
        if harm and self._personal(seq):
            return "harm_to_person_at_risk"
        if (
            m.has("found_verbs", seq)
            and m.has("found_material", seq)
            and m.has("first_person", seq)
        ):
            return "found_material"
        about_source = m.has("about_the_tool", seq)
        speaking = self._mask(seq, "not_personal")  # without "tell me", "I want to know"
        if harm and m.has("first_person", speaking) and not about_source:
            return "harm_first_person"  # "we think grooming is happening in our club"
        if m.has("worry_phrases", seq) and not about_source:
            return "worry"
        at_risk = m.has("child_terms", seq) or m.has("third_party_actors", seq)
        if m.has("victim_phrases", seq) and (at_risk or self._personal(seq)) and not about_source:
            return "victim_now"  # "a colleague's kid is being blackmailed"
        about_tool = about_source and not m.has("first_person", seq)
        if harm and m.has("third_party_actors", seq) and m.has("child_terms", seq):
            return None if about_tool else "actor_harms_child"
        if m.has("danger", seq) and (self._personal(seq) or m.has("child_terms", seq)):
            return "danger"
        return None

    def _refusal_rule(self, seq: tuple[str, ...]) -> str | None:
        """The name of the first refusal rule that fires, if any."""
        m = self._m
        if m.has("harm_howto", seq):
            return "harm_howto"
        agent = m.has("agents", seq)
        if (
            m.has("intrusion_verbs", seq)
            and m.has("intrusion_targets", seq)
            and m.has("unauthorised", seq)
        ):
            return "unauthorised_access"
        if m.has("evade_phrases", seq) and m.has("evade_targets", seq) and agent:
            return "evade_detection"
        covert = m.has("covert_terms", seq) or self._without_noticing(seq)
        if m.has("contact_verbs", seq) and m.has("child_terms", seq) and covert:
            return "covert_contact"
        if covert and m.has("evade_targets", seq) and agent:
            return "covert_evasion"
        if (
            m.has("obtain_verbs", seq)
            and m.has("material_terms", seq)
            and m.has("abuse_terms", seq)
            and agent
        ):
            return "obtain_material"
        return None

    def risk_words(self, analysis: Analysis) -> bool:
        """Harm words beside a child or a first-person word: a risk signal even when no rule
        routes the message (defence in depth)."""
        seq = self._mask(analysis.stems, "neutral_names")
        m = self._m
        return m.has("harm_terms", seq) and (
            m.has("child_terms", seq) or m.has("first_person", self._mask(seq, "not_personal"))
        )

    def _without_noticing(self, seq: tuple[str, ...]) -> bool:
        if self._without not in seq:
            return False
        after = seq[seq.index(self._without) + 1 :]
        return self._m.has("covert_tails", after)
