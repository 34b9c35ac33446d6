"""The embedded store: one SQLite file (or ":memory:").

`SQLiteDB` does the work synchronously (the CLI's `report` uses it as it is); `SQLiteStore`
runs it on one worker thread, so no query ever blocks the event loop. The schema is
versioned (`PRAGMA user_version`): an older mailport file is upgraded at open, a newer or
foreign one is refused with a `StoreError` naming the file. Writers wait at most
`BUSY_SECONDS` for another process's lock, then fail (the resilient wrapper degrades).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from bot.store.base import Clock, StoreError, Unanswered, Votes, clean_question

T = TypeVar("T")

SCHEMA_VERSION = 1
BUSY_SECONDS = 0.2
PRUNE_EVERY = 60.0
PRUNE_BATCH = 10_000

_TABLES = {
    "seen": ["key", "expires"],
    "votes": ["entry_id", "user", "helpful", "at"],
    "unanswered": ["question", "count", "last_seen"],
    "hits": ["key", "at"],
    "cache": ["key", "value", "expires"],
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS seen_expires ON seen (expires);
CREATE TABLE IF NOT EXISTS votes (
    entry_id TEXT NOT NULL, user TEXT NOT NULL, helpful INTEGER NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (entry_id, user));
CREATE TABLE IF NOT EXISTS unanswered (
    question TEXT PRIMARY KEY, count INTEGER NOT NULL, last_seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hits_key_at ON hits (key, at);
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS cache_expires ON cache (expires);
"""


class SQLiteDB:
    """The SQLite schema and queries, synchronous. Calls are serialised by a lock."""

    def __init__(self, path: Path | str, clock: Clock = time.time) -> None:
        self.path = str(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._pruned = 0.0
        try:
            self._db = self._open()
        except sqlite3.Error as exc:
            raise StoreError(f"MAILPORT_DB {self.path}: {_plain(exc)}") from None
        except OSError as exc:
            raise StoreError(f"MAILPORT_DB {self.path}: {exc.strerror or exc}") from None

    def _open(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            self.path, timeout=BUSY_SECONDS, check_same_thread=False, isolation_level=None
        )
        try:
            _check_schema(db)
            if db.execute("PRAGMA journal_mode=WAL").fetchone()[0] not in ("wal", "memory"):
                raise sqlite3.OperationalError("cannot switch to WAL journal mode")
            db.execute("PRAGMA synchronous=NORMAL")
            with db:
                db.executescript(f"BEGIN; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION};")
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def first_time(self, key: str, ttl: float) -> bool:
        now = self._clock()
        with self._lock, self._db:
            self._prune(now)
            cur = self._db.execute(
                "INSERT INTO seen (key, expires) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                "SET expires = excluded.expires WHERE seen.expires < ?",
                (key, now + ttl, now),
            )
            return cur.rowcount == 1

    def hold(self, key: str, ttl: float) -> None:
        self._run(
            "INSERT OR REPLACE INTO seen (key, expires) VALUES (?, ?)", (key, self._clock() + ttl)
        )

    def held_for(self, key: str) -> float:
        rows = self._run("SELECT expires FROM seen WHERE key = ?", (key,))
        return max(0.0, rows[0][0] - self._clock()) if rows else 0.0

    def _prune(self, now: float) -> None:
        """Drop expired dedupe keys and cache rows, a bounded batch at most once a minute."""
        if now - self._pruned < PRUNE_EVERY:
            return
        self._pruned = now
        for table in ("seen", "cache"):
            self._db.execute(
                f"DELETE FROM {table} WHERE rowid IN "
                f"(SELECT rowid FROM {table} WHERE expires < ? LIMIT ?)",
                (now, PRUNE_BATCH),
            )

    def record_vote(self, entry_id: str, user: str, helpful: bool) -> None:
        self._run(
            "INSERT OR REPLACE INTO votes (entry_id, user, helpful, at) VALUES (?, ?, ?, ?)",
            (entry_id, user, int(helpful), self._clock()),
        )

    def votes(self, entry_id: str) -> Votes:
        rows = self._run(
            "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0) FROM votes "
            "WHERE entry_id = ?",
            (entry_id,),
        )
        return Votes(entry_id, rows[0][0], rows[0][1])

    def record_unanswered(self, question: str) -> None:
        self.count_unanswered({question: 1})

    def count_unanswered(self, counts: Mapping[str, int]) -> None:
        """Add each question's count, in one transaction."""
        now = self._clock()
        rows = [(text, n, now) for q, n in counts.items() if (text := clean_question(q))]
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO unanswered (question, count, last_seen) VALUES (?, ?, ?) "
                "ON CONFLICT (question) DO UPDATE "
                "SET count = count + excluded.count, last_seen = excluded.last_seen",
                rows,
            )

    def top_unanswered(self, limit: int = 10) -> list[Unanswered]:
        rows = self._run(
            "SELECT question, count, last_seen FROM unanswered "
            "ORDER BY count DESC, last_seen DESC LIMIT ?",
            (limit,),
        )
        return [Unanswered(*row) for row in rows]

    def most_downvoted(self, limit: int = 10) -> list[Votes]:
        rows = self._run(
            "SELECT entry_id, SUM(helpful), SUM(1 - helpful) AS down FROM votes "
            "GROUP BY entry_id HAVING down > 0 ORDER BY down DESC, entry_id LIMIT ?",
            (limit,),
        )
        return [Votes(*row) for row in rows]

    def allow(self, key: str, limit: int, window: float) -> bool:
        now = self._clock()
        with self._lock, self._db:
            self._db.execute("DELETE FROM hits WHERE key = ? AND at <= ?", (key, now - window))
            (used,) = self._db.execute("SELECT COUNT(*) FROM hits WHERE key = ?", (key,)).fetchone()
            if used >= limit:
                return False
            self._db.execute("INSERT INTO hits (key, at) VALUES (?, ?)", (key, now))
            return True

    def cache_get(self, key: str) -> str | None:
        rows = self._run(
            "SELECT value FROM cache WHERE key = ? AND expires > ?", (key, self._clock())
        )
        return rows[0][0] if rows else None

    def cache_put(self, key: str, value: str, ttl: float) -> None:
        self._run(
            "INSERT OR REPLACE INTO cache (key, value, expires) VALUES (?, ?, ?)",
            (key, value, self._clock() + ttl),
        )


def _check_schema(db: sqlite3.Connection) -> None:
    """Refuse a file that is not a mailport database of a version this code knows."""
    db.execute("PRAGMA quick_check").fetchall()
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"its schema is version {version}, newer than this mailport ({SCHEMA_VERSION}); "
            "upgrade mailport or point MAILPORT_DB at another file"
        )
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    foreign = sorted(tables - set(_TABLES))
    if foreign:
        raise sqlite3.DatabaseError(f"not a mailport database (it has tables {foreign[:5]})")
    for table in tables:
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
        if columns != _TABLES[table]:
            raise sqlite3.DatabaseError(f"not a mailport database (table {table} is different)")


def _plain(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "readonly" in text or "unable to open" in text:
        return f"{text} (check the file and its folder are writable)"
    if "not a database" in text or "malformed" in text:
        return f"{text} (the file is damaged or not a mailport database)"
    return text


class SQLiteStore:
    """`Store` on `SQLiteDB`, every call on one worker thread, off the event loop."""

    def __init__(self, path: Path | str, clock: Clock = time.time) -> None:
        self.db = SQLiteDB(path, clock)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailport-sqlite")
        self._closed = False

    async def _call(self, method: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, method, *args)

    async def first_time(self, key: str, ttl: float) -> bool:
        return await self._call(self.db.first_time, key, ttl)

    async def hold(self, key: str, ttl: float) -> None:
        await self._call(self.db.hold, key, ttl)

    async def held_for(self, key: str) -> float:
        return await self._call(self.db.held_for, key)

    async def record_vote(self, entry_id: str, user: str, helpful: bool) -> None:
        await self._call(self.db.record_vote, entry_id, user, helpful)

    async def votes(self, entry_id: str) -> Votes:
        return await self._call(self.db.votes, entry_id)

    async def record_unanswered(self, question: str) -> None:
        await self._call(self.db.record_unanswered, question)

    async def count_unanswered(self, counts: Mapping[str, int]) -> None:
        await self._call(self.db.count_unanswered, dict(counts))

    async def top_unanswered(self, limit: int = 10) -> list[Unanswered]:
        return await self._call(self.db.top_unanswered, limit)

    async def most_downvoted(self, limit: int = 10) -> list[Votes]:
        return await self._call(self.db.most_downvoted, limit)

    async def allow(self, key: str, limit: int, window: float) -> bool:
        return await self._call(self.db.allow, key, limit, window)

    async def cache_get(self, key: str) -> str | None:
        return await self._call(self.db.cache_get, key)

    async def cache_put(self, key: str, value: str, ttl: float) -> None:
        await self._call(self.db.cache_put, key, value, ttl)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._call(self.db.close)
            self._pool.shutdown(wait=False)
