"""The PostgreSQL store on a real server: atomic under several instances at once, a
versioned schema that instances upgrade together without racing, clear refusals, and an
outage that the bot rides out and recovers from by itself."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pg_instance
import pytest

from bot.store import ResilientStore, StoreError, open_store
from bot.store.postgres import SCHEMA_VERSION, PostgresStore, redacted
from bot.store.resilient import RETRY_SECONDS


@pytest.fixture
async def two(
    postgres: pg_instance.Postgres,
) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two instances' stores (two pools) on one fresh database."""
    url = postgres.new_database()
    first, second = await PostgresStore.connect(url), await PostgresStore.connect(url)
    yield first, second
    await first.close()
    await second.close()


async def test_a_budget_holds_across_instances_racing(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    calls = [store.allow("check-user:U1", limit=7, window=600) for store in two for _ in range(60)]
    assert sum(await asyncio.gather(*calls)) == 7


async def test_each_key_is_first_once_across_instances_racing(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    keys = [f"msg:C1:{i}" for i in range(200)]
    calls = [store.first_time(key, 60) for key in keys for store in two]
    fresh = await asyncio.gather(*calls)
    assert sum(fresh) == 200
    assert all(a != b for a, b in zip(fresh[::2], fresh[1::2], strict=True))


async def test_unanswered_tallies_add_up_without_deadlock(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    questions = [f"question {i}" for i in range(40)]
    batches = [
        store.count_unanswered({q: 1 for q in (questions if n % 2 else reversed(questions))})
        for n in range(20)
        for store in two
    ]
    await asyncio.gather(*batches)
    top = await two[0].top_unanswered(limit=50)
    assert len(top) == 40 and {u.count for u in top} == {40}


async def test_votes_cast_on_one_instance_show_on_the_other(
    two: tuple[PostgresStore, PostgresStore],
) -> None:
    await two[0].record_vote("port-25", "U1", helpful=False)
    await two[1].record_vote("port-25", "U2", helpful=False)
    assert [(v.entry_id, v.not_helpful) for v in await two[1].most_downvoted()] == [("port-25", 2)]


async def test_instances_starting_together_create_the_schema_once(
    postgres: pg_instance.Postgres,
) -> None:
    url = postgres.new_database()
    stores = await asyncio.gather(*(PostgresStore.connect(url) for _ in range(6)))
    assert [await store.first_time("k", 60) for store in stores].count(True) == 1
    for store in stores:
        await store.close()
    database = url.rsplit("/", 1)[1]
    assert postgres.psql("SELECT version FROM mailport_schema", database) == str(SCHEMA_VERSION)


async def test_a_newer_schema_is_refused_in_one_line(postgres: pg_instance.Postgres) -> None:
    url = postgres.new_database()
    await (await PostgresStore.connect(url)).close()
    postgres.psql("INSERT INTO mailport_schema VALUES (99)", url.rsplit("/", 1)[1])
    with pytest.raises(StoreError, match="version 99, newer than this mailport") as raised:
        await PostgresStore.connect(url)
    message = str(raised.value)
    assert "\n" not in message and pg_instance.PASSWORD not in message and "***" in message


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (lambda pg: pg.url("postgres", password="wrong-password"), "password authentication"),
        (lambda pg: pg.url("no_such_database"), "does not exist"),
    ],
    ids=["password", "database"],
)
async def test_refusals_are_one_line_without_the_password(
    postgres: pg_instance.Postgres, url, says: str
) -> None:
    with pytest.raises(StoreError, match=says) as raised:
        await PostgresStore.connect(url(postgres))
    assert "\n" not in str(raised.value) and "password@" not in str(raised.value)
    assert pg_instance.PASSWORD not in str(raised.value)


async def test_an_unreachable_server_starts_degraded_or_is_refused_when_waiting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"postgresql://mailport:secret@127.0.0.1:{pg_instance._free_port()}/mailport"
    store = ResilientStore(await open_store(Path("unused"), url))
    assert "unreachable at start" in caplog.text and "secret" not in caplog.text
    assert await store.first_time("k", 60) and not await store.first_time("k", 60)
    assert store.health == "degraded"
    await store.close()
    with pytest.raises(StoreError, match="MAILPORT_DB postgresql://mailport:\\*\\*\\*@"):
        await open_store(Path("unused"), url, wait=True)


async def test_an_outage_is_ridden_out_and_recovered_from(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A server of its own, stopped and started again under a store in use."""
    caplog.set_level(logging.INFO)
    server = pg_instance.Postgres().start()
    try:
        store = ResilientStore(await PostgresStore.connect(server.url()))
        assert await store.allow("check-user:U1", 2, 600)
        server.stop("immediate")
        assert await store.first_time("Ev1", 60) and not await store.first_time("Ev1", 60)
        assert store.health == "degraded"
        assert await store.allow("check-user:U1", 2, 600), "memory keeps a budget meanwhile"
        server.start()
        await asyncio.sleep(RETRY_SECONDS + 0.1)
        assert await store.first_time("Ev2", 60) and store.health == "ok"
        assert not await store.allow("check-user:U1", 1, 600), "the shared budget is back"
        await store.close()
    finally:
        server.remove()
    assert caplog.text.count("store unavailable") == 1 and "store is back" in caplog.text


def test_urls_are_redacted() -> None:
    assert redacted("postgresql://u:p%40ss@db:5432/m") == "postgresql://u:***@db:5432/m"
    assert redacted("postgresql://db/m") == "postgresql://db/m"


def _mailport(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MAILPORT_DB"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**keep, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_report_reads_the_shared_database(postgres: pg_instance.Postgres) -> None:
    url = postgres.new_database()
    store = await PostgresStore.connect(url)
    await store.count_unanswered({"does port 2526 work?": 3})
    await store.record_vote("port-465", "U1", helpful=False)
    await store.close()
    result = _mailport("report", MAILPORT_DB=url)
    assert result.returncode == 0, result.stderr
    assert "3  does port 2526 work?" in result.stdout and "1 / 0    port-465" in result.stdout


@pytest.mark.parametrize("verb", [["report"], ["serve"]])
def test_a_refused_database_is_one_line_and_exit_2(
    postgres: pg_instance.Postgres, verb: list[str]
) -> None:
    url = postgres.url("postgres", password="wrong-password")
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "MAILPORT_HOST": "127.0.0.1"}
    result = _mailport(*verb, MAILPORT_DB=url, **env)
    lines = [line for line in result.stderr.splitlines() if " WARNING " not in line]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("mailport: MAILPORT_DB postgresql://mailport:***@127.0.0.1:")
    assert "password authentication failed" in lines[0] and "wrong-password" not in lines[0]
