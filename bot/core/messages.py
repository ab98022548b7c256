"""The keys of ``knowledge/messages.yaml``, declared in code.

Every sentence the bot says in its own voice is looked up by a :class:`MessageKey`, so mypy
checks each use and loading checks the file: a key missing from ``messages.yaml``, or one the
code does not know, stops loading with the file and the key named. A member's value is the
key as written in the file, ``section.name``.

Each message may use the placeholders of :data:`PLACEHOLDERS` (filled in by the code that
asks for it) and ``{topic}``, which the knowledge base fills in from the sources' metadata
(``topic:`` in ``sources/NAME.yaml``), so no message needs to name what the sources are about.
A message may also be written as ``{one: ..., several: ...}``: the first wording is used with
one source, the second with more ("The source does not say" / "The sources do not say").
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum, unique


@unique
class MessageKey(StrEnum):
    """A message of ``messages.yaml``: ``MessageKey.CORE_CLARIFY == "core.clarify"``."""

    CORE_NOT_IN_SOURCE = "core.not_in_source"
    CORE_NOT_IN_SOURCE_GENERIC = "core.not_in_source_generic"
    CORE_CLOSEST_INTRO = "core.closest_intro"
    CORE_CLARIFY = "core.clarify"
    CORE_NONE_OF_THESE = "core.none_of_these"
    CORE_FALLBACK = "core.fallback"
    CORE_EMPTY_QUESTION = "core.empty_question"
    CORE_SAFEGUARDING = "core.safeguarding"
    CORE_REFUSAL = "core.refusal"
    CORE_REFUSAL_SUPPORT = "core.refusal_support"
    CORE_CLARIFY_SUBJECT = "core.clarify_subject"
    CORE_PART_NOT_ANSWERED = "core.part_not_answered"
    CORE_RISK_NOTE = "core.risk_note"
    CORE_SOURCE_LINE = "core.source_line"
    CORE_SOURCE_LINE_SINGLE = "core.source_line_single"
    CORE_SAFEGUARDING_LEAD = "core.safeguarding_lead"
    CORE_CONTACT = "core.contact"
    CORE_CONTACT_NONE = "core.contact_none"
    CORE_CONTACT_LINE = "core.contact_line"
    TERMINAL_CHAT_INTRO = "terminal.chat_intro"
    TERMINAL_CHAT_BYE = "terminal.chat_bye"
    REPORT_TITLE = "report.title"
    REPORT_PERIOD = "report.period"
    REPORT_EMPTY = "report.empty"
    REPORT_VOLUME_HEADING = "report.volume_heading"
    REPORT_VOLUME_CHART_TITLE = "report.volume_chart_title"
    REPORT_VOLUME_TABLE_DAY = "report.volume_table_day"
    REPORT_VOLUME_TABLE_TOTAL = "report.volume_table_total"
    REPORT_ANSWER_RATE_HEADING = "report.answer_rate_heading"
    REPORT_ANSWER_RATE = "report.answer_rate"
    REPORT_ANSWER_RATE_NONE = "report.answer_rate_none"
    REPORT_KIND_COLUMN = "report.kind_column"
    REPORT_COUNT_COLUMN = "report.count_column"
    REPORT_KIND_SAFEGUARDING = "report.kind_safeguarding"
    REPORT_KIND_REFUSAL = "report.kind_refusal"
    REPORT_KIND_SMALLTALK = "report.kind_smalltalk"
    REPORT_KIND_ANSWER = "report.kind_answer"
    REPORT_KIND_NOT_IN_SOURCE = "report.kind_not_in_source"
    REPORT_KIND_CLARIFY = "report.kind_clarify"
    REPORT_KIND_FALLBACK = "report.kind_fallback"
    REPORT_UNANSWERED_HEADING = "report.unanswered_heading"
    REPORT_UNANSWERED_INTRO = "report.unanswered_intro"
    REPORT_UNANSWERED_NONE = "report.unanswered_none"
    REPORT_UNANSWERED_WITHOUT_TEXT = "report.unanswered_without_text"
    REPORT_ASKED_COLUMN = "report.asked_column"
    REPORT_QUESTION_COLUMN = "report.question_column"
    REPORT_SIMILAR_COLUMN = "report.similar_column"
    REPORT_NEAREST_COLUMN = "report.nearest_column"
    REPORT_SCORE_COLUMN = "report.score_column"
    REPORT_NEAREST_NONE = "report.nearest_none"
    REPORT_NEAREST_UNSTATED = "report.nearest_unstated"
    REPORT_ADD_ALTERNATE = "report.add_alternate"
    REPORT_FEEDBACK_HEADING = "report.feedback_heading"
    REPORT_FEEDBACK_INTRO = "report.feedback_intro"
    REPORT_FEEDBACK_NONE = "report.feedback_none"
    REPORT_ENTRY_COLUMN = "report.entry_column"
    REPORT_UP_COLUMN = "report.up_column"
    REPORT_DOWN_COLUMN = "report.down_column"
    REPORT_SHARE_COLUMN = "report.share_column"
    REPORT_CHOICES_HEADING = "report.choices_heading"
    REPORT_CHOICES_INTRO = "report.choices_intro"
    REPORT_CHOICES_NONE = "report.choices_none"
    REPORT_CHOICE_COLUMN = "report.choice_column"
    REPORT_TIMES_COLUMN = "report.times_column"
    REPORT_NONE_OF_THESE = "report.none_of_these"
    REPORT_NO_CHOICE = "report.no_choice"
    REPORT_NEVER_MATCHED_HEADING = "report.never_matched_heading"
    REPORT_NEVER_MATCHED_INTRO = "report.never_matched_intro"
    REPORT_NEVER_MATCHED_NONE = "report.never_matched_none"
    REPORT_GENERATED = "report.generated"
    REPORT_WRITTEN = "report.written"
    REPORT_SUGGEST_HEADER = "report.suggest_header"
    REPORT_SUGGEST_NONE = "report.suggest_none"
    REPORT_SUGGEST_NEAR_MISS = "report.suggest_near_miss"
    REPORT_SUGGEST_CHOSEN = "report.suggest_chosen"
    SLACK_YOU_ASKED = "slack.you_asked"
    SLACK_SHARED_BY = "slack.shared_by"
    SLACK_ASK_USAGE = "slack.ask_usage"
    SLACK_SHARE_BUTTON = "slack.share_button"
    SLACK_SHARE_UNAVAILABLE = "slack.share_unavailable"
    SLACK_SHARE_NOT_YOURS = "slack.share_not_yours"
    SLACK_FEEDBACK_UP = "slack.feedback_up"
    SLACK_FEEDBACK_DOWN = "slack.feedback_down"
    SLACK_FEEDBACK_THANKS = "slack.feedback_thanks"
    SLACK_VOTE_RECORDED = "slack.vote_recorded"
    SLACK_VOTE_CHANGED = "slack.vote_changed"
    SLACK_VOTE_UNCHANGED = "slack.vote_unchanged"
    SLACK_VOTE_ALREADY = "slack.vote_already"
    SLACK_VOTE_UNKNOWN = "slack.vote_unknown"
    SLACK_VOTE_NOT_SAVED = "slack.vote_not_saved"
    SLACK_CLARIFY_NOT_YOURS = "slack.clarify_not_yours"
    SLACK_CLARIFY_DECLINED = "slack.clarify_declined"
    SLACK_MORE_PASSAGES = "slack.more_passages"
    SLACK_MEASURES_INTRO = "slack.measures_intro"
    SLACK_MEASURES_NONE = "slack.measures_none"
    SLACK_MEASURES_NO_MATCH = "slack.measures_no_match"
    SLACK_MEASURES_MORE_BUTTON = "slack.measures_more_button"
    SLACK_MORE_MEASURES = "slack.more_measures"
    SLACK_ASSISTANT_GREETING = "slack.assistant_greeting"
    SLACK_ASSISTANT_PROMPTS = "slack.assistant_prompts"
    SLACK_ASSISTANT_STATUS = "slack.assistant_status"
    SLACK_HOME_TITLE = "slack.home_title"
    SLACK_HOME_INTRO = "slack.home_intro"
    SLACK_HOME_SOURCES = "slack.home_sources"
    SLACK_HOME_MEASURES = "slack.home_measures"
    SLACK_HOME_EXAMPLES = "slack.home_examples"
    SLACK_HOME_HOW_TO_ASK = "slack.home_how_to_ask"
    SLACK_HOME_REPORT = "slack.home_report"
    SLACK_HOME_REPORT_INTRO = "slack.home_report_intro"
    SLACK_HOME_PRIVACY = "slack.home_privacy"
    STORAGE_INSTALL_AGAIN = "storage.install_again"
    STORAGE_INSTALL_FAILED_INVALID_STATE = "storage.install_failed_invalid_state"
    STORAGE_INSTALL_FAILED_INVALID_BROWSER = "storage.install_failed_invalid_browser"
    STORAGE_INSTALL_FAILED_ACCESS_DENIED = "storage.install_failed_access_denied"
    STORAGE_INSTALL_FAILED_INVALID_CODE = "storage.install_failed_invalid_code"
    STORAGE_INSTALL_FAILED_MISSING_CODE = "storage.install_failed_missing_code"
    STORAGE_INSTALL_FAILED_OTHER = "storage.install_failed_other"

    @property
    def section(self) -> str:
        return self.value.partition(".")[0]

    @property
    def name_in_section(self) -> str:
        return self.value.partition(".")[2]


TOPIC = "topic"  # filled in by the knowledge base, available to every message

# The placeholders each message may use besides {topic}; a message not listed takes none.
PLACEHOLDERS: Mapping[MessageKey, frozenset[str]] = {
    MessageKey.CORE_PART_NOT_ANSWERED: frozenset({"part"}),
    MessageKey.CORE_NOT_IN_SOURCE: frozenset({"missing"}),
    MessageKey.CORE_SOURCE_LINE: frozenset({"first", "last", "title"}),
    MessageKey.CORE_SOURCE_LINE_SINGLE: frozenset({"first", "title"}),
    MessageKey.CORE_SAFEGUARDING_LEAD: frozenset({"contact", "urgent"}),
    MessageKey.CORE_CONTACT: frozenset({"contact"}),
    MessageKey.CORE_CONTACT_LINE: frozenset({"contact"}),
    MessageKey.REPORT_PERIOD: frozenset({"days", "end", "start", "total"}),
    MessageKey.REPORT_EMPTY: frozenset({"days"}),
    MessageKey.REPORT_ANSWER_RATE: frozenset({"answered", "asked", "rate"}),
    MessageKey.REPORT_UNANSWERED_WITHOUT_TEXT: frozenset({"count"}),
    MessageKey.REPORT_GENERATED: frozenset({"database", "now"}),
    MessageKey.REPORT_WRITTEN: frozenset({"path"}),
    MessageKey.REPORT_SUGGEST_NONE: frozenset({"days"}),
    MessageKey.REPORT_SUGGEST_NEAR_MISS: frozenset({"count", "score", "text"}),
    MessageKey.REPORT_SUGGEST_CHOSEN: frozenset({"count", "text"}),
    MessageKey.SLACK_YOU_ASKED: frozenset({"question"}),
    MessageKey.SLACK_SHARED_BY: frozenset({"question", "user"}),
    MessageKey.SLACK_MORE_PASSAGES: frozenset({"count"}),
    MessageKey.SLACK_MEASURES_NO_MATCH: frozenset({"name"}),
    MessageKey.SLACK_MORE_MEASURES: frozenset({"count"}),
    MessageKey.STORAGE_INSTALL_FAILED_OTHER: frozenset({"reason"}),
    MessageKey.SLACK_ASK_USAGE: frozenset({"example"}),
}

# The sections of messages.yaml, in the order of the file (plus its list example_questions).
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(key.section for key in MessageKey))
