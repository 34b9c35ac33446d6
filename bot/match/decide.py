"""The matcher's last phase: answer, or not, from how the ranking looks.

A logistic model gives the probability that the top-ranked entry is the right one from a
handful of signals of the ranking (its score, its lead, whether the second opinion agrees,
whether the question's port or protocol anchors it, how much of the question is unknown to
the base...). Its weights are fitted to the knowledge base by cross-validation
(`bot/match/fit.py`); the matcher answers when the probability reaches `ANSWER_PROBABILITY`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

FEATURES = (
    "score",  # the top entry's score, 0-1
    "lead",  # its lead over the runner-up, 0-1
    "agreed",  # the second opinion prefers it
    "disputed",  # the second opinion prefers another entry
    "port_anchored",  # it is about a port the question names
    "anchored",  # it shares a protocol word (smtp, imap, starttls...) with the question
    "related",  # the runner-up is one of its related entries
    "off_settings",  # a provider's settings entry, and the question is not about mail settings
    "phrase",  # its nearest phrasing's rapidfuzz score, 0-1
    "cosine",  # its TF-IDF cosine with the question, 0-1
    "unknown",  # share of the question's terms the base has never seen
    "subject_named",  # the question names the subject the entry is about
    "other_subject",  # the question names another subject, none of the entry's
    "lead_score",  # lead times score: a lead counts only where the score is decent
    "terms",  # how many terms the question has, over 10 (at most 1)
    "port_lead",  # the lead when the entry is about the question's port and both opinions agree
    "size",  # how many phrasings the entry has (log, 1 at 100): few phrasings score lower
    "evidence",  # summed IDF of the question's terms the entry knows, over 10 (at most 1)
)
_SCORE, _LEAD, _PORT_ANCHORED, _OFF_SETTINGS = (
    FEATURES.index(name) for name in ("score", "lead", "port_anchored", "off_settings")
)
ANSWER_PROBABILITY = 0.45
"""Answer when P(the top entry is right) is at least this. The fitted model is calibrated on
held-out phrasings, which lose a quarter of their entry's phrasings to the fold; 0.45 rather
than an even 0.5 is the one value here set by measuring question sets (README, "How matching
works")."""
RIDGE = 30.0  # L2 penalty on the standardised weights
SCORE_FLOOR = 0.32  # below this top score nothing is answered (unless it is about the port)
EXACT = 0.97  # a phrasing matched this closely is the entry, whatever else scores
CLOSE = 0.03  # a runner-up this close to the top score makes a "did you mean"
NEWTON_STEPS = 25


@dataclass(frozen=True, slots=True)
class Decider:
    """Fitted weights over standardised `FEATURES`."""

    weights: tuple[float, ...]
    bias: float
    means: tuple[float, ...]
    scales: tuple[float, ...]

    def probability(self, features: Sequence[float]) -> float:
        """P(the top entry is right) for one ranking's features."""
        z = self.bias + sum(
            w * (x - m) / s
            for w, x, m, s in zip(self.weights, features, self.means, self.scales, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def sure(self, features: Sequence[float]) -> bool:
        """Answer: the top entry scores at least `SCORE_FLOOR` (unless it is about the
        question's port), leads by `CLOSE`, is not a provider's settings entry asked about
        something else ("gmail calendar settings"), and is right with `ANSWER_PROBABILITY`."""
        return features[_LEAD] >= CLOSE and self.sure_but_tied(features)

    def sure_but_tied(self, features: Sequence[float]) -> bool:
        """`sure`, whatever the top entry's lead: for a tie the question's subject breaks."""
        if features[_OFF_SETTINGS]:
            return False
        if features[_SCORE] < SCORE_FLOOR and not features[_PORT_ANCHORED]:
            return False
        return self.probability(features) >= ANSWER_PROBABILITY

    def as_json(self) -> dict[str, object]:
        return {
            "features": list(FEATURES),
            "weights": list(self.weights),
            "bias": self.bias,
            "means": list(self.means),
            "scales": list(self.scales),
        }

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> Decider | None:
        """The decider saved by `as_json`, or None when it was fitted on other features."""
        if raw.get("features") != list(FEATURES):
            return None
        floats = {k: [float(v) for v in raw[k]] for k in ("weights", "means", "scales")}  # type: ignore[attr-defined]
        return cls(
            tuple(floats["weights"]),
            float(raw["bias"]),  # type: ignore[arg-type]
            tuple(floats["means"]),
            tuple(floats["scales"]),
        )


NEVER = Decider((0.0,) * len(FEATURES), -100.0, (0.0,) * len(FEATURES), (1.0,) * len(FEATURES))
"""A decider that never answers: for matchers whose ranking alone is used."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One held-out question: its ranking's features, whether the top entry was right (for
    an out-of-scope example, every answer is wrong), and its weight in the fit."""

    features: tuple[float, ...]
    right: bool
    weight: float = 1.0


def fit(samples: Sequence[Sample]) -> Decider:
    """Fit the weights: weighted ridge logistic regression by Newton's method."""
    means, scales = _standardisation(samples)
    rows = [
        [(x - m) / s for x, m, s in zip(t.features, means, scales, strict=True)] for t in samples
    ]
    weights = _newton(rows, [1.0 if t.right else 0.0 for t in samples], [t.weight for t in samples])
    return Decider(tuple(weights[1:]), weights[0], means, scales)


def exactly(top: float, runner_up: float) -> bool:
    """The top entry (scores out of 100) matched a phrasing exactly, and it alone did: two
    exact matches are a "did you mean"."""
    return top >= 100 * EXACT > runner_up


def _standardisation(samples: Sequence[Sample]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if not samples:
        return (0.0,) * len(FEATURES), (1.0,) * len(FEATURES)
    columns = list(zip(*(s.features for s in samples), strict=True))
    means = tuple(sum(c) / len(samples) for c in columns)
    scales = tuple(
        math.sqrt(sum((x - m) ** 2 for x in c) / len(samples)) or 1.0
        for c, m in zip(columns, means, strict=True)
    )
    return means, scales


def _newton(rows: list[list[float]], labels: list[float], weights: list[float]) -> list[float]:
    """Weighted ridge logistic regression by Newton's method: [bias, w1, ..., wk]."""
    k = len(FEATURES) + 1
    beta = [0.0] * k
    for _ in range(NEWTON_STEPS):
        gradient = [0.0] * k
        hessian = [[0.0] * k for _ in range(k)]
        for row, y, c in zip(rows, labels, weights, strict=True):
            x = [1.0, *row]
            z = sum(b * v for b, v in zip(beta, x, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            w = c * p * (1.0 - p)
            for i in range(k):
                gradient[i] += c * (y - p) * x[i]
                xi = w * x[i]
                for j in range(i, k):
                    hessian[i][j] += xi * x[j]
        for i in range(1, k):
            gradient[i] -= RIDGE * beta[i]
            hessian[i][i] += RIDGE
        for i in range(k):
            for j in range(i):
                hessian[i][j] = hessian[j][i]
        step = _solve(hessian, gradient)
        beta = [b + s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-6:
            break
    return beta


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Solve matrix @ x = vector (symmetric positive definite) by Gaussian elimination."""
    n = len(vector)
    a = [[*row, v] for row, v in zip(matrix, vector, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        if abs(a[col][col]) < 1e-12:
            continue
        for r in range(n):
            if r != col:
                factor = a[r][col] / a[col][col]
                a[r] = [x - factor * y for x, y in zip(a[r], a[col], strict=True)]
    return [a[i][n] / a[i][i] if abs(a[i][i]) >= 1e-12 else 0.0 for i in range(n)]
