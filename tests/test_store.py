"""The stores: the same behaviour from SQLite, PostgreSQL and memory; SQLite's schema and faults
(PostgreSQL's own are in test_store_postgres.py)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.store import (
    MemoryStore,
    ResilientStore,
    SQLiteDB,
    SQLiteStore,
    Store,
    StoreError,
)
from bot.store.postgres import PostgresStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "postgres", "memory"])
async def store(request, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    made: Store
    if request.param == "sqlite":
        made = SQLiteStore(tmp_path / "sub" / "mailport.db", clock=clock)
    elif request.param == "postgres":
        server = request.getfixturevalue("postgres")
        made = await PostgresStore.connect(server.new_database(), clock=clock)
    else:
        made = MemoryStore(clock=clock)
    yield made
    await made.close()


async def test_first_time_dedupes_until_expiry(store: Store, clock: FakeClock) -> None:
    assert await store.first_time("Ev1", ttl=60)
    assert not await store.first_time("Ev1", ttl=60)
    assert await store.first_time("Ev2", ttl=60)
    clock.now += 61
    assert await store.first_time("Ev1", ttl=60)
    assert not await store.first_time("Ev1", ttl=60)


async def test_votes_replace_per_user(store: Store) -> None:
    await store.record_vote("port-25", "U1", helpful=True)
    await store.record_vote("port-25", "U1", helpful=False)
    await store.record_vote("port-25", "U2", helpful=False)
    await store.record_vote("port-465", "U1", helpful=False)
    await store.record_vote("port-587", "U1", helpful=True)
    votes = await store.votes("port-25")
    assert (votes.helpful, votes.not_helpful) == (0, 2)
    assert [v.entry_id for v in await store.most_downvoted()] == ["port-25", "port-465"]


async def test_unanswered_counts(store: Store) -> None:
    for question in ["where is parking", "where  is parking", "lunch?", "", "   "]:
        await store.record_unanswered(question)
    top = await store.top_unanswered()
    assert [(u.question, u.count) for u in top] == [("where is parking", 2), ("lunch?", 1)]


async def test_rate_limit_window(store: Store, clock: FakeClock) -> None:
    assert [await store.allow("U1", limit=2, window=10) for _ in range(3)] == [True, True, False]
    assert await store.allow("U2", limit=2, window=10)
    clock.now += 10.5
    assert await store.allow("U1", limit=2, window=10)


async def test_cache_expires(store: Store, clock: FakeClock) -> None:
    await store.cache_put("mx.example.com:25", '{"ok": true}', ttl=5)
    assert await store.cache_get("mx.example.com:25") == '{"ok": true}'
    clock.now += 6
    assert await store.cache_get("mx.example.com:25") is None


async def test_state_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    first = SQLiteStore(path)
    await first.record_vote("port-25", "U1", helpful=False)
    await first.close()
    again = SQLiteStore(path)
    assert (await again.votes("port-25")).not_helpful == 1
    await again.close()


def test_dedupe_cost_does_not_grow_with_the_table(tmp_path: Path, clock: FakeClock) -> None:
    """The query plan for dedupe and pruning uses indexes, never a scan of `seen`."""
    db = SQLiteDB(tmp_path / "m.db", clock=clock)
    plans = [
        " ".join(str(row) for row in db._db.execute(f"EXPLAIN QUERY PLAN {sql}", args))
        for sql, args in [
            ("SELECT rowid FROM seen WHERE expires < ? LIMIT 10", (1.0,)),
            ("SELECT 1 FROM seen WHERE key = ?", ("k",)),
            ("SELECT rowid FROM cache WHERE expires < ? LIMIT 10", (1.0,)),
        ]
    ]
    assert all("USING" in plan and "SCAN" not in plan for plan in plans), plans
    db.close()


def test_expired_keys_are_pruned_in_batches(tmp_path: Path, clock: FakeClock) -> None:
    db = SQLiteDB(tmp_path / "m.db", clock=clock)
    for i in range(50):
        assert db.first_time(f"k{i}", ttl=10)
    clock.now += 100
    assert db.first_time("new", ttl=10)
    assert db._run("SELECT COUNT(*) FROM seen") == [(1,)]
    db.close()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: p.write_bytes(b"this is no database" * 100), "not a database"),
        (lambda p: _truncated(p), "malformed"),
        (lambda p: _foreign(p), "not a mailport database"),
        (lambda p: _newer(p), "newer than this mailport"),
    ],
    ids=["junk", "truncated", "foreign", "newer"],
)
def test_bad_files_are_refused_at_open(tmp_path: Path, make, says: str) -> None:
    path = tmp_path / "m.db"
    make(path)
    with pytest.raises(StoreError, match=says) as raised:
        SQLiteDB(path)
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)


def test_read_only_file_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    SQLiteDB(path).close()
    with read_only(path), pytest.raises(StoreError, match="writable"):
        SQLiteDB(path)


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make `path` unwritable, for root too (which ignores file modes: `chattr +i`)."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        return
    path.chmod(0o444)
    try:
        yield
    finally:
        path.chmod(0o644)


def test_an_older_mailport_file_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE seen (key TEXT PRIMARY KEY, expires REAL NOT NULL);"
        "CREATE TABLE votes (entry_id TEXT NOT NULL, user TEXT NOT NULL,"
        " helpful INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY (entry_id, user));"
        "INSERT INTO votes VALUES ('port-25', 'U1', 0, 1.0);"
    )
    old.close()
    db = SQLiteDB(path)
    assert db.votes("port-25").not_helpful == 1
    assert db._run("PRAGMA user_version") == [(1,)]
    assert db._run("SELECT name FROM sqlite_master WHERE name = 'seen_expires'")
    db.close()


def _truncated(path: Path) -> None:
    db = SQLiteDB(path)
    for i in range(2000):
        db.record_unanswered(f"question number {i} " * 5)
    db.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        extra.unlink(missing_ok=True)


def _foreign(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    db.close()


def _newer(path: Path) -> None:
    SQLiteDB(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()


class CountingStore(MemoryStore):
    """A store that counts how often the unanswered tally reaches it, and can fail."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.down = False

    async def count_unanswered(self, counts: Mapping[str, int]) -> None:
        self.calls += 1
        if self.down:
            raise ConnectionError("database is down")
        await super().count_unanswered(counts)

    async def first_time(self, key: str, ttl: float) -> bool:
        if self.down:
            raise ConnectionError("database is down")
        return await super().first_time(key, ttl)


async def test_unanswered_questions_reach_the_store_in_one_call() -> None:
    inner = CountingStore()
    store = ResilientStore(inner, flush_seconds=0.05)
    for i in range(300):
        store.note_unanswered(f"question {i % 3}")
    await asyncio.sleep(0.15)
    assert inner.calls == 1
    assert [u.count for u in await inner.top_unanswered()] == [100, 100, 100]
    store.note_unanswered("last one")
    await store.close()
    assert [u.question for u in await inner.top_unanswered()][-1] == "last one"


async def test_an_outage_falls_back_to_memory_and_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    inner = CountingStore()
    store = ResilientStore(inner, clock=clock)
    assert await store.first_time("Ev1", 60)
    inner.down = True
    assert not await store.first_time("Ev1", 60), "a retry during the outage is still a retry"
    assert await store.first_time("Ev2", 60)
    assert store.health == "degraded"
    clock.now += 10
    inner.down = False
    assert not await store.first_time("Ev2", 60)
    assert store.health == "ok"
    assert caplog.text.count("store unavailable") == 1 and "store is back" in caplog.text


async def test_hold_renews_and_settles_a_key(store: Store, clock: FakeClock) -> None:
    assert await store.held_for("msg:C1:1.2") == 0
    assert await store.first_time("msg:C1:1.2", ttl=30)
    assert await store.held_for("msg:C1:1.2") == 30
    clock.now += 20
    await store.hold("msg:C1:1.2", 30)
    clock.now += 20
    assert not await store.first_time("msg:C1:1.2", ttl=30), "renewed: still held"
    await store.hold("msg:C1:1.2", 3600)
    assert await store.held_for("msg:C1:1.2") == 3600
    clock.now += 3601
    assert await store.held_for("msg:C1:1.2") == 0
    assert await store.first_time("msg:C1:1.2", ttl=30)
