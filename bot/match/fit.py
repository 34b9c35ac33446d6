"""Fit the matcher's decision to the knowledge base by cross-validation (`mailport kb fit`).

Each entry's alternates and the out-of-scope examples are split into `FOLDS` folds; for each
fold the base without it is indexed and every phrasing of the fold is ranked as a question the
index never saw. Those rankings, and whether their top entry was right, fit the decision
(`bot.match.decide.fit`). The result is cached by a digest of the knowledge base and of the
matcher's own code, so a start with a warm cache pays nothing; the report shows a curator
which entries are hard to find and what they are taken for.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.kb.knowledge import KnowledgeBase
from bot.match import cache, decide, smalltalk
from bot.match.decide import Decider, Sample

FOLDS = 8
SEED = 5
OUTSIDE_WEIGHT = 10.0
"""An out-of-scope example counts ten times in the fit: there are few of them (one per thirty
phrasings), and answering one is worse than leaving a question unanswered. Chosen, with the
score floor, by the folds' own figures (correct minus three times wrong and out-of-scope
answered), not by a question set."""
QUESTIONS = 6_000  # held-out phrasings asked in all, at most (a sample beyond: large bases)
_CODE = ("matcher.py", "entities.py", "decide.py", "fit.py", "perceptron.py", "subjects.py")
_FITTED: dict[str, Decider] = {}


class _Ranked(Protocol):
    @property
    def scores(self) -> list[tuple[float, int]]: ...

    @property
    def features(self) -> tuple[float, ...]: ...


class Ranker(Protocol):
    """What a fold needs of a matcher: the ranking of a question, and the entry ids it ranks
    (`outsides`: the indices standing for the out-of-scope examples)."""

    outsides: frozenset[int]

    def held_out(self, question: str) -> _Ranked | None: ...

    def entry_id(self, index: int) -> str: ...


Build = Callable[[KnowledgeBase], Ranker]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One held-out phrasing: the entry it belongs to (None: out of scope), the entry ranked
    first (None: nothing, or the out-of-scope examples), and whether that reached the decision."""

    expected: str | None
    top: str | None
    sample: Sample | None


def decider_for(kb: KnowledgeBase, cache_dir: Path | None, build: Build) -> Decider:
    """The decider fitted to `kb`: from this process's memory, from `cache_dir`, or fitted now
    (and saved there)."""
    digest = _digest(kb)
    if digest in _FITTED:
        return _FITTED[digest]
    decider = _load(cache_dir / f"decider-{digest}.json") if cache_dir else None
    if decider is None:
        return refit(kb, cache_dir, build)[0]
    _FITTED[digest] = decider
    return decider


def refit(kb: KnowledgeBase, cache_dir: Path | None, build: Build) -> tuple[Decider, list[Outcome]]:
    """Fit the decision now, keep it (in memory and in `cache_dir`), and return it with the
    cross-validation outcomes it was fitted on."""
    results = outcomes(kb, build)
    decider = fitted(results)
    digest = _digest(kb)
    _FITTED[digest] = decider
    if cache_dir:
        cache.write(cache_dir / f"decider-{digest}.json", decider.as_json())
    return decider, results


def fitted(results: list[Outcome]) -> Decider:
    """The decision fitted to the cross-validation outcomes."""
    return decide.fit([r.sample for r in results if r.sample is not None])


def outcomes(kb: KnowledgeBase, build: Build, folds: int = FOLDS) -> list[Outcome]:
    """Every phrasing (but the canonical questions) ranked by an index that never saw it."""
    found: list[Outcome] = []
    for fold in range(folds):
        fold_kb, held = _fold(kb, fold, folds)
        if len(held) > QUESTIONS // folds:
            held = random.Random(SEED + fold).sample(held, QUESTIONS // folds)
        ranker = build(fold_kb)
        for question, expected in held:
            found.append(_outcome(ranker, question, expected))
    return found


def _outcome(ranker: Ranker, question: str, expected: str | None) -> Outcome:
    if smalltalk.kind(question) is not None:  # answered before the matcher is asked
        return Outcome(expected, None, None)
    ranking = ranker.held_out(question)
    if ranking is None or not ranking.scores:
        return Outcome(expected, None, None)
    top_score, top = ranking.scores[0]
    if top in ranker.outsides:
        return Outcome(expected, None, None)
    top_id = ranker.entry_id(top)
    runner_up = ranking.scores[1][0] if len(ranking.scores) > 1 else 0.0
    if decide.exactly(top_score, runner_up):  # answered whatever the model says
        return Outcome(expected, top_id, None)
    weight = OUTSIDE_WEIGHT if expected is None else 1.0
    sample = Sample(ranking.features, top_id == expected, weight)
    return Outcome(expected, top_id, sample)


def _fold(
    kb: KnowledgeBase, fold: int, folds: int
) -> tuple[KnowledgeBase, list[tuple[str, str | None]]]:
    """The base without fold `fold`'s alternates and out-of-scope examples, and those."""
    held: list[tuple[str, str | None]] = []
    entries = {}
    for entry_id, entry in kb.entries.items():
        kept, left = _split(list(entry.alternates), fold, folds, entry_id)
        entries[entry_id] = dataclasses.replace(entry, alternates=tuple(kept))
        held += [(text, entry_id) for text in left]
    kept, left = _split(list(kb.out_of_scope), fold, folds, "out-of-scope")
    held += [(text, None) for text in left]
    return dataclasses.replace(kb, entries=entries, out_of_scope=tuple(kept), port_entries={}), held


def _split(items: list[str], fold: int, folds: int, owner: str) -> tuple[list[str], list[str]]:
    """Fold `fold` of `items` and the rest. Each owner's shuffle has its own seed, so adding or
    editing one entry leaves every other entry's folds as they were."""
    order = list(range(len(items)))
    random.Random(f"{SEED}:{owner}").shuffle(order)
    left = {i for rank, i in enumerate(order) if rank % folds == fold}
    return [t for i, t in enumerate(items) if i not in left], [
        t for i, t in enumerate(items) if i in left
    ]


def report(results: list[Outcome], decider: Decider, worst: int = 15) -> Iterator[str]:
    """Lines for a curator: overall figures as the matcher would decide, the entries found
    least often, and the most common confusions."""
    per_entry: dict[str, Counter[str]] = {}
    confusions: Counter[tuple[str, str]] = Counter()
    outside = Counter[str]()
    for r in results:
        answered = r.top is not None and (r.sample is None or decider.sure(r.sample.features))
        if r.expected is None:
            outside["n"] += 1
            outside["answered"] += answered
            continue
        tally = per_entry.setdefault(r.expected, Counter())
        tally["n"] += 1
        if answered and r.top == r.expected:
            tally["correct"] += 1
        elif answered:
            tally["wrong"] += 1
            confusions[(r.expected, str(r.top))] += 1
    total = sum(per_entry.values(), Counter())
    n = total["n"] or 1
    yield (
        f"{total['n']} held-out phrasings in {FOLDS} folds: "
        f"correct {100 * total['correct'] / n:.1f}%, "
        f"wrong {100 * total['wrong'] / n:.1f}%; out-of-scope examples answered "
        f"{100 * outside['answered'] / (outside['n'] or 1):.1f}% of {outside['n']}; "
        f"answering from P(right) >= {decide.ANSWER_PROBABILITY}"
    )
    yield "entries found least often (correct / held out):"
    ranked = sorted(per_entry.items(), key=lambda kv: (kv[1]["correct"] / kv[1]["n"], kv[0]))
    for entry_id, tally in ranked[:worst]:
        yield f"  {entry_id}: {tally['correct']}/{tally['n']}, wrong {tally['wrong']}"
    if confusions:
        yield "most common confusions (asked -> answered):"
        for (asked, got), count in confusions.most_common(worst):
            yield f"  {asked} -> {got}: {count}"


def _digest(kb: KnowledgeBase) -> str:
    here = Path(__file__).parent
    code = [(here / name).read_text(encoding="utf-8") for name in _CODE]
    entries = [
        [e.id, e.phrasings, e.ports, e.tags, e.about, e.related, e.short, e.detail]
        for e in sorted([*kb.entries.values(), *kb.ranked_records.values()], key=lambda e: e.id)
    ]
    outside = [(q, kb.out_of_scope_topics.get(q, "")) for q in kb.out_of_scope]
    blob = [code, entries, outside, sorted(kb.subjects.items()), sorted(kb.ports)]
    return hashlib.sha256(json.dumps(blob, default=str).encode()).hexdigest()[:32]


def _load(path: Path) -> Decider | None:
    raw = cache.read(path)
    try:
        return Decider.from_json(raw) if isinstance(raw, dict) else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
