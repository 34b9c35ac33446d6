"""A `Store` in this process's memory, bounded: the fallback while the database is away, and
the store of a CLI check. Nothing in it survives a restart or is shared with another process.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Mapping

from bot.store.base import Clock, Unanswered, Votes, clean_question

MAX_KEYS = 200_000


class MemoryStore:
    """`Store` in dictionaries; each table keeps at most `max_keys` keys (oldest dropped)."""

    def __init__(self, clock: Clock = time.time, max_keys: int = MAX_KEYS) -> None:
        self._clock = clock
        self._max = max_keys
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._cache: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._votes: dict[tuple[str, str], bool] = {}
        self._unanswered: dict[str, Unanswered] = {}

    def seen(self, key: str, ttl: float) -> bool:
        """`first_time`, synchronously (it never waits)."""
        now = self._clock()
        expires = self._seen.get(key)
        if expires is not None and expires >= now:
            return False
        self._seen[key] = now + ttl
        self._seen.move_to_end(key)
        self._trim(self._seen)
        return True

    async def first_time(self, key: str, ttl: float) -> bool:
        return self.seen(key, ttl)

    def keep(self, key: str, ttl: float) -> None:
        """`hold`, synchronously."""
        self._seen[key] = self._clock() + ttl
        self._seen.move_to_end(key)
        self._trim(self._seen)

    async def hold(self, key: str, ttl: float) -> None:
        self.keep(key, ttl)

    def left(self, key: str) -> float:
        """`held_for`, synchronously."""
        return max(0.0, self._seen.get(key, 0.0) - self._clock())

    async def held_for(self, key: str) -> float:
        return self.left(key)

    async def record_vote(self, entry_id: str, user: str, helpful: bool) -> None:
        self._votes[(entry_id, user)] = helpful

    async def votes(self, entry_id: str) -> Votes:
        marks = [v for (entry, _), v in self._votes.items() if entry == entry_id]
        return Votes(entry_id, sum(marks), len(marks) - sum(marks))

    async def record_unanswered(self, question: str) -> None:
        await self.count_unanswered({question: 1})

    async def count_unanswered(self, counts: Mapping[str, int]) -> None:
        for question, count in counts.items():
            text = clean_question(question)
            if text:
                old = self._unanswered.get(text)
                total = (old.count if old else 0) + count
                self._unanswered[text] = Unanswered(text, total, self._clock())

    async def top_unanswered(self, limit: int = 10) -> list[Unanswered]:
        rows = sorted(self._unanswered.values(), key=lambda u: (-u.count, -u.last_seen))
        return rows[: max(limit, 0)]

    async def most_downvoted(self, limit: int = 10) -> list[Votes]:
        entries = sorted({entry for entry, _ in self._votes})
        totals = [await self.votes(entry) for entry in entries]
        down = sorted((v for v in totals if v.not_helpful), key=lambda v: -v.not_helpful)
        return down[: max(limit, 0)]

    async def allow(self, key: str, limit: int, window: float) -> bool:
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        self._hits.move_to_end(key)
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            return False
        hits.append(now)
        self._trim(self._hits)
        return True

    async def cache_get(self, key: str) -> str | None:
        found = self._cache.get(key)
        return found[0] if found and found[1] > self._clock() else None

    async def cache_put(self, key: str, value: str, ttl: float) -> None:
        self._cache[key] = (value, self._clock() + ttl)
        self._cache.move_to_end(key)
        self._trim(self._cache)

    async def close(self) -> None:
        """Nothing to release."""

    def _trim(self, table: OrderedDict) -> None:  # type: ignore[type-arg]
        while len(table) > self._max:
            table.popitem(last=False)
