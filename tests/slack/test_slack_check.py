"""`/mailport check` and `@mailport check` through Slack, against 127.0.0.1 only."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiosmtpd.controller import Controller
from slack_harness import FakeSlack, SlackClient, mention_event, texts

from bot.check import Checker
from bot.check.guard import StaticResolver
from bot.engine import Engine
from bot.settings import Settings
from bot.slack.server import http_server
from bot.store import SQLiteStore

SMTP_PORT = 2525  # an allowed check port that CI's Postfix (25, 465, 587) leaves free


async def test_bad_check_is_answered_in_the_ack(slack: SlackClient) -> None:
    for text, says in (("check", "Give a host"), ("check 127.0.0.1 22", "22")):
        answer = await slack.command(text)
        assert says in texts(answer)
    await slack.fake.quiet(0.1)
    assert slack.fake.to("response_url") == []


async def test_refused_address_is_reported(slack: SlackClient) -> None:
    answer = await slack.command("check 127.0.0.1 587")
    assert "Checking 127.0.0.1" in answer["text"] and answer["response_type"] == "ephemeral"
    [report] = await slack.fake.wait_for("response_url")
    assert report["replace_original"] is True and report["response_type"] == "ephemeral"
    assert report["blocks"][0]["text"]["text"] == "Live check: 127.0.0.1"
    assert "FAIL" in report["text"] and "does not connect" in report["text"]


@pytest.fixture
def smtp() -> Iterator[None]:
    controller = Controller(object(), hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield
    controller.stop()


@pytest.fixture
async def local(
    fake: FakeSlack, settings: Settings, store: SQLiteStore, engine: Engine, smtp: None
) -> AsyncIterator[SlackClient]:
    """The app allowed to check 127.0.0.0/8, with one live check per user per window."""
    allowed = dataclasses.replace(
        settings,
        allow_cidrs=(ipaddress.ip_network("127.0.0.0/8"),),
        check_user_limit=1,
        check_connect_timeout=2.0,
        check_step_timeout=2.0,
        check_deadline=5.0,
        check_cache_ttl=0.0,
    )
    checker = Checker(allowed, store, resolver=StaticResolver({}))
    async with (
        http_server(allowed, engine, store, "127.0.0.1", 0, checker) as server,
        aiohttp.ClientSession() as session,
    ):
        yield SlackClient(server, fake, session)


async def test_live_check_reports_each_port(local: SlackClient) -> None:
    await local.command(f"check 127.0.0.1 {SMTP_PORT}")
    [report] = await local.fake.wait_for("response_url")
    [table] = [b for b in report["blocks"] if b["type"] == "table"]
    assert [cell["text"] for cell in table["rows"][1][:2]] == ["127.0.0.1", str(SMTP_PORT)]
    assert report["text"].startswith("Live check of 127.0.0.1: FAIL")
    assert "STARTTLS is not offered" in report["text"]
    await local.command(f"check 127.0.0.1 {SMTP_PORT}")
    _, limited = await local.fake.wait_for("response_url", count=2)
    assert "live checks" in limited["text"]


async def test_mention_check_updates_its_placeholder(local: SlackClient) -> None:
    await local.event(mention_event(f"check 127.0.0.1 {SMTP_PORT}", ts="7.0"))
    [placeholder] = await local.fake.wait_for("chat.postMessage")
    assert placeholder["thread_ts"] == "7.0" and "Checking" in placeholder["text"]
    [update] = await local.fake.wait_for("chat.update")
    assert update["channel"] == "C0CHAN" and update["blocks"]
    assert "Live check" in texts(update)
