"""Matcher latency (p50/p99) and throughput on the real knowledge base and on generated
bases of 1,000 and 10,000 entries, plus `mailport ask` start-up time.

Run: python bench/bench_matcher.py [--questions N] [--repeats N]
Goals (one core): p99 < 1 ms on the real base, < 10 ms at 10,000 entries.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import random
import statistics
import subprocess
import sys
import time

from bot.kb import knowledge
from bot.kb.knowledge import Entry, KnowledgeBase
from bot.match import fit
from bot.match.matcher import Matcher, unfitted

QUESTIONS = [
    "what is port 25",
    "can I use 587 instead of 25?",
    "<@U123> is 465 secure?? :thinking_face:",
    "outgoing smpt port for o365",
    "how do I test if port 587 is open from powershell",
    "imap vs pop3 which one",
    "why is my isp blocking port 25",
    "is smtp tcp or udp",
    "gmail smtp settings for a printer",
    "thunderbird says connection timed out sending mail",
    "where is the parking validation machine",
    "port 22 blocked how do I ssh",
    "465",
    "ssl or tls in the mail app",
    "what ports does an email client need",
]

FILLER = (
    "relay gateway appliance scanner printer crm webhook tenant mailbox queue bounce header "
    "domain record vendor customer router proxy laptop phone office branch cluster node backup "
    "archive journal policy license migration cutover legacy modern secure setting option"
).split()


def synthetic(kb: KnowledgeBase, size: int, seed: int = 7) -> KnowledgeBase:
    """A base of `size` entries: real entries with their phrasings shuffled and salted."""
    rng = random.Random(seed)
    real = list(kb.entries.values())
    entries: dict[str, Entry] = {}
    for i in range(size):
        base = real[i % len(real)]
        salt = [f"{rng.choice(FILLER)}{rng.randint(0, size)}" for _ in range(3)]
        phrasings = [
            " ".join(rng.sample(p.split(), k=len(p.split())) + rng.sample(salt, 2))
            for p in base.phrasings
        ]
        entry = dataclasses.replace(
            base, id=f"{base.id}-{i}", question=phrasings[0], alternates=tuple(phrasings[1:])
        )
        entries[entry.id] = entry
    return KnowledgeBase(entries=entries, ports=kb.ports)


def measure(matcher: Matcher, rounds: int, repeats: int) -> tuple[float, float, float]:
    """p50 and p99 in milliseconds, and questions per second, of the best of `repeats`
    runs (like timeit: a shared machine's noise only ever adds time)."""
    for question in QUESTIONS:
        matcher.ask(question)
    return min((_run(matcher, rounds) for _ in range(repeats)), key=lambda run: run[1])


def _run(matcher: Matcher, rounds: int) -> tuple[float, float, float]:
    timings = []
    start = time.perf_counter()
    for i in range(rounds):
        t0 = time.perf_counter()
        matcher.ask(QUESTIONS[i % len(QUESTIONS)])
        timings.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - start
    quantiles = statistics.quantiles(timings, n=100)
    return quantiles[49], quantiles[98], rounds / elapsed


def startup() -> float:
    """Median wall time of `python -m bot ask` for one question, in milliseconds."""
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--json", "465"], check=True, capture_output=True
        )
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3, help="report the best of N runs")
    args = parser.parse_args()
    real = knowledge.load()
    t0 = time.perf_counter()
    decider, _ = fit.refit(real, None, unfitted)
    print(
        f"fitting the decision (4-fold cross-validation, real base): "
        f"{time.perf_counter() - t0:.1f} s"
    )
    print(
        f"{'knowledge base':<22}{'entries':>8}{'index ms':>10}{'p50 ms':>9}{'p99 ms':>9}{'q/s':>9}"
    )
    for label, kb in (
        ("real", real),
        ("generated 1,000", synthetic(real, 1000)),
        ("generated 10,000", synthetic(real, 10_000)),
    ):
        t0 = time.perf_counter()
        matcher = Matcher(kb, decider=decider)  # the fit is cached; see its own line above
        index_ms = (time.perf_counter() - t0) * 1000
        gc.freeze()  # as `mailport serve` does once loaded: full collections skip the index
        p50, p99, qps = measure(matcher, args.questions, args.repeats)
        print(f"{label:<22}{len(kb.entries):>8}{index_ms:>10.0f}{p50:>9.3f}{p99:>9.3f}{qps:>9.0f}")
    print(f"mailport ask start-up (median of 5): {startup():.0f} ms")
    slack_loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot.cli; bot.cli.main(['ask', '--json', '25']); "
            "print(any(m.startswith(('slack_bolt', 'slack_sdk', 'aiohttp')) for m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    print(f"Slack/aiohttp imported by `mailport ask`: {slack_loaded}")


if __name__ == "__main__":
    main()
