"""The core commands through ``main(argv)``, and once each as a real subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import KnowledgeCopy

REPO = Path(__file__).resolve().parents[2]
DEV_SET = REPO.parent / "shared" / "eval" / "dev-questions.yaml"


def test_ask_prints_the_answer_and_its_passage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Who hosted the hackathon?"]) == 0
    out = capsys.readouterr().out
    assert "co-hosted by the Home Secretary and Microsoft" in out
    assert "lines 3–4" in out


def test_ask_json_is_one_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "How big is the innovation call?"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["kind"] == "answer"
    assert obj["citations"][0]["lines"] == [50, 50]


def test_ask_json_reads_questions_from_stdin_in_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("hello\nwho chairs the taskforce\n\nqwerty\n"))
    assert main(["ask", "--json", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    kinds = [json.loads(line)["kind"] for line in lines]
    assert kinds == ["smalltalk", "answer", "fallback", "fallback"]
    assert [json.loads(line)["question"] for line in lines][1] == "who chairs the taskforce"


def test_chat_answers_until_quit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("what is CAID\n\nquit\nnever read\n"))
    assert main(["chat", "--no-history"]) == 0
    out = capsys.readouterr().out
    assert "Child Abuse Image Database" in out
    assert out.rstrip().endswith("Goodbye.")


def test_chat_remembers_the_previous_answer_for_a_follow_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("what is CAID?\nwho uses it?\nquit\n"))
    assert main(["chat", "--no-history"]) == 0
    out = capsys.readouterr().out
    assert "used by the NCA" in out
    assert "Which of these do you mean?" not in out


def test_chat_without_an_earlier_answer_asks_back(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("who uses it?\nquit\n"))
    assert main(["chat", "--no-history"]) == 0
    assert "Which of these do you mean?" in capsys.readouterr().out


def test_check_summarises_and_reports_full_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "sources: 1" in out
    assert "alternates" in out
    assert "every sentence of every source is cited" in out
    assert "intent model of home-office-hackathon-2018: 31 entries" in out


def test_check_warns_when_the_intent_model_is_stale(
    knowledge_copy: KnowledgeCopy, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = knowledge_copy("faq.yaml", "- id: cse-meaning\n", "- id: cse-abbreviation\n")
    assert main(["check", "--knowledge", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "stale: retrain it (python -m bot.training.intent)" in out
    assert "entries it does not know: cse-abbreviation" in out
    assert "labels no longer entries: cse-meaning" in out


def test_check_fails_on_broken_knowledge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--knowledge", str(tmp_path)]) == 2
    assert "sources/" in capsys.readouterr().err


def test_eval_unseen_leaves_out_what_the_models_learn_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(
        '- {q: "Who hosted the hackathon?", expect: answer, lines: [[3, 4]]}\n'
        '- {q: "which two bodies co-hosted that coding marathon, please", expect: answer,'
        " lines: [[3, 4]]}\n",
        encoding="utf-8",
    )
    assert main(["eval", "--unseen", str(path)]) == 0
    out = capsys.readouterr().out
    assert "unseen: 1 of 2 questions" in out
    assert "overall: " in out
    assert "/1 = " in out


def test_eval_prints_categories_and_overall(capsys: pytest.CaptureFixture[str]) -> None:
    own = REPO / "tests" / "core" / "questions" / "domain.yaml"
    assert main(["eval", str(own)]) == 0
    out = capsys.readouterr().out
    assert "safeguarding" in out
    assert "false answers:" in out
    assert "overall:" in out


def test_eval_json(capsys: pytest.CaptureFixture[str]) -> None:
    own = REPO / "tests" / "core" / "questions" / "domain.yaml"
    assert main(["eval", "--json", str(own)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"accuracy", "false_answer_rate", "categories", "misses"} <= set(report)


def test_eval_rejects_a_malformed_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {q: hi, expect: perhaps}\n")
    assert main(["eval", str(bad)]) == 2
    assert "bad.yaml item 1" in capsys.readouterr().err


def test_unknown_command_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert main(["--help"]) == 0
    assert "ask" in capsys.readouterr().out


def test_bad_setting_exits_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    assert main(["ask", "hello"]) == 2
    assert "LOG_LEVEL" in capsys.readouterr().err


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )


def test_subprocess_ask_json_stdin_streams_one_line_each() -> None:
    done = _run("ask", "--json", "-", stdin="who hosted the hackathon\nthanks\n")
    assert done.returncode == 0, done.stderr
    assert [json.loads(x)["kind"] for x in done.stdout.splitlines()] == ["answer", "smalltalk"]


def test_subprocess_ask_never_imports_slack() -> None:
    code = (
        "import sys; from bot.cli import main; main(['ask', 'hello']); "
        "print(sorted(m for m in sys.modules if m.startswith(('slack', 'sqlalchemy', 'aiohttp'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize("command", [["check"], ["chat", "--no-history"]])
def test_subprocess_other_core_commands(command: list[str]) -> None:
    done = _run(*command, stdin="hello\n")
    assert done.returncode == 0, done.stderr


def test_subprocess_eval_on_the_dev_set() -> None:
    if not DEV_SET.exists():
        pytest.skip("../shared/eval/dev-questions.yaml is not beside this checkout")
    done = _run("eval", str(DEV_SET))
    assert done.returncode == 0, done.stderr
    assert "overall:" in done.stdout
