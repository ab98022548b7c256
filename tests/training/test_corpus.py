"""The safety corpus is validated: duplicates, unknown labels and empty texts are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.training.corpus import DEFAULT_CORPUS_DIR, CorpusError, load_corpus


def write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(body, encoding="utf-8")
    return folder


def test_the_shipped_corpus_is_valid_broad_and_has_every_label() -> None:
    examples = load_corpus(DEFAULT_CORPUS_DIR)
    assert len(examples) >= 2000
    assert len({e.writer for e in examples}) >= 5
    assert {e.label for e in examples} == {"benign", "safeguarding", "self_concern", "harmful"}


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"a": '- {text: "hello", label: benign}\n- {text: "Hello ", label: benign}\n'},
            "duplicate",
        ),
        (
            {"a": '- {text: "hello", label: benign}\n', "b": '- {text: "HELLO", label: harmful}\n'},
            "duplicate of a.yaml item 1",
        ),
        ({"a": '- {text: "hello", label: scary}\n'}, "unknown label 'scary'"),
        ({"a": '- {text: "   ", label: benign}\n'}, "empty text"),
        ({"a": '- {text: "hello", label: benign, writer: me}\n'}, "exactly the keys"),
        ({"a": "text: hello\n"}, "expected a list"),
        ({"a": "- [unclosed\n"}, "not valid YAML"),
    ],
)
def test_malformed_corpora_are_refused_naming_file_and_item(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, body in files.items():
        write(tmp_path, name, body)
    with pytest.raises(CorpusError, match=message):
        load_corpus(tmp_path)


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no corpus files"):
        load_corpus(tmp_path)


def test_each_file_is_a_writer(tmp_path: Path) -> None:
    write(tmp_path, "teen", '- {text: "hi", label: benign}\n')
    write(tmp_path, "carer", '- {text: "hello there", label: benign}\n')
    assert {e.writer for e in load_corpus(tmp_path)} == {"teen", "carer"}
