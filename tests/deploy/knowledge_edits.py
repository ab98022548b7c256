"""Edits to a copy of the knowledge: a malformed one, and a valid one that marks an answer."""

from __future__ import annotations

from pathlib import Path

import yaml

MARK = "Reloaded: "


def break_faq(directory: Path) -> str:
    """Make faq.yaml malformed; returns its previous text."""
    faq = directory / "faq.yaml"
    before = faq.read_text(encoding="utf-8")
    faq.write_text(before + "\n- id: [unclosed\n", encoding="utf-8")
    return before


def mark_answer(directory: Path, faq_text: str, entry_id: str) -> None:
    """Write ``faq_text`` back with the answer of ``entry_id`` marked (a valid edit)."""
    entries = yaml.safe_load(faq_text)
    entry = next(e for e in entries if e["id"] == entry_id)
    entry["answer"] = MARK + entry["answer"]
    (directory / "faq.yaml").write_text(
        yaml.safe_dump(entries, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
