"""The report's chart: replies per day, stacked by reply kind, drawn by matplotlib as inline SVG.

Text is drawn as paths, so the SVG needs no fonts and no network to display.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import date, timedelta

import matplotlib
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.core.reply import ReplyKind

# Okabe-Ito colours (readable with colour-blindness), one per kind, in ReplyKind order.
KIND_COLOURS: dict[str, str] = {
    ReplyKind.SAFEGUARDING.value: "#0072B2",
    ReplyKind.REFUSAL.value: "#D55E00",
    ReplyKind.SMALLTALK.value: "#CC79A7",
    ReplyKind.ANSWER.value: "#009E73",
    ReplyKind.NOT_IN_SOURCE.value: "#E69F00",
    ReplyKind.CLARIFY.value: "#56B4E9",
    ReplyKind.FALLBACK.value: "#999999",
}

_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)


def volume_chart_svg(
    per_day: Mapping[date, Mapping[str, int]],
    first_day: date,
    last_day: date,
    *,
    labels: Mapping[str, str],
    title: str,
) -> str:
    """An ``<svg>`` element: one stacked bar per day from ``first_day`` to ``last_day``."""
    days = [first_day + timedelta(days=offset) for offset in range((last_day - first_day).days + 1)]
    kinds = [kind.value for kind in ReplyKind]
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "curators-report"}):
        figure = Figure(figsize=(9, 3.6), layout="constrained")
        axes = figure.add_subplot()
        bottoms = [0] * len(days)
        for kind in kinds:
            heights = [per_day.get(day, {}).get(kind, 0) for day in days]
            if not any(heights):
                continue
            axes.bar(
                days,  # type: ignore[arg-type]
                heights,
                bottom=bottoms,
                width=0.8,
                color=KIND_COLOURS[kind],
                label=labels.get(kind, kind),
            )
            bottoms = [below + height for below, height in zip(bottoms, heights, strict=True)]
        locator = AutoDateLocator(maxticks=10)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(title, loc="left")
        axes.spines[["top", "right"]].set_visible(False)
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return _PROLOGUE.sub("", buffer.getvalue(), count=1).strip()
