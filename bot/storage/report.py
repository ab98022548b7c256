"""The curators' report as one self-contained HTML page, or as Markdown text.

The page has inline CSS and an inline SVG chart and loads nothing, so it can be mailed or opened
offline. Everything people typed is HTML-escaped. Wording comes from the ``report`` section of
knowledge/messages.yaml.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import date, datetime

from bot.core.knowledge import KnowledgeBase
from bot.core.reply import ReplyKind
from bot.storage.chart import KIND_COLOURS, volume_chart_svg
from bot.storage.curation import CurationData, Nearest, QuestionGroup

Words = Callable[..., str]

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
    def words(key: str, **values: object) -> str:
        return kb.message(f"report.{key}", **values)

    return words


def kind_labels(kb: KnowledgeBase) -> dict[str, str]:
    return {kind.value: kb.message(f"report.kind_{kind.value}") for kind in ReplyKind}


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
        return _e(words("nearest_none")), ""
    where = f' <span class="hint">{_e(words("nearest_unstated"))}</span>' if near.unstated else ""
    cell = (
        f"{_e(near.question)} <code>{_e(near.intent)}</code>{where}"
        f'<br><span class="hint">{_e(words("add_alternate"))}</span>'
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
    parts: list[str] = [f"<h1>{_e(words('title'))}</h1>"]
    period = words(
        "period", start=_day(data.start), end=_day(data.end), days=data.days, total=data.total
    )
    parts.append(f'<p class="meta">{_e(period)}</p>')
    if data.total == 0:
        parts.append(f'<p class="empty" id="empty">{_e(words("empty", days=data.days))}</p>')
    else:
        parts += _html_sections(data, words, labels)
    parts.append(
        f'<p class="meta">{_e(words("generated", now=_day(generated_at), database=database))}</p>'
    )
    title = _e(words("title"))
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
        title=words("volume_chart_title"),
    )
    parts.append(f"<h2>{_e(words('volume_heading'))}</h2>")
    parts.append(
        f'<figure id="volume-chart" role="img" aria-label="{_e(words("volume_heading"))}">'
    )
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
        _table("kinds", [(words("kind_column"), False), (words("count_column"), True)], kind_rows)
    )

    parts.append(f"<h2>{_e(words('answer_rate_heading'))}</h2>")
    parts.append(f'<p id="answer-rate">{_e(_answer_rate(data, words))}</p>')

    parts.append(f"<h2>{_e(words('unanswered_heading'))}</h2>")
    parts.append(f'<p class="hint">{_e(words("unanswered_intro"))}</p>')
    if data.unanswered:
        headers = [
            (words("asked_column"), True),
            (words("question_column"), False),
            (words("similar_column"), False),
            (words("nearest_column"), False),
            (words("score_column"), True),
        ]
        rows = [_group_row(group, words) for group in data.unanswered]
        parts.append(_table("unanswered", headers, rows))
    else:
        parts.append(f'<p class="empty">{_e(words("unanswered_none"))}</p>')
    if data.unanswered_without_text:
        count = data.unanswered_without_text
        parts.append(f'<p class="hint">{_e(words("unanswered_without_text", count=count))}</p>')

    parts.append(f"<h2>{_e(words('feedback_heading'))}</h2>")
    if data.feedback:
        parts.append(f'<p class="hint">{_e(words("feedback_intro"))}</p>')
        headers = [
            (words("entry_column"), False),
            (words("up_column"), True),
            (words("down_column"), True),
            (words("share_column"), True),
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
        parts.append(f'<p class="empty">{_e(words("feedback_none"))}</p>')

    parts.append(f"<h2>{_e(words('choices_heading'))}</h2>")
    if data.choices or data.clarify_without_choice:
        parts.append(f'<p class="hint">{_e(words("choices_intro"))}</p>')
        rows = [[_e(label), str(count)] for label, count in _choice_rows(data, words)]
        headers = [(words("choice_column"), False), (words("times_column"), True)]
        parts.append(_table("choices", headers, rows))
    else:
        parts.append(f'<p class="empty">{_e(words("choices_none"))}</p>')

    parts.append(f"<h2>{_e(words('never_matched_heading'))}</h2>")
    if data.never_matched:
        parts.append(f'<p class="hint">{_e(words("never_matched_intro"))}</p>')
        rows = [
            [f"{_e(question)} <code>{_e(intent)}</code>"] for intent, question in data.never_matched
        ]
        parts.append(_table("never-matched", [(words("entry_column"), False)], rows))
    else:
        parts.append(f'<p class="empty">{_e(words("never_matched_none"))}</p>')
    return parts


def _answer_rate(data: CurationData, words: Words) -> str:
    rate = data.answer_rate
    if rate is None:
        return words("answer_rate_none")
    return words("answer_rate", answered=data.answered, asked=data.asked, rate=f"{rate:.0%}")


def _choice_rows(data: CurationData, words: Words) -> list[tuple[str, int]]:
    rows = [
        (
            words("none_of_these") if item.intent is None else f"{item.question} ({item.intent})",
            item.count,
        )
        for item in data.choices
    ]
    if data.clarify_without_choice:
        rows.append((words("no_choice"), data.clarify_without_choice))
    return rows


# --- Markdown ------------------------------------------------------------------------------


def _cell(text: object) -> str:
    """A Markdown table cell: no raw HTML, no pipes, one line."""
    return " ".join(html.escape(str(text), quote=False).replace("|", "\\|").split())


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
    lines = [f"# {words('title')}", ""]
    lines += [
        words("period", start=_day(data.start), end=_day(data.end), days=data.days, total=total),
        "",
    ]
    if total == 0:
        lines += [words("empty", days=data.days), ""]
    else:
        lines += _markdown_sections(data, words, labels)
    lines += [words("generated", now=_day(generated_at), database=database), ""]
    return "\n".join(lines)


def _markdown_sections(data: CurationData, words: Words, labels: dict[str, str]) -> list[str]:
    kinds = [kind.value for kind in ReplyKind if data.per_kind.get(kind.value)]
    lines = [f"## {words('volume_heading')}", ""]
    day_rows: list[list[object]] = []
    for day, counts in sorted(data.per_day.items()):
        day_rows.append([_iso(day), sum(counts.values()), *(counts.get(kind, 0) for kind in kinds)])
    headers = [words("volume_table_day"), words("volume_table_total"), *(labels[k] for k in kinds)]
    lines += [*_md_table(headers, day_rows), ""]
    lines += [f"## {words('answer_rate_heading')}", "", _answer_rate(data, words), ""]

    lines += [f"## {words('unanswered_heading')}", "", words("unanswered_intro"), ""]
    if data.unanswered:
        rows: list[list[object]] = []
        for group in data.unanswered:
            near = group.nearest
            similar = "; ".join(f"{text} ({count})" for text, count in group.phrasings[1:])
            nearest_text = (
                words("nearest_none") if near is None else f"{near.question} ({near.intent})"
            )
            score = "" if near is None else f"{near.score:.2f}"
            rows.append([group.count, group.representative, similar, nearest_text, score])
        headers = [
            words("asked_column"),
            words("question_column"),
            words("similar_column"),
            words("nearest_column"),
            words("score_column"),
        ]
        lines += [*_md_table(headers, rows), ""]
    else:
        lines += [words("unanswered_none"), ""]
    if data.unanswered_without_text:
        lines += [words("unanswered_without_text", count=data.unanswered_without_text), ""]

    lines += [f"## {words('feedback_heading')}", ""]
    if data.feedback:
        headers = [
            words("entry_column"),
            words("up_column"),
            words("down_column"),
            words("share_column"),
        ]
        rows = [
            [f"{item.question} ({item.intent})", item.up, item.down, f"{item.share_down:.0%}"]
            for item in data.feedback
        ]
        lines += [words("feedback_intro"), "", *_md_table(headers, rows), ""]
    else:
        lines += [words("feedback_none"), ""]

    lines += [f"## {words('choices_heading')}", ""]
    if data.choices or data.clarify_without_choice:
        headers = [words("choice_column"), words("times_column")]
        rows = [[label, count] for label, count in _choice_rows(data, words)]
        lines += [words("choices_intro"), "", *_md_table(headers, rows), ""]
    else:
        lines += [words("choices_none"), ""]

    lines += [f"## {words('never_matched_heading')}", ""]
    if data.never_matched:
        lines += [words("never_matched_intro"), ""]
        lines += [f"- {_cell(question)} ({intent})" for intent, question in data.never_matched]
        lines.append("")
    else:
        lines += [words("never_matched_none"), ""]
    return lines


def _iso(day: date) -> str:
    return day.isoformat()
