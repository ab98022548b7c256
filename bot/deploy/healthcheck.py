"""``python -m bot.deploy.healthcheck``: the container's health check, with nothing but Python.

The slim image has no curl. This asks ``http://127.0.0.1:$PORT/health`` (or ``--url``) and
exits 0 for a 200, 1 otherwise; a draining replica answers 503 and so reports unhealthy.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

from bot.settings import Settings, SettingsError

TIMEOUT_SECONDS = 2.0


def health_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.port}/health"


def check(url: str, timeout: float = TIMEOUT_SECONDS) -> tuple[bool, str]:
    """Whether ``url`` answers 200, and a one-line description of what it answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own URL
            return response.status == 200, f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return False, f"no answer ({reason})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.deploy.healthcheck", description="exit 0 if the bot is healthy"
    )
    parser.add_argument("--url", help="health URL (default: http://127.0.0.1:$PORT/health)")
    args = parser.parse_args(argv)
    try:
        url = args.url or health_url(Settings.from_env())
    except SettingsError as error:
        print(f"healthcheck: {error}", file=sys.stderr)
        return 2
    healthy, detail = check(url)
    print(f"{'healthy' if healthy else 'unhealthy'}: {url}: {detail}")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
