"""Bad settings and closed pipes end in one line and a status, never a traceback (issue 11,
defect 12)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def environment(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "REDIS_", "HOST", "PORT", "WEB_"))
    }
    env.update(
        SLACK_BOT_TOKEN="xoxb-never-used",
        SLACK_SIGNING_SECRET="a-signing-secret",
        # Nothing listens here: start-up verifies the token, finds Slack unreachable and
        # goes on degraded; the listening error is what stops it.
        SLACK_API_BASE_URL="http://127.0.0.1:9/api/",
        STORE_REPLIES="false",
        **extra,
    )
    return env


def serve(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--http", *args],
        cwd=REPO,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_line_and_status_2(workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = serve("--host", "127.0.0.1", "--port", port, "--workers", workers)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"PORT: cannot listen on 127.0.0.1:{port}" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_address_that_is_not_one_is_one_line_and_status_2(workers: str) -> None:
    result = serve("--port", "0", "--workers", workers, HOST="999.1.1.1")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "HOST: is not an address this machine can listen on" in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--port", "99999"], {}, "must be a port number"),
        (["--port", "-1"], {}, "must be a port number"),
        ([], {"PORT": "99999"}, "PORT: must be at most 65535"),
        ([], {"SHUTDOWN_GRACE_SECONDS": "nan"}, "SHUTDOWN_GRACE_SECONDS: must be a finite"),
    ],
)
def test_out_of_range_settings_are_one_line_and_status_2(
    args: list[str], env: dict[str, str], expected: str
) -> None:
    result = serve(*args, **env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in result.stderr


def test_a_closed_pipe_ends_ask_quietly() -> None:
    # `ask ... | head` ended in a BrokenPipeError traceback.
    questions = "who hosted the hackathon\n" * 5000
    reader = subprocess.Popen(  # head -c 1: reads one byte, then closes the pipe
        [sys.executable, "-c", "import sys; sys.stdin.buffer.read(1)"],
        stdin=subprocess.PIPE,
    )
    assert reader.stdin is not None
    asker = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--json", "-"],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader.stdin.close()
    _, stderr = asker.communicate(questions, timeout=120)
    reader.wait(timeout=30)
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr
    assert asker.returncode in (0, 141)
