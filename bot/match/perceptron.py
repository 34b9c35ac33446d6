"""A second opinion for the matcher: an averaged perceptron trained on the knowledge base's
own phrasings.

The matcher's scores measure similarity; this model learns which terms tell one entry from
its siblings (port-587 from port-587-encryption, port-25 from port-25-tls). When both agree
on the winner, the matcher can answer with less of a lead.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from bot.match import cache

Example = tuple[frozenset[str], int]
RUNS = 5


class Perceptron:
    """Sparse multi-class weights: feature -> {class: weight}."""

    def __init__(self, weights: dict[str, dict[int, float]]) -> None:
        self.weights = weights

    @classmethod
    def train(
        cls, examples: Sequence[Example], classes: int, epochs: int = 5, runs: int = RUNS
    ) -> Perceptron:
        """The mean of `runs` averaged perceptrons, each seeing the examples in another
        order: one run's weights depend on that order, and moving one phrasing would
        otherwise change answers far from it."""
        total: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        for seed in range(runs):
            for feature, by_class in _averaged_run(examples, classes, epochs, seed).items():
                for label, weight in by_class.items():
                    total[feature][label] += weight / runs
        return cls({feature: dict(by_class) for feature, by_class in total.items()})

    def scores(self, features: Iterable[str]) -> dict[int, float]:
        """Scores of the classes that any of `features` speaks for."""
        return _scores(self.weights, features)

    @staticmethod
    def favourite(scores: dict[int, float]) -> int | None:
        """The best-scoring class, or None when no feature was known."""
        return _best(scores) if scores else None


def trained(examples: Sequence[Example], classes: int, cache_dir: Path | None = None) -> Perceptron:
    """The model for exactly these examples: loaded from `cache_dir` when it was trained
    before (training takes a few hundred milliseconds; a CLI call should not pay it), else
    trained and saved there. An unreadable or unwritable cache is ignored."""
    if cache_dir is None:
        return Perceptron.train(examples, classes)
    digest = hashlib.sha256(
        json.dumps([classes, sorted((sorted(f), label) for f, label in examples)]).encode()
    ).hexdigest()[:32]
    path = cache_dir / f"perceptron-{digest}.json"
    model = _load(path)
    if model is None:
        model = Perceptron.train(examples, classes)
        cache.write(path, model.weights)
    return model


def _load(path: Path) -> Perceptron | None:
    raw = cache.read(path)
    try:
        return Perceptron({f: {int(c): w for c, w in ws.items()} for f, ws in raw.items()})
    except (ValueError, AttributeError, TypeError):
        return None


def _averaged_run(
    examples: Sequence[Example], classes: int, epochs: int, seed: int
) -> dict[str, dict[int, float]]:
    """Averaged perceptron: mistakes move weights toward the right class and away from the
    predicted one; the average over all steps generalises better than the last."""
    order = list(examples)
    rng = random.Random(seed)
    weights: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    totals: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    step = 1
    for _ in range(epochs):
        rng.shuffle(order)
        for features, label in order:
            guess = _argmax(_scores(weights, features), classes)
            if guess != label:
                for feature in features:
                    weights[feature][label] += 1.0
                    weights[feature][guess] -= 1.0
                    totals[feature][label] += step
                    totals[feature][guess] -= step
            step += 1
    return {
        feature: {c: w - totals[feature][c] / step for c, w in by_class.items()}
        for feature, by_class in weights.items()
    }


def _scores(weights: dict[str, dict[int, float]], features: Iterable[str]) -> dict[int, float]:
    scores: dict[int, float] = defaultdict(float)
    for feature in features:
        for label, weight in weights.get(feature, {}).items():
            scores[label] += weight
    return scores


def _argmax(scores: dict[int, float], classes: int) -> int:
    """The best of all `classes` (a class no feature speaks for scores 0), lowest on ties."""
    best = _best(scores) if scores else None
    if best is not None and scores[best] > 0:
        return best
    unscored = next((c for c in range(classes) if c not in scores), None)
    if best is None or (unscored is not None and (scores[best] < 0 or unscored < best)):
        return unscored if unscored is not None else 0
    return best


def _best(scores: dict[int, float]) -> int:
    return max(scores, key=lambda label: (scores[label], -label))
