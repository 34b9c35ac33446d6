"""State behind one small async interface: feedback, unanswered questions, dedupe keys,
rate-limit counters and the check cache.

- `base`: the `Store` protocol and its records.
- `sqlite`: the embedded default (`MAILPORT_DB`, a file path).
- `memory`: bounded, per process: the fallback and the CLI's store.
- `resilient`: deadlines and the memory fallback around any store; `mailport serve` uses it.
"""

from bot.store.base import Store, StoreError, Unanswered, Votes
from bot.store.memory import MemoryStore
from bot.store.resilient import ResilientStore
from bot.store.sqlite import SQLiteDB, SQLiteStore

__all__ = [
    "MemoryStore",
    "ResilientStore",
    "SQLiteDB",
    "SQLiteStore",
    "Store",
    "StoreError",
    "Unanswered",
    "Votes",
]
