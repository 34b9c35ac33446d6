"""State behind one small interface: feedback, unanswered questions, dedupe keys,
rate-limit counters and the check cache. SQLite is the embedded default; another
implementation of `Store` (Redis, Postgres) lets several processes share state.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

Clock = Callable[[], float]


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


class Store(Protocol):
    """What the bot keeps between requests."""

    def first_time(self, key: str, ttl: float) -> bool:
        """True the first time `key` is seen within `ttl` seconds (event dedupe)."""

    def record_vote(self, entry_id: str, user: str, helpful: bool) -> None:
        """Store one user's vote on an entry; a second vote replaces the first."""

    def record_unanswered(self, question: str) -> None:
        """Count a question the bot had no answer for."""

    def top_unanswered(self, limit: int = 10) -> list[Unanswered]:
        """The most asked unanswered questions."""

    def most_downvoted(self, limit: int = 10) -> list[Votes]:
        """Entries with the most "not helpful" votes."""

    def allow(self, key: str, limit: int, window: float) -> bool:
        """Consume one unit of `key`'s budget of `limit` per `window` seconds, if any is left."""

    def cache_get(self, key: str) -> str | None:
        """A cached value that has not expired."""

    def cache_put(self, key: str, value: str, ttl: float) -> None:
        """Cache `value` for `ttl` seconds."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS votes (
    entry_id TEXT NOT NULL, user TEXT NOT NULL, helpful INTEGER NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (entry_id, user));
CREATE TABLE IF NOT EXISTS unanswered (
    question TEXT PRIMARY KEY, count INTEGER NOT NULL, last_seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hits_key_at ON hits (key, at);
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL);
"""

UNANSWERED_MAX_CHARS = 500


class SQLiteStore:
    """`Store` on one SQLite file (or ":memory:"). Calls are short and serialised by a lock."""

    def __init__(self, path: Path | str, clock: Clock = time.time) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._clock = clock

    def close(self) -> None:
        """Close the database file."""
        self._db.close()

    def _run(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def first_time(self, key: str, ttl: float) -> bool:
        now = self._clock()
        with self._lock, self._db:
            self._db.execute("DELETE FROM seen WHERE expires < ?", (now,))
            cur = self._db.execute(
                "INSERT OR IGNORE INTO seen (key, expires) VALUES (?, ?)", (key, now + ttl)
            )
            return cur.rowcount == 1

    def record_vote(self, entry_id: str, user: str, helpful: bool) -> None:
        self._run(
            "INSERT OR REPLACE INTO votes (entry_id, user, helpful, at) VALUES (?, ?, ?, ?)",
            (entry_id, user, int(helpful), self._clock()),
        )

    def votes(self, entry_id: str) -> Votes:
        """Totals for one entry."""
        rows = self._run(
            "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0) FROM votes "
            "WHERE entry_id = ?",
            (entry_id,),
        )
        return Votes(entry_id, rows[0][0], rows[0][1])

    def record_unanswered(self, question: str) -> None:
        text = " ".join(question.split())[:UNANSWERED_MAX_CHARS]
        if not text:
            return
        self._run(
            "INSERT INTO unanswered (question, count, last_seen) VALUES (?, 1, ?) "
            "ON CONFLICT (question) DO UPDATE "
            "SET count = count + 1, last_seen = excluded.last_seen",
            (text, self._clock()),
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
        now = self._clock()
        with self._lock, self._db:
            self._db.execute("DELETE FROM cache WHERE expires <= ?", (now,))
            self._db.execute(
                "INSERT OR REPLACE INTO cache (key, value, expires) VALUES (?, ?, ?)",
                (key, value, now + ttl),
            )
