"""The report opened in a real headless Chromium: the chart and the tables render, offline."""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from bot.cli import main
from bot.storage.chart import KIND_COLOURS
from tests.storage.conftest import seed_database

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


class _Dom(HTMLParser):
    """Counts what the browser's DOM holds: elements by tag and id, and table rows per table."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.ids: set[str] = set()
        self.rows: dict[str, int] = {}
        self.external: list[str] = []
        self._table: str | None = None
        self._in_figure_svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "table":
            self._table = values.get("id")
        if tag == "tr" and self._table is not None:
            self.rows[self._table] = self.rows.get(self._table, 0) + 1
        for name in ("src", "href", "xlink:href"):
            value = values.get(name) or ""
            if value.startswith(("http:", "https:", "//")):
                self.external.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None


def _chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.fixture
async def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    await seed_database(f"sqlite:///{tmp_path / 'bot.db'}", monkeypatch)
    out = tmp_path / "report.html"
    assert main(["report", "--out", str(out)]) == 0
    return out


def test_chromium_builds_the_chart_and_the_tables(report: Path, tmp_path: Path) -> None:
    dom = _Dom()
    dom.feed(_chromium(tmp_path, "--dump-dom", report.as_uri()).stdout)

    assert "volume-chart" in dom.ids
    assert dom.tags.get("svg", 0) >= 1
    assert dom.tags.get("path", 0) > 20  # bars, axes and glyphs drawn as paths
    assert dom.rows["kinds"] == 1 + 7  # header and one row per reply kind
    assert dom.rows["unanswered"] >= 1 + 3
    assert dom.rows["feedback"] == 1 + 2
    assert dom.rows["choices"] == 1 + 3
    assert dom.rows["never-matched"] > 1
    assert dom.external == []


def test_chromium_paints_the_chart(report: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "report.png"
    _chromium(tmp_path, "--window-size=1200,1400", f"--screenshot={screenshot}", report.as_uri())
    pixels = (imread(screenshot)[:, :, :3] * 255).round().astype(int)

    def painted(colour: str) -> int:
        wanted = np.array([int(colour[index : index + 2], 16) for index in (1, 3, 5)])
        return int((np.abs(pixels - wanted).max(axis=2) <= 8).sum())

    # The bars of the kinds in the seeded history are on screen, in their colours; a kind with
    # no replies shows only as its small swatch in the table below the chart.
    for kind in ("answer", "not_in_source", "clarify"):
        assert painted(KIND_COLOURS[kind]) > 1000, kind
    assert painted(KIND_COLOURS["refusal"]) < 500
    # Table headers are painted too.
    assert painted("#f4f4f6") > 1000
