"""The store interface: what the bot keeps between requests, and the records it returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

Clock = Callable[[], float]

UNANSWERED_MAX_CHARS = 500


class StoreError(RuntimeError):
    """The store cannot be opened or used; the message names the database and the problem."""


@dataclass(frozen=True, slots=True)
class Votes:
    """Feedback totals for one entry."""

    entry_id: str
    helpful: int
    not_helpful: int


@dataclass(frozen=True, slots=True)
class Unanswered:
    """A question the bot could not answer, normalised, with how often it was asked."""

    question: str
    count: int
    last_seen: float


def clean_question(question: str) -> str:
    """The form an unanswered question is counted under: whitespace folded, length capped."""
    return " ".join(question.split())[:UNANSWERED_MAX_CHARS]


class Store(Protocol):
    """What the bot keeps between requests. Every call is async: none may block the loop."""

    async def first_time(self, key: str, ttl: float) -> bool:
        """True the first time `key` is seen within `ttl` seconds (dedupe), atomically."""

    async def hold(self, key: str, ttl: float) -> None:
        """Keep `key` seen for `ttl` seconds from now, whatever it was (renew or settle)."""

    async def held_for(self, key: str) -> float:
        """Seconds until `key` is free again (0 when it is not held)."""

    async def record_vote(self, entry_id: str, user: str, helpful: bool) -> None:
        """Store one user's vote on an entry; a second vote replaces the first."""

    async def votes(self, entry_id: str) -> Votes:
        """Totals for one entry."""

    async def record_unanswered(self, question: str) -> None:
        """Count a question the bot had no answer for."""

    async def count_unanswered(self, counts: Mapping[str, int]) -> None:
        """Add several questions' counts at once."""

    async def top_unanswered(self, limit: int = 10) -> list[Unanswered]:
        """The most asked unanswered questions."""

    async def most_downvoted(self, limit: int = 10) -> list[Votes]:
        """Entries with the most "not helpful" votes."""

    async def allow(self, key: str, limit: int, window: float) -> bool:
        """Consume one unit of `key`'s budget of `limit` per `window` seconds, if any is left."""

    async def cache_get(self, key: str) -> str | None:
        """A cached value that has not expired."""

    async def cache_put(self, key: str, value: str, ttl: float) -> None:
        """Cache `value` for `ttl` seconds."""

    async def close(self) -> None:
        """Release the connection."""
