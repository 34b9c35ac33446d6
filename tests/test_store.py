"""The SQLite store: dedupe, votes, unanswered questions, rate limits, cache."""

from pathlib import Path

import pytest

from bot.store import SQLiteStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> SQLiteStore:
    return SQLiteStore(tmp_path / "sub" / "mailport.db", clock=clock)


def test_first_time_dedupes_until_expiry(store: SQLiteStore, clock: FakeClock) -> None:
    assert store.first_time("Ev1", ttl=60)
    assert not store.first_time("Ev1", ttl=60)
    assert store.first_time("Ev2", ttl=60)
    clock.now += 61
    assert store.first_time("Ev1", ttl=60)


def test_votes_replace_per_user(store: SQLiteStore) -> None:
    store.record_vote("port-25", "U1", helpful=True)
    store.record_vote("port-25", "U1", helpful=False)
    store.record_vote("port-25", "U2", helpful=False)
    store.record_vote("port-465", "U1", helpful=False)
    store.record_vote("port-587", "U1", helpful=True)
    votes = store.votes("port-25")
    assert (votes.helpful, votes.not_helpful) == (0, 2)
    assert [v.entry_id for v in store.most_downvoted()] == ["port-25", "port-465"]


def test_unanswered_counts(store: SQLiteStore) -> None:
    for question in ["where is parking", "where  is parking", "lunch?", "", "   "]:
        store.record_unanswered(question)
    top = store.top_unanswered()
    assert [(u.question, u.count) for u in top] == [("where is parking", 2), ("lunch?", 1)]


def test_rate_limit_window(store: SQLiteStore, clock: FakeClock) -> None:
    assert [store.allow("U1", limit=2, window=10) for _ in range(3)] == [True, True, False]
    assert store.allow("U2", limit=2, window=10)
    clock.now += 10.5
    assert store.allow("U1", limit=2, window=10)


def test_cache_expires(store: SQLiteStore, clock: FakeClock) -> None:
    store.cache_put("mx.example.com:25", '{"ok": true}', ttl=5)
    assert store.cache_get("mx.example.com:25") == '{"ok": true}'
    clock.now += 6
    assert store.cache_get("mx.example.com:25") is None


def test_state_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    first = SQLiteStore(path)
    first.record_vote("port-25", "U1", helpful=False)
    first.close()
    assert SQLiteStore(path).votes("port-25").not_helpful == 1
