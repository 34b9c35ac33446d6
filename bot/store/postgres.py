"""The shared store: one PostgreSQL database behind several mailport instances
(`MAILPORT_DB=postgresql://user:password@host:port/db`).

- asyncpg, a bounded pool with short connect and statement timeouts: nothing blocks the loop.
- Every operation is one statement, atomic however many instances run it at once: dedupe and
  cache are `INSERT ... ON CONFLICT`, a rate limit is one upsert of the key's recent
  timestamps that succeeds only while fewer than `limit` remain in the window, unanswered
  counts are one sorted multi-row upsert (two instances never lock rows in opposite orders).
- The schema is versioned (`mailport_schema`) and created or upgraded at start inside a
  transaction holding an advisory lock, so instances starting together do not race; a newer
  version is refused with one line. Tables are prefixed `mailport_`: the database may be shared.
- If the server cannot be reached at start, the store opens anyway and connects on first use
  (the resilient wrapper answers without it meanwhile); a wrong password, a missing database
  or a newer schema are refused at once. Messages never show the password.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.store.base import Clock, StoreError, Unanswered, Votes, clean_question

log = logging.getLogger("mailport.store")

SCHEMA_VERSION = 1
POOL_MIN = 0
POOL_MAX = 10
CONNECT_SECONDS = 3.0
STATEMENT_SECONDS = 2.0
PRUNE_EVERY = 60.0
PRUNE_BATCH = 10_000
SCHEMA_LOCK = 0x6D61696C706F7274  # "mailport": the advisory lock that serialises upgrades

_MIGRATIONS = {
    1: """
CREATE TABLE mailport_seen (key text PRIMARY KEY, expires double precision NOT NULL);
CREATE INDEX mailport_seen_expires ON mailport_seen (expires);
CREATE TABLE mailport_votes (
    entry_id text NOT NULL, user_id text NOT NULL, helpful boolean NOT NULL,
    at double precision NOT NULL, PRIMARY KEY (entry_id, user_id));
CREATE TABLE mailport_unanswered (
    question text PRIMARY KEY, count bigint NOT NULL, last_seen double precision NOT NULL);
CREATE INDEX mailport_unanswered_top ON mailport_unanswered (count DESC, last_seen DESC);
CREATE TABLE mailport_budgets (
    key text PRIMARY KEY, stamps double precision[] NOT NULL, until double precision NOT NULL);
CREATE INDEX mailport_budgets_until ON mailport_budgets (until);
CREATE TABLE mailport_cache (
    key text PRIMARY KEY, value text NOT NULL, expires double precision NOT NULL);
CREATE INDEX mailport_cache_expires ON mailport_cache (expires);
""",
}

_FIRST_TIME = """
INSERT INTO mailport_seen AS s (key, expires) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE
SET expires = EXCLUDED.expires WHERE s.expires < $3 RETURNING 1"""

_ALLOW = """
INSERT INTO mailport_budgets AS b (key, stamps, until)
VALUES ($1, ARRAY[$2::float8], $2::float8 + $4::float8)
ON CONFLICT (key) DO UPDATE
SET stamps = array_append(
        ARRAY(SELECT t FROM unnest(b.stamps) AS t WHERE t > $2::float8 - $4::float8), $2::float8),
    until = $2::float8 + $4::float8
WHERE (SELECT count(*) FROM unnest(b.stamps) AS t WHERE t > $2::float8 - $4::float8) < $3::int
RETURNING 1"""

_COUNT_UNANSWERED = """
INSERT INTO mailport_unanswered AS u (question, count, last_seen)
SELECT q, n, $3 FROM unnest($1::text[], $2::bigint[]) AS t(q, n)
ON CONFLICT (question) DO UPDATE
SET count = u.count + EXCLUDED.count, last_seen = EXCLUDED.last_seen"""

_VOTES = """
SELECT count(*) FILTER (WHERE helpful), count(*) FILTER (WHERE NOT helpful)
FROM mailport_votes WHERE entry_id = $1"""

_DOWNVOTED = """
SELECT entry_id, count(*) FILTER (WHERE helpful) AS up, count(*) FILTER (WHERE NOT helpful) AS down
FROM mailport_votes GROUP BY entry_id HAVING count(*) FILTER (WHERE NOT helpful) > 0
ORDER BY down DESC, entry_id LIMIT $1"""

_PRUNE = """
DELETE FROM {table} WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM {table} WHERE {column} < $1 LIMIT $2))"""

_REFUSED = (
    asyncpg.InvalidPasswordError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
    asyncpg.InsufficientPrivilegeError,
)


def redacted(url: str) -> str:
    """`url` with its password replaced by `***`, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class PostgresStore:
    """`Store` on a PostgreSQL database shared by every instance. Open with `connect`."""

    def __init__(self, url: str, clock: Clock = time.time, pool_max: int = POOL_MAX) -> None:
        self.url = url
        self.pool_max = pool_max
        self._clock = clock
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Task[asyncpg.Pool] | None = None
        self._pruned = 0.0

    @classmethod
    async def connect(cls, url: str, clock: Clock = time.time, lazy: bool = True) -> PostgresStore:
        """Open the pool and create or upgrade the schema. A server that cannot be reached
        is logged and retried on first use (with `lazy`; else `StoreError`); anything it
        refuses raises `StoreError`."""
        store = cls(url, clock)
        try:
            await store._ready()
        except StoreError:
            raise
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            if not lazy:
                raise StoreError(f"MAILPORT_DB {redacted(url)}: {_reason(exc)}") from None
            log.error(
                "store %s unreachable at start (%s): starting without it, retrying on use",
                redacted(url),
                _reason(exc),
            )
        return store

    async def _ready(self) -> asyncpg.Pool:
        """The pool, opened (once, whoever asks first) with the schema checked."""
        if self._pool is not None:
            return self._pool
        if self._opening is None or self._opening.done():
            self._opening = asyncio.get_running_loop().create_task(self._open())
        try:
            self._pool = await asyncio.shield(self._opening)
        except _REFUSED as exc:
            raise StoreError(f"MAILPORT_DB {redacted(self.url)}: {_reason(exc)}") from None
        return self._pool

    async def _open(self) -> asyncpg.Pool:
        pool = await asyncpg.create_pool(
            self.url,
            min_size=POOL_MIN,
            max_size=self.pool_max,
            timeout=CONNECT_SECONDS,
            command_timeout=STATEMENT_SECONDS,
        )
        try:
            async with pool.acquire() as db:
                await _upgrade(db, redacted(self.url))
        except BaseException:
            await pool.close()
            raise
        return pool

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        pool = await self._ready()
        rows: list[asyncpg.Record] = await pool.fetch(sql, *args)
        return rows

    async def first_time(self, key: str, ttl: float) -> bool:
        now = self._clock()
        await self._prune(now)
        return bool(await self._fetch(_FIRST_TIME, key, now + ttl, now))

    async def hold(self, key: str, ttl: float) -> None:
        await self._fetch(
            "INSERT INTO mailport_seen (key, expires) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET expires = EXCLUDED.expires",
            key,
            self._clock() + ttl,
        )

    async def held_for(self, key: str) -> float:
        rows = await self._fetch("SELECT expires FROM mailport_seen WHERE key = $1", key)
        return max(0.0, float(rows[0][0]) - self._clock()) if rows else 0.0

    async def _prune(self, now: float) -> None:
        """Drop expired dedupe keys, cache rows and idle budgets: a bounded batch of each,
        at most once a minute per instance."""
        if now - self._pruned < PRUNE_EVERY:
            return
        self._pruned = now
        for table, column in (
            ("mailport_seen", "expires"),
            ("mailport_cache", "expires"),
            ("mailport_budgets", "until"),
        ):
            await self._fetch(_PRUNE.format(table=table, column=column), now, PRUNE_BATCH)

    async def record_vote(self, entry_id: str, user: str, helpful: bool) -> None:
        await self._fetch(
            "INSERT INTO mailport_votes (entry_id, user_id, helpful, at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (entry_id, user_id) DO UPDATE "
            "SET helpful = EXCLUDED.helpful, at = EXCLUDED.at",
            entry_id,
            user,
            helpful,
            self._clock(),
        )

    async def votes(self, entry_id: str) -> Votes:
        (row,) = await self._fetch(_VOTES, entry_id)
        return Votes(entry_id, row[0], row[1])

    async def record_unanswered(self, question: str) -> None:
        await self.count_unanswered({question: 1})

    async def count_unanswered(self, counts: Mapping[str, int]) -> None:
        """Add each question's count in one statement, rows in a fixed order."""
        merged: Counter[str] = Counter()
        for question, n in counts.items():
            if text := clean_question(question):
                merged[text] += n
        if merged:
            questions = sorted(merged)
            await self._fetch(
                _COUNT_UNANSWERED, questions, [merged[q] for q in questions], self._clock()
            )

    async def top_unanswered(self, limit: int = 10) -> list[Unanswered]:
        rows = await self._fetch(
            "SELECT question, count, last_seen FROM mailport_unanswered "
            "ORDER BY count DESC, last_seen DESC LIMIT $1",
            limit,
        )
        return [Unanswered(*row) for row in rows]

    async def most_downvoted(self, limit: int = 10) -> list[Votes]:
        return [Votes(*row) for row in await self._fetch(_DOWNVOTED, limit)]

    async def allow(self, key: str, limit: int, window: float) -> bool:
        if limit <= 0:
            return False
        return bool(await self._fetch(_ALLOW, key, self._clock(), limit, window))

    async def cache_get(self, key: str) -> str | None:
        rows = await self._fetch(
            "SELECT value FROM mailport_cache WHERE key = $1 AND expires > $2", key, self._clock()
        )
        return str(rows[0][0]) if rows else None

    async def cache_put(self, key: str, value: str, ttl: float) -> None:
        await self._fetch(
            "INSERT INTO mailport_cache (key, value, expires) VALUES ($1, $2, $3) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires = EXCLUDED.expires",
            key,
            value,
            self._clock() + ttl,
        )

    async def close(self) -> None:
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


async def _upgrade(db: asyncpg.pool.PoolConnectionProxy[asyncpg.Record], name: str) -> None:
    """Create or upgrade the schema to `SCHEMA_VERSION`, one instance at a time."""
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK)
        await db.execute("CREATE TABLE IF NOT EXISTS mailport_schema (version integer NOT NULL)")
        version = await db.fetchval("SELECT COALESCE(max(version), 0) FROM mailport_schema")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"MAILPORT_DB {name}: its schema is version {version}, newer than this mailport "
                f"({SCHEMA_VERSION}); upgrade mailport or point MAILPORT_DB at another database"
            )
        for step in range(version + 1, SCHEMA_VERSION + 1):
            await db.execute(_MIGRATIONS[step])
            await db.execute("INSERT INTO mailport_schema (version) VALUES ($1)", step)


def _reason(exc: BaseException) -> str:
    """One line on why the database failed, whatever raised it."""
    text = " ".join(str(exc).split())[:200]
    return text or type(exc).__name__
