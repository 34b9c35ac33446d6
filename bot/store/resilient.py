"""A store that never stalls or fails the bot: every call has a deadline, and while the
database is away (locked, down, timing out) the bot goes on without it.

- Dedupe and rate limits are always kept in memory too, so an outage never lets a retry be
  answered twice by this process; when the database answers, its (shared) verdict wins.
- The check cache falls back to memory; votes and unanswered questions are not recorded.
- Unanswered questions are tallied here and written together every `FLUSH_SECONDS`, so a
  burst of them costs the database one call a second, and costs the request nothing.
- After a failure the database is left alone for `RETRY_SECONDS`, so calls do not queue
  behind a stuck one; then the next call tries it again, and recovery is automatic.
- One log line when the store goes, one a minute while it stays away, one when it is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from bot.store.base import Store, Unanswered, Votes
from bot.store.memory import MemoryStore

T = TypeVar("T")

log = logging.getLogger("mailport.store")

CALL_SECONDS = 0.5
PATIENT_SECONDS = 3.0
"""The deadline of the lease calls made after the ack (`patient()`, for bot.slack.once): a
busy event loop (a burst of events) makes a healthy database look slow, and a lease call that
gives up falls back to this process's memory, which lets another instance answer the same
message too. Calls before the ack (the replay check) keep CALL_SECONDS."""
FLUSH_SECONDS = 1.0
RETRY_SECONDS = 2.0
LOG_EVERY = 60.0


class ResilientStore:
    """`Store` around another `Store`: a deadline per call and a memory fallback."""

    def __init__(
        self,
        store: Store,
        timeout: float = CALL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.store = store
        self.flush_seconds = flush_seconds
        self.memory = MemoryStore()
        self.timeout = timeout
        self._clock = clock
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._logged_at = 0.0
        self.skipped = 0
        self._tally: Counter[str] = Counter()
        self._flusher: asyncio.Task[None] | None = None

    def patient(self) -> Patient:
        """This store's lease calls with PATIENT_SECONDS, for work that runs after the ack."""
        return Patient(self, max(self.timeout, PATIENT_SECONDS))

    @property
    def health(self) -> str:
        """`ok`, or `degraded` while the database is away."""
        return "ok" if self._down_since is None else "degraded"

    async def _try(
        self, call: Callable[[], Awaitable[T]], fallback: T, timeout: float | None = None
    ) -> T:
        """`call()` within the deadline (`timeout`, else the store's), or `fallback` when the
        database is away. A call with its own `timeout` (a patient one) asks the database even
        while others leave it alone: one slow call before an ack must not make every answer
        lease fall back to memory."""
        now = self._clock()
        if timeout is None and self._down_since is not None and now < self._retry_at:
            self._skip(now)
            return fallback
        try:
            result = await asyncio.wait_for(call(), timeout or self.timeout)
        except Exception as exc:  # any failure of the database, whatever its driver raises
            self._failed(now, exc)
            return fallback
        if self._down_since is not None:
            log.warning(
                "store is back after %.0f s (%d operations went without it)",
                now - self._down_since,
                self.skipped,
            )
            self._down_since, self.skipped = None, 0
        return result

    def _failed(self, now: float, exc: Exception) -> None:
        self._retry_at = now + RETRY_SECONDS
        reason = str(exc)[:200] or type(exc).__name__
        if self._down_since is None:
            self._down_since, self._logged_at, self.skipped = now, now, 1
            log.error(
                "store unavailable (%s): answering without recording; dedupe and rate "
                "limits in memory until it is back",
                reason,
            )
        else:
            self._skip(now, reason)

    def _skip(self, now: float, reason: str = "still failing") -> None:
        self.skipped += 1
        if now - self._logged_at >= LOG_EVERY:
            self._logged_at = now
            log.error(
                "store still unavailable (%s); %d operations without it", reason, self.skipped
            )

    async def first_time(self, key: str, ttl: float, timeout: float | None = None) -> bool:
        fresh_here = self.memory.seen(key, ttl)
        shared = await self._try(lambda: self.store.first_time(key, ttl), fresh_here, timeout)
        return shared and fresh_here

    async def hold(self, key: str, ttl: float, timeout: float | None = None) -> None:
        self.memory.keep(key, ttl)
        await self._try(lambda: self.store.hold(key, ttl), None, timeout)

    async def held_for(self, key: str, timeout: float | None = None) -> float:
        return await self._try(lambda: self.store.held_for(key), self.memory.left(key), timeout)

    async def record_vote(self, entry_id: str, user: str, helpful: bool) -> None:
        await self._try(lambda: self.store.record_vote(entry_id, user, helpful), None)

    async def votes(self, entry_id: str) -> Votes:
        return await self._try(lambda: self.store.votes(entry_id), Votes(entry_id, 0, 0))

    def note_unanswered(self, question: str) -> None:
        """Count a question the bot had no answer for, without waiting (written within
        `flush_seconds`)."""
        self._tally[question] += 1
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self.flush_seconds)
        self._flusher = None
        await self.flush()

    async def flush(self) -> None:
        """Write the unanswered questions tallied so far."""
        tally, self._tally = self._tally, Counter()
        if tally:
            await self.count_unanswered(tally)

    async def record_unanswered(self, question: str) -> None:
        await self._try(lambda: self.store.record_unanswered(question), None)

    async def count_unanswered(self, counts: Mapping[str, int]) -> None:
        await self._try(lambda: self.store.count_unanswered(counts), None)

    async def top_unanswered(self, limit: int = 10) -> list[Unanswered]:
        await self.flush()
        return await self._try(lambda: self.store.top_unanswered(limit), [])

    async def most_downvoted(self, limit: int = 10) -> list[Votes]:
        return await self._try(lambda: self.store.most_downvoted(limit), [])

    async def allow(self, key: str, limit: int, window: float) -> bool:
        here = await self.memory.allow(key, limit, window)
        return await self._try(lambda: self.store.allow(key, limit, window), here)

    async def cache_get(self, key: str) -> str | None:
        here = await self.memory.cache_get(key)
        found = await self._try(lambda: self.store.cache_get(key), here)
        return found if found is not None else here

    async def cache_put(self, key: str, value: str, ttl: float) -> None:
        await self.memory.cache_put(key, value, ttl)
        await self._try(lambda: self.store.cache_put(key, value, ttl), None)

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
        await self.flush()
        await self._try(self.store.close, None)


class Patient:
    """A ResilientStore's lease calls (`first_time`, `hold`, `held_for`) with a longer
    deadline, sharing its memory and its view of the database's health."""

    def __init__(self, store: ResilientStore, timeout: float) -> None:
        self._store = store
        self._timeout = timeout

    async def first_time(self, key: str, ttl: float) -> bool:
        return await self._store.first_time(key, ttl, self._timeout)

    async def hold(self, key: str, ttl: float) -> None:
        await self._store.hold(key, ttl, self._timeout)

    async def held_for(self, key: str) -> float:
        return await self._store.held_for(key, self._timeout)
