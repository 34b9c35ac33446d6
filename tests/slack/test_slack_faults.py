"""The app when Slack or the database misbehaves: bounded, at most once, at Slack's pace,
and never stalled by the store."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import sqlite3
import time

import pytest
from aiohttp import web
from slack_harness import FakeSlack, SlackClient, mention_event, running_app

from bot.engine.facade import Engine
from bot.settings import Settings
from bot.slack.app import build_app
from bot.store import ResilientStore, SQLiteStore


def _ratelimited(seconds: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": seconds}
    )


async def test_a_slow_web_api_sheds_beyond_the_bound_and_logs_each(
    fake: FakeSlack,
    settings: Settings,
    engine: Engine,
    store: SQLiteStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.delays["chat.postMessage"] = 1.0
    bounded = dataclasses.replace(settings, max_pending=5)
    async with running_app(fake, bounded, engine, ResilientStore(store)) as slack:
        started = time.monotonic()
        for i in range(20):
            assert await slack.event(mention_event(f"port {25 + i}", channel=f"C{i}")) == 200
        assert time.monotonic() - started < 3.0
        health = await slack.health()
        assert health["replies"]["shed"] == 15 and health["replies"]["pending"] <= 5
        await fake.wait_for("chat.postMessage", count=5)
    shed = [r for r in caplog.records if r.getMessage().startswith("shed reply")]
    assert len(shed) == 15
    assert {r.getMessage().split(" in ")[1].split(":")[0] for r in shed} == {
        f"C{i}" for i in range(5, 20)
    }


async def test_shutdown_says_how_many_replies_it_dropped(
    fake: FakeSlack,
    settings: Settings,
    engine: Engine,
    store: SQLiteStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.delays["chat.postMessage"] = 5.0
    async with running_app(fake, settings, engine, ResilientStore(store), drain=0.2) as slack:
        for i in range(3):
            await slack.event(mention_event(f"port {25 + i}"))
        await fake.wait_for("chat.postMessage", count=3)
    assert "shutdown: 3 reply task(s) unfinished after 0 s, dropped" in caplog.text


async def test_a_post_lost_after_sending_is_not_sent_again(
    slack: SlackClient, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fake.reset_next("chat.postMessage")
    await slack.event(mention_event("which port for imaps"))
    await slack.fake.wait_for("chat.postMessage")
    await slack.fake.quiet(0.5)
    assert len(slack.fake.to("chat.postMessage")) == 1
    assert "not delivered: connection to Slack lost" in caplog.text


async def test_a_harmless_call_is_retried_after_a_reset(slack: SlackClient) -> None:
    slack.fake.reset_next("views.publish")
    await slack.event({"type": "app_home_opened", "user": "U0USER", "tab": "home"})
    await slack.fake.wait_for("views.publish", count=2)
    assert slack.fake.answered.count("views.publish") == 1


async def test_rate_limits_are_waited_for_then_given_up_quietly(
    slack: SlackClient, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        slack.fake.fail_next("chat.postMessage", _ratelimited("1"))
    await slack.event(mention_event("port 25"))
    await slack.fake.wait_for("chat.postMessage", count=3)
    await slack.fake.quiet(1.5)
    assert len(slack.fake.to("chat.postMessage")) == 3
    times = [call.at for call in slack.fake.calls if call.method == "chat.postMessage"]
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(times))
    assert "still rate-limited" in caplog.text
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)


async def test_a_long_retry_after_is_not_waited_for(slack: SlackClient) -> None:
    slack.fake.fail_next("chat.postMessage", _ratelimited("3600"))
    await slack.event(mention_event("port 25"))
    await slack.fake.wait_for("chat.postMessage")
    await slack.fake.quiet(0.5)
    assert len(slack.fake.to("chat.postMessage")) == 1


async def test_a_locked_database_never_stalls_acks(
    slack: SlackClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds the write lock: acks stay fast, answers flow, health says so."""
    other = sqlite3.connect(settings.db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        acks = []
        events = [mention_event(f"port {25 + i}", channel=f"C{i}") for i in range(10)]
        for i, event in enumerate(events):
            begun = time.monotonic()
            await slack.command(f"what is the parking policy {i}")
            assert await slack.event(event, event_id=f"EvLOCK{i}") == 200
            acks.append(time.monotonic() - begun)
        assert max(acks) < 0.5, acks
        await slack.fake.wait_for("chat.postMessage", count=10)
        assert time.monotonic() - started < 5.0
        assert (await slack.health())["store"] == "degraded"
        assert await slack.event(events[0], event_id="EvLOCK0", retry=1) == 200
    finally:
        other.rollback()
        other.close()
    assert caplog.text.count("store unavailable") == 1
    await asyncio.sleep(2.1)
    await slack.event(mention_event("port 587", channel="C99"))
    await slack.fake.wait_for("chat.postMessage", count=11)
    for _ in range(50):
        if (await slack.health())["store"] == "ok":
            break
        await asyncio.sleep(0.05)
    assert (await slack.health())["store"] == "ok"
    await slack.fake.quiet(0.3)
    assert len(slack.fake.to("chat.postMessage")) == 11


def test_start_logs_no_token_warning(
    settings: Settings,
    store: SQLiteStore,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Production sets SLACK_BOT_TOKEN, which Bolt reads beside the client built from it."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", settings.slack_bot_token)
    with caplog.at_level(logging.DEBUG):
        build_app(engine, store, settings)
    assert "unused" not in caplog.text
