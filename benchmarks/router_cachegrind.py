"""Count what a question costs the machine: instructions and simulated cache misses.

Wall-clock timings on a shared machine swing by a factor of three from one hour to the next
(see the README's "Speed"); valgrind's cachegrind counts the instructions a question executes
and the misses of a simulated cache, the same on every run of the same code and inputs,
whatever else the machine is doing. Run from the repository root (needs valgrind):

    .venv/bin/python benchmarks/router_cachegrind.py [--passes 2] [--base PATH]

It runs the router under cachegrind twice, over the dev set and ``domain.yaml`` (as
``router_latency.py``), once with no timed pass and once with ``--passes`` passes, each
question cold, and prints the difference per question: instructions, first-level data misses
and last-level data misses (an 8 MiB, 16-way last-level cache). ``--base`` times another
checkout's code in the same way (its path is put first on ``PYTHONPATH``), for a before and
after. Each run takes a few minutes. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAST_LEVEL = "--LL=8388608,16,64"
TOTALS = {
    "instructions": re.compile(r"I\s+refs:\s+([\d,]+)"),
    "D1 data misses": re.compile(r"D1\s+misses:\s+([\d,]+)"),
    "last-level data misses": re.compile(r"LLd misses:\s+([\d,]+)"),
}


def drive(passes: int) -> None:
    """Inside valgrind: build the router, answer every question once (warm-up, counted in
    both runs), then ``passes`` more times, cold."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from router_latency import forget, questions

    from bot.core.knowledge import load_knowledge
    from bot.core.router import Router
    from bot.settings import DEFAULT_KNOWLEDGE_DIR

    router = Router(load_knowledge(DEFAULT_KNOWLEDGE_DIR))
    asked = questions()
    for _ in range(1 + passes):
        for question in asked:
            forget(router)
            router.reply(question)


def count(code: Path, passes: int) -> dict[str, int]:
    """cachegrind's totals for one run of :func:`drive` with the code of ``code``."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")]),
        "OPENBLAS_NUM_THREADS": "1",
    }
    with tempfile.TemporaryDirectory() as scratch:
        found = subprocess.run(
            [
                "valgrind",
                "--tool=cachegrind",
                "--cache-sim=yes",
                LAST_LEVEL,
                f"--cachegrind-out-file={scratch}/out",
                sys.executable,
                str(Path(__file__).resolve()),
                "--drive",
                str(passes),
            ],
            cwd=code,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
    totals = {}
    for name, pattern in TOTALS.items():
        match = pattern.search(found.stderr)
        if match is None:
            raise SystemExit(f"no {name} in valgrind's report:\n{found.stderr[-2000:]}")
        totals[name] = int(match.group(1).replace(",", ""))
    return totals


def per_question(code: Path, passes: int, questions: int) -> dict[str, float]:
    before, after = count(code, 0), count(code, passes)
    return {name: (after[name] - before[name]) / (passes * questions) for name in TOTALS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--base", type=Path, help="another checkout to count the same way")
    parser.add_argument("--drive", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive is not None:
        drive(args.drive)
        return 0
    from router_latency import questions

    asked = len(questions())
    print(f"questions: {asked} (dev set and our own), {args.passes} cold passes counted")
    for label, code in (("base", args.base), ("this checkout", REPO)):
        if code is None:
            continue
        found = per_question(code.resolve(), args.passes, asked)
        print(f"{label} ({code}): " + ", ".join(f"{n} {v:,.0f}" for n, v in found.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
