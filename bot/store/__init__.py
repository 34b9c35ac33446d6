"""State behind one small async interface: feedback, unanswered questions, dedupe keys,
rate-limit counters and the check cache.

- `base`: the `Store` protocol and its records.
- `sqlite`: the embedded default (`MAILPORT_DB`, a file path).
- `postgres`: shared by several instances (`MAILPORT_DB`, a `postgresql://` URL).
- `memory`: bounded, per process: the fallback and the CLI's store.
- `resilient`: deadlines and the memory fallback around any store; `mailport serve` uses it.
"""

from pathlib import Path

from bot.store.base import Store, StoreError, Unanswered, Votes
from bot.store.memory import MemoryStore
from bot.store.resilient import ResilientStore
from bot.store.sqlite import SQLiteDB, SQLiteStore


async def open_store(path: Path, url: str = "", wait: bool = False) -> Store:
    """The store `MAILPORT_DB` names: the PostgreSQL server of `url` when set, else the SQLite
    file at `path`. A server that cannot be reached is retried on use, unless `wait`, when
    it raises `StoreError` like any refusal."""
    if url:
        from bot.store.postgres import PostgresStore  # asyncpg loads only when it is used

        return await PostgresStore.connect(url, lazy=not wait)
    return SQLiteStore(path)


__all__ = [
    "MemoryStore",
    "ResilientStore",
    "SQLiteDB",
    "SQLiteStore",
    "Store",
    "StoreError",
    "Unanswered",
    "Votes",
    "open_store",
]
