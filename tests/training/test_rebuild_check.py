"""``--check``: a retrain compared with the shipped files, and the package versions each model
records so that a difference they alone cause is named as such (bot/training/__init__.py)."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest

from bot.training import TEXT_MODEL_PACKAGES, package_versions, rebuilt_identically

FILES = ("weights.bin", "meta.json")


def write(folder: Path, weights: bytes, packages: dict[str, str] | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weights.bin").write_bytes(weights)
    meta: dict[str, object] = {"corpus": "3 texts"}
    if packages is not None:
        meta["packages"] = packages
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def check(
    shipped: Path,
    weights: bytes,
    packages: dict[str, str] | None,
    capsys: pytest.CaptureFixture[str],
) -> tuple[bool, str]:
    same = rebuilt_identically(lambda folder: write(folder, weights, packages), shipped, FILES)
    return same, capsys.readouterr().out


def test_the_versions_recorded_are_those_installed() -> None:
    found = package_versions((*TEXT_MODEL_PACKAGES, "no-such-package-here"))
    assert found["numpy"] == metadata.version("numpy")
    assert "no-such-package-here" not in found


def test_an_identical_rebuild_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, b"w", {"numpy": "1.0"})
    assert check(tmp_path, b"w", {"numpy": "1.0"}, capsys) == (True, "identical\n")


def test_other_versions_that_change_nothing_still_pass_and_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, b"w", {"numpy": "1.0"})
    same, said = check(tmp_path, b"w", {"numpy": "2.0"}, capsys)
    assert same
    assert said == "identical (other package versions: numpy: 1.0 -> 2.0)\n"


def test_a_difference_names_the_files_and_the_version_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, b"w", {"numpy": "1.0", "scipy": "1.1"})
    same, said = check(tmp_path, b"x", {"numpy": "2.0"}, capsys)
    assert not same
    assert said.splitlines() == [
        "differs: weights.bin",
        "built with other package versions, which alone can change the bytes:",
        "  numpy: 1.0 -> 2.0",
        "  scipy: 1.1 -> not installed",
    ]


def test_a_shipped_model_without_versions_is_said_to_lack_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, b"w", None)
    same, said = check(tmp_path, b"x", {"numpy": "2.0"}, capsys)
    assert not same
    assert "does not record the package versions it was built with" in said
    write(tmp_path, b"x", None)
    assert check(tmp_path, b"x", {"numpy": "2.0"}, capsys) == (
        True,
        "identical (the shipped model does not record the package versions it was built with)\n",
    )


def test_a_changed_meta_beyond_the_versions_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, b"w", {"numpy": "1.0"})
    (tmp_path / "meta.json").write_text(json.dumps({"corpus": "4 texts"}), encoding="utf-8")
    same, said = check(tmp_path, b"w", {"numpy": "1.0"}, capsys)
    assert not same
    assert said.startswith("differs: meta.json\n")
