"""The curators' report as one self-contained HTML page, or as Markdown text.

The page has inline CSS and an inline SVG chart and loads nothing, so it can be mailed or opened
offline. Everything people typed is HTML-escaped. Wording comes from the ``report`` section of
knowledge/messages.yaml.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from bot.core.knowledge import KnowledgeBase
from bot.core.messages import MessageKey
from bot.core.reply import ReplyKind
from bot.storage.chart import KIND_COLOURS, volume_chart_svg
from bot.storage.curation import CurationData, Nearest, QuestionGroup


class Words(Protocol):
    """Wording from the ``report`` messages."""

    def __call__(self, key: MessageKey, /, **values: object) -> str: ...


_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
       max-width: 72rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: .6rem 0; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #ddd;
         vertical-align: top; }
th { background: #f4f4f6; } td.number, th.number { text-align: right; white-space: nowrap; }
figure { margin: 0; } figure svg { max-width: 100%; height: auto; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .4em;
          border-radius: 2px; vertical-align: baseline; }
ul.variants { margin: 0; padding-left: 1.1rem; color: #444; }
.hint { color: #555; font-size: .9em; } .empty { font-style: italic; }
"""


def _words(kb: KnowledgeBase) -> Words:
    def words(key: MessageKey, /, **values: object) -> str:
        return kb.message(key, **values)

    return words


_KIND_LABELS = {
    ReplyKind.SAFEGUARDING: MessageKey.REPORT_KIND_SAFEGUARDING,
    ReplyKind.REFUSAL: MessageKey.REPORT_KIND_REFUSAL,
    ReplyKind.SMALLTALK: MessageKey.REPORT_KIND_SMALLTALK,
    ReplyKind.ANSWER: MessageKey.REPORT_KIND_ANSWER,
    ReplyKind.NOT_IN_SOURCE: MessageKey.REPORT_KIND_NOT_IN_SOURCE,
    ReplyKind.CLARIFY: MessageKey.REPORT_KIND_CLARIFY,
    ReplyKind.FALLBACK: MessageKey.REPORT_KIND_FALLBACK,
}


def kind_labels(kb: KnowledgeBase) -> dict[str, str]:
    return {kind.value: kb.message(_KIND_LABELS[kind]) for kind in ReplyKind}


def _day(moment: datetime) -> str:
    return moment.strftime("%d %b %Y")


# --- HTML ----------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(
    table_id: str, headers: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]]
) -> str:
    """A table; cells are already-escaped HTML. ``headers`` are (text, is_number)."""
    head = "".join(
        f'<th class="number">{_e(text)}</th>' if number else f"<th>{_e(text)}</th>"
        for text, number in headers
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="number">{cell}</td>' if number else f"<td>{cell}</td>"
            for cell, (_text, number) in zip(row, headers, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _nearest_html(near: Nearest | None, words: Words) -> tuple[str, str]:
    if near is None:
        return _e(words(MessageKey.REPORT_NEAREST_NONE)), ""
    where = (
        f' <span class="hint">{_e(words(MessageKey.REPORT_NEAREST_UNSTATED))}</span>'
        if near.unstated
        else ""
    )
    cell = (
        f"{_e(near.question)} <code>{_e(near.intent)}</code>{where}"
        f'<br><span class="hint">{_e(words(MessageKey.REPORT_ADD_ALTERNATE))}</span>'
    )
    return cell, f"{near.score:.2f}"


def _group_row(group: QuestionGroup, words: Words) -> list[str]:
    others = group.phrasings[1:]
    variants = (
        '<ul class="variants">'
        + "".join(f"<li>{_e(text)} ({count})</li>" for text, count in others)
        + "</ul>"
        if others
        else ""
    )
    nearest_cell, score = _nearest_html(group.nearest, words)
    return [str(group.count), _e(group.representative), variants, nearest_cell, score]


def render_html(
    data: CurationData, kb: KnowledgeBase, *, generated_at: datetime, database: str
) -> str:
    words = _words(kb)
    labels = kind_labels(kb)
    parts: list[str] = [f"<h1>{_e(words(MessageKey.REPORT_TITLE))}</h1>"]
    period = words(
        MessageKey.REPORT_PERIOD,
        start=_day(data.start),
        end=_day(data.end),
        days=data.days,
        total=data.total,
    )
    parts.append(f'<p class="meta">{_e(period)}</p>')
    if data.total == 0:
        parts.append(
            f'<p class="empty" id="empty">{_e(words(MessageKey.REPORT_EMPTY, days=data.days))}</p>'
        )
    else:
        parts += _html_sections(data, words, labels)
    generated = words(MessageKey.REPORT_GENERATED, now=_day(generated_at), database=database)
    parts.append(f'<p class="meta">{_e(generated)}</p>')
    title = _e(words(MessageKey.REPORT_TITLE))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{title}</title><style>{_STYLE}</style></head>\n"
        f"<body>\n{chr(10).join(parts)}\n</body></html>\n"
    )


def _html_sections(data: CurationData, words: Words, labels: dict[str, str]) -> list[str]:
    parts: list[str] = []
    chart = volume_chart_svg(
        data.per_day,
        data.start.date(),
        data.end.date(),
        labels=labels,
        title=words(MessageKey.REPORT_VOLUME_CHART_TITLE),
    )
    parts.append(f"<h2>{_e(words(MessageKey.REPORT_VOLUME_HEADING))}</h2>")
    label = _e(words(MessageKey.REPORT_VOLUME_HEADING))
    parts.append(f'<figure id="volume-chart" role="img" aria-label="{label}">')
    parts.append(chart + "</figure>")
    kind_rows = [
        [
            f'<span class="swatch" style="background:{KIND_COLOURS[kind.value]}"></span>'
            + _e(labels[kind.value]),
            str(data.per_kind.get(kind.value, 0)),
        ]
        for kind in ReplyKind
    ]
    parts.append(
        _table(
            "kinds",
            [
                (words(MessageKey.REPORT_KIND_COLUMN), False),
                (words(MessageKey.REPORT_COUNT_COLUMN), True),
            ],
            kind_rows,
        )
    )

    parts.append(f"<h2>{_e(words(MessageKey.REPORT_ANSWER_RATE_HEADING))}</h2>")
    parts.append(f'<p id="answer-rate">{_e(_answer_rate(data, words))}</p>')

    parts.append(f"<h2>{_e(words(MessageKey.REPORT_UNANSWERED_HEADING))}</h2>")
    parts.append(f'<p class="hint">{_e(words(MessageKey.REPORT_UNANSWERED_INTRO))}</p>')
    if data.unanswered:
        headers = [
            (words(MessageKey.REPORT_ASKED_COLUMN), True),
            (words(MessageKey.REPORT_QUESTION_COLUMN), False),
            (words(MessageKey.REPORT_SIMILAR_COLUMN), False),
            (words(MessageKey.REPORT_NEAREST_COLUMN), False),
            (words(MessageKey.REPORT_SCORE_COLUMN), True),
        ]
        rows = [_group_row(group, words) for group in data.unanswered]
        parts.append(_table("unanswered", headers, rows))
    else:
        parts.append(f'<p class="empty">{_e(words(MessageKey.REPORT_UNANSWERED_NONE))}</p>')
    if data.unanswered_without_text:
        count = data.unanswered_without_text
        without = words(MessageKey.REPORT_UNANSWERED_WITHOUT_TEXT, count=count)
        parts.append(f'<p class="hint">{_e(without)}</p>')

    parts.append(f"<h2>{_e(words(MessageKey.REPORT_FEEDBACK_HEADING))}</h2>")
    if data.feedback:
        parts.append(f'<p class="hint">{_e(words(MessageKey.REPORT_FEEDBACK_INTRO))}</p>')
        headers = [
            (words(MessageKey.REPORT_ENTRY_COLUMN), False),
            (words(MessageKey.REPORT_UP_COLUMN), True),
            (words(MessageKey.REPORT_DOWN_COLUMN), True),
            (words(MessageKey.REPORT_SHARE_COLUMN), True),
        ]
        rows = [
            [
                f"{_e(item.question)} <code>{_e(item.intent)}</code>",
                str(item.up),
                str(item.down),
                f"{item.share_down:.0%}",
            ]
            for item in data.feedback
        ]
        parts.append(_table("feedback", headers, rows))
    else:
        parts.append(f'<p class="empty">{_e(words(MessageKey.REPORT_FEEDBACK_NONE))}</p>')

    parts.append(f"<h2>{_e(words(MessageKey.REPORT_CHOICES_HEADING))}</h2>")
    if data.choices or data.clarify_without_choice:
        parts.append(f'<p class="hint">{_e(words(MessageKey.REPORT_CHOICES_INTRO))}</p>')
        rows = [[_e(label), str(count)] for label, count in _choice_rows(data, words)]
        headers = [
            (words(MessageKey.REPORT_CHOICE_COLUMN), False),
            (words(MessageKey.REPORT_TIMES_COLUMN), True),
        ]
        parts.append(_table("choices", headers, rows))
    else:
        parts.append(f'<p class="empty">{_e(words(MessageKey.REPORT_CHOICES_NONE))}</p>')

    parts.append(f"<h2>{_e(words(MessageKey.REPORT_NEVER_MATCHED_HEADING))}</h2>")
    if data.never_matched:
        parts.append(f'<p class="hint">{_e(words(MessageKey.REPORT_NEVER_MATCHED_INTRO))}</p>')
        rows = [
            [f"{_e(question)} <code>{_e(intent)}</code>"] for intent, question in data.never_matched
        ]
        parts.append(
            _table("never-matched", [(words(MessageKey.REPORT_ENTRY_COLUMN), False)], rows)
        )
    else:
        parts.append(f'<p class="empty">{_e(words(MessageKey.REPORT_NEVER_MATCHED_NONE))}</p>')
    return parts


def _answer_rate(data: CurationData, words: Words) -> str:
    rate = data.answer_rate
    if rate is None:
        return words(MessageKey.REPORT_ANSWER_RATE_NONE)
    return words(
        MessageKey.REPORT_ANSWER_RATE, answered=data.answered, asked=data.asked, rate=f"{rate:.0%}"
    )


def _choice_rows(data: CurationData, words: Words) -> list[tuple[str, int]]:
    rows = [
        (
            words(MessageKey.REPORT_NONE_OF_THESE)
            if item.intent is None
            else f"{item.question} ({item.intent})",
            item.count,
        )
        for item in data.choices
    ]
    if data.clarify_without_choice:
        rows.append((words(MessageKey.REPORT_NO_CHOICE), data.clarify_without_choice))
    return rows


# --- Markdown ------------------------------------------------------------------------------


_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]()!#~|])")
_MD_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=\bwww)(?=\.)")
_ZERO_WIDTH_SPACE = "\u200b"


def _cell(text: object) -> str:
    """A Markdown table cell: one line, no raw HTML, and nothing a Markdown reader turns into a
    link, an image or formatting: what people typed (``[x](javascript:...)``,
    ``![](https://...)``, a bare ``https://`` or ``www.`` address) stays visible text."""
    escaped = html.escape(str(text), quote=False)
    escaped = _MD_PUNCTUATION.sub(r"\\\1", escaped)
    # A zero-width space keeps a bare address from being turned into a link.
    escaped = _MD_AUTOLINK.sub(_ZERO_WIDTH_SPACE, escaped)
    return " ".join(escaped.split())


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(header) for header in headers) + " |"]
    lines.append("|" + "|".join(" --- " for _ in headers) + "|")
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def render_markdown(
    data: CurationData, kb: KnowledgeBase, *, generated_at: datetime, database: str
) -> str:
    words = _words(kb)
    labels = kind_labels(kb)
    total = data.total
    lines = [f"# {words(MessageKey.REPORT_TITLE)}", ""]
    lines += [
        words(
            MessageKey.REPORT_PERIOD,
            start=_day(data.start),
            end=_day(data.end),
            days=data.days,
            total=total,
        ),
        "",
    ]
    if total == 0:
        lines += [words(MessageKey.REPORT_EMPTY, days=data.days), ""]
    else:
        lines += _markdown_sections(data, words, labels)
    lines += [words(MessageKey.REPORT_GENERATED, now=_day(generated_at), database=database), ""]
    return "\n".join(lines)


def _markdown_sections(data: CurationData, words: Words, labels: dict[str, str]) -> list[str]:
    kinds = [kind.value for kind in ReplyKind if data.per_kind.get(kind.value)]
    lines = [f"## {words(MessageKey.REPORT_VOLUME_HEADING)}", ""]
    day_rows: list[list[object]] = []
    for day, counts in sorted(data.per_day.items()):
        day_rows.append([_iso(day), sum(counts.values()), *(counts.get(kind, 0) for kind in kinds)])
    headers = [
        words(MessageKey.REPORT_VOLUME_TABLE_DAY),
        words(MessageKey.REPORT_VOLUME_TABLE_TOTAL),
        *(labels[k] for k in kinds),
    ]
    lines += [*_md_table(headers, day_rows), ""]
    lines += [
        f"## {words(MessageKey.REPORT_ANSWER_RATE_HEADING)}",
        "",
        _answer_rate(data, words),
        "",
    ]

    lines += [
        f"## {words(MessageKey.REPORT_UNANSWERED_HEADING)}",
        "",
        words(MessageKey.REPORT_UNANSWERED_INTRO),
        "",
    ]
    if data.unanswered:
        rows: list[list[object]] = []
        for group in data.unanswered:
            near = group.nearest
            similar = "; ".join(f"{text} ({count})" for text, count in group.phrasings[1:])
            nearest_text = (
                words(MessageKey.REPORT_NEAREST_NONE)
                if near is None
                else f"{near.question} ({near.intent})"
            )
            score = "" if near is None else f"{near.score:.2f}"
            rows.append([group.count, group.representative, similar, nearest_text, score])
        headers = [
            words(MessageKey.REPORT_ASKED_COLUMN),
            words(MessageKey.REPORT_QUESTION_COLUMN),
            words(MessageKey.REPORT_SIMILAR_COLUMN),
            words(MessageKey.REPORT_NEAREST_COLUMN),
            words(MessageKey.REPORT_SCORE_COLUMN),
        ]
        lines += [*_md_table(headers, rows), ""]
    else:
        lines += [words(MessageKey.REPORT_UNANSWERED_NONE), ""]
    if data.unanswered_without_text:
        lines += [
            words(MessageKey.REPORT_UNANSWERED_WITHOUT_TEXT, count=data.unanswered_without_text),
            "",
        ]

    lines += [f"## {words(MessageKey.REPORT_FEEDBACK_HEADING)}", ""]
    if data.feedback:
        headers = [
            words(MessageKey.REPORT_ENTRY_COLUMN),
            words(MessageKey.REPORT_UP_COLUMN),
            words(MessageKey.REPORT_DOWN_COLUMN),
            words(MessageKey.REPORT_SHARE_COLUMN),
        ]
        rows = [
            [f"{item.question} ({item.intent})", item.up, item.down, f"{item.share_down:.0%}"]
            for item in data.feedback
        ]
        lines += [words(MessageKey.REPORT_FEEDBACK_INTRO), "", *_md_table(headers, rows), ""]
    else:
        lines += [words(MessageKey.REPORT_FEEDBACK_NONE), ""]

    lines += [f"## {words(MessageKey.REPORT_CHOICES_HEADING)}", ""]
    if data.choices or data.clarify_without_choice:
        headers = [words(MessageKey.REPORT_CHOICE_COLUMN), words(MessageKey.REPORT_TIMES_COLUMN)]
        rows = [[label, count] for label, count in _choice_rows(data, words)]
        lines += [words(MessageKey.REPORT_CHOICES_INTRO), "", *_md_table(headers, rows), ""]
    else:
        lines += [words(MessageKey.REPORT_CHOICES_NONE), ""]

    lines += [f"## {words(MessageKey.REPORT_NEVER_MATCHED_HEADING)}", ""]
    if data.never_matched:
        lines += [words(MessageKey.REPORT_NEVER_MATCHED_INTRO), ""]
        lines += [f"- {_cell(question)} ({intent})" for intent, question in data.never_matched]
        lines.append("")
    else:
        lines += [words(MessageKey.REPORT_NEVER_MATCHED_NONE), ""]
    return lines


def _iso(day: date) -> str:
    return day.isoformat()
