"""How well the matcher finds entries that have few phrasings (the matcher issue's "works
with few phrasings").

The knowledge base is cut to K alternates per entry (a seeded sample); every alternate left
out is then asked as a question the matcher never saw. Prints, for each K, the share of those
questions answered with their own entry (correct), with another entry (wrong) and not answered
(a "did you mean" or no match), overall and for the entries that did worst.

Run: python bench/bench_fewshot.py [--keep 8 10 20] [--per-entry 30] [--worst 8]
Goal (matcher issue): a new entry with 8 to 10 good alternates is found.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
from collections import Counter

from bot.kb import knowledge
from bot.kb.knowledge import Entry, KnowledgeBase
from bot.match.matcher import Matcher


def cut(kb: KnowledgeBase, keep: int, seed: int) -> tuple[KnowledgeBase, list[tuple[str, str]]]:
    """The base with `keep` alternates per entry, and the (question, entry id) left out."""
    rng = random.Random(seed)
    entries: dict[str, Entry] = {}
    held: list[tuple[str, str]] = []
    for entry in kb.entries.values():
        alternates = list(entry.alternates)
        rng.shuffle(alternates)
        entries[entry.id] = dataclasses.replace(entry, alternates=tuple(alternates[:keep]))
        held += [(text, entry.id) for text in alternates[keep:]]
    return dataclasses.replace(kb, entries=entries, port_entries={}), held


def score(kb: KnowledgeBase, held: list[tuple[str, str]]) -> dict[str, Counter[str]]:
    """Outcome counts per entry id."""
    matcher = Matcher(kb)
    tally: dict[str, Counter[str]] = {}
    for question, expected in held:
        answer = matcher.ask(question)
        got = answer.entry.id if answer.entry else None
        outcome = (
            "unanswered"
            if answer.status != "answered"
            else ("correct" if got == expected else "wrong")
        )
        tally.setdefault(expected, Counter())[outcome] += 1
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=int, nargs="+", default=[8, 10, 20])
    parser.add_argument("--per-entry", type=int, default=30, help="held-out questions per entry")
    parser.add_argument("--worst", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    kb = knowledge.load()
    for keep in args.keep:
        small, held = cut(kb, keep, args.seed)
        if not held:
            continue
        rng = random.Random(args.seed)
        by_entry: dict[str, list[tuple[str, str]]] = {}
        for pair in held:
            by_entry.setdefault(pair[1], []).append(pair)
        sample = [
            p
            for pairs in by_entry.values()
            for p in rng.sample(pairs, min(len(pairs), args.per_entry))
        ]
        tally = score(small, sample)
        total = sum(tally.values(), Counter())
        n = sum(total.values()) or 1
        print(
            f"keep {keep:>3} alternates: {n} held-out questions, correct "
            f"{100 * total['correct'] / n:.1f}%, wrong {100 * total['wrong'] / n:.1f}%, "
            f"unanswered {100 * total['unanswered'] / n:.1f}%"
        )
        worst = sorted(tally.items(), key=lambda kv: kv[1]["correct"] / (sum(kv[1].values()) or 1))
        for entry_id, counts in worst[: args.worst]:
            m = sum(counts.values())
            print(f"    {entry_id:<32} correct {counts['correct']}/{m}, wrong {counts['wrong']}")


if __name__ == "__main__":
    main()
