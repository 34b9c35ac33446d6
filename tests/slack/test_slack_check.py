"""`/mailport check` and `@mailport check` through Slack, against 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
from collections.abc import AsyncIterator, Iterator

import pytest
from aiosmtpd.controller import Controller
from loopback_ports import TEST_PORTS
from slack_harness import FakeSlack, SlackClient, button, mention_event, running_app, texts

from bot.check import Checker
from bot.check.guard import StaticResolver
from bot.engine.facade import Engine
from bot.settings import Settings
from bot.store import SQLiteStore

SMTP_PORT = 2525  # checked as 2525, served on its TEST_PORTS stand-in


async def test_bad_check_is_answered_in_the_ack(slack: SlackClient) -> None:
    for text, says in (("check", "Give a host"), ("check 127.0.0.1 22", "22")):
        answer = await slack.command(text)
        assert says in texts(answer)
    await slack.fake.quiet(0.1)
    assert slack.fake.to("response_url") == []


async def test_refused_address_is_refused_in_the_ack_once(slack: SlackClient) -> None:
    answer = await slack.command("check 10.0.0.1 587")
    said = texts(answer["blocks"])
    assert answer["response_type"] == "ephemeral" and "Checking" not in texts(answer)
    assert said.count("10.0.0.1 is refused") == 1 and "private" in said
    assert "public addresses" in said and "MAILPORT_ALLOW_CIDRS" in said
    await slack.fake.quiet(0.2)
    assert slack.fake.to("response_url") == []


async def test_ipv6_literal_reaches_the_checker_intact(slack: SlackClient) -> None:
    answer = await slack.command("check 2001:db8::1 25")
    assert "2001:db8::1 is refused as documentation" in answer["text"]
    await slack.fake.quiet(0.2)
    assert slack.fake.to("response_url") == []


async def test_name_with_refused_addresses_says_so_once(
    fake: FakeSlack, settings: Settings, store: SQLiteStore, engine: Engine
) -> None:
    resolver = StaticResolver({"mail.inside.example.net": {"A": ["10.0.0.1"]}})
    checker = Checker(settings, store, resolver=resolver)
    async with running_app(fake, settings, engine, store, checker) as slack:
        answer = await slack.command("check mail.inside.example.net 587")
        assert "Checking mail.inside.example.net" in answer["text"]
        [report] = await fake.wait_for("response_url")
    said = texts(report["blocks"])
    assert report["replace_original"] is False and said.count("resolves to 10.0.0.1") == 1
    assert "public addresses" in said and "MAILPORT_ALLOW_CIDRS" in said


async def test_a_command_check_shows_its_report_below_the_ack(local: SlackClient) -> None:
    """Slack keeps a slash command's first reply as it is (replace_original on its
    response_url changes nothing), so the report must arrive as a message of its own, and
    the first reply must say so."""
    ack = await local.command(f"check 127.0.0.1 {SMTP_PORT}")
    assert "report follows as a new message below" in ack["text"]
    await local.fake.wait_for("response_url")
    shown = local.fake.shown(local.last_response_url)
    assert [m["text"].split(":")[0] for m in shown] == [
        ack["text"].split(":")[0],
        "Live check of 127.0.0.1",
    ]


@pytest.fixture
def smtp() -> Iterator[None]:
    controller = Controller(object(), hostname="127.0.0.1", port=TEST_PORTS[SMTP_PORT])
    controller.start()
    yield
    controller.stop()


@pytest.fixture
async def local(
    fake: FakeSlack, settings: Settings, store: SQLiteStore, engine: Engine, smtp: None
) -> AsyncIterator[SlackClient]:
    """The app allowed to check 127.0.0.0/8, with one live check per user per window and
    results cached (the Details button reads the cache)."""
    allowed = dataclasses.replace(
        settings,
        allow_cidrs=(ipaddress.ip_network("127.0.0.0/8"),),
        check_user_limit=1,
        check_connect_timeout=2.0,
        check_step_timeout=2.0,
        check_deadline=5.0,
        check_cache_ttl=300.0,
    )
    checker = Checker(allowed, store, resolver=StaticResolver({}), dial=TEST_PORTS)
    async with running_app(fake, allowed, engine, store, checker) as client:
        yield client


async def test_live_check_reports_each_port(local: SlackClient) -> None:
    await local.command(f"check 127.0.0.1 {SMTP_PORT}")
    [report] = await local.fake.wait_for("response_url")
    [table] = [b for b in report["blocks"] if b["type"] == "table"]
    assert [cell["text"] for cell in table["rows"][1][:2]] == ["127.0.0.1", str(SMTP_PORT)]
    assert report["text"].startswith("Live check of 127.0.0.1: FAIL")
    assert "STARTTLS is not offered" in report["text"]
    await local.command(f"check 127.0.0.2 {SMTP_PORT}")
    _, limited = await local.fake.wait_for("response_url", count=2)
    assert "live checks" in limited["text"]


async def test_a_workspace_shares_one_check_budget(
    fake: FakeSlack, settings: Settings, store: SQLiteStore, engine: Engine, smtp: None
) -> None:
    allowed = dataclasses.replace(
        settings,
        allow_cidrs=(ipaddress.ip_network("127.0.0.0/8"),),
        check_user_limit=5,
        check_team_limit=1,
        check_deadline=5.0,
    )
    checker = Checker(allowed, store, resolver=StaticResolver({}), dial=TEST_PORTS)
    async with running_app(fake, allowed, engine, store, checker) as client:
        await client.command(f"check 127.0.0.1 {SMTP_PORT}", user="U0FIRST")
        await client.fake.wait_for("response_url")
        await client.command(f"check 127.0.0.2 {SMTP_PORT}", user="U0SECOND")
        _, limited = await client.fake.wait_for("response_url", count=2)
    assert "This workspace has run 1 live checks" in limited["text"]


async def test_details_button_shows_each_step(local: SlackClient) -> None:
    await local.command(f"check 127.0.0.1 {SMTP_PORT}")
    [report] = await local.fake.wait_for("response_url")
    details = button(report["blocks"], "check_details")
    status, _ = await local.click("check_details", details["value"])
    assert status == 200
    _, shown = await local.fake.wait_for("response_url", count=2)
    said = texts(shown)
    assert shown["response_type"] == "ephemeral" and shown["replace_original"] is False
    assert "Details: 127.0.0.1" in said and "Steps:" in said and "banner" in said
    await local.click("check_details", "check:gone.example.net:25:host")
    *_, expired = await local.fake.wait_for("response_url", count=3)
    assert "expired" in expired["text"]


async def test_run_live_check_button_on_an_answer(local: SlackClient) -> None:
    answer = await local.command(f"how to verify mail.acme-widgets.com:{SMTP_PORT} is listening")
    offered = button(answer["blocks"], "run_check_0")
    assert offered["value"] == f"check mail.acme-widgets.com {SMTP_PORT}"
    status, _ = await local.click("run_check_0", f"check 127.0.0.1 {SMTP_PORT}")
    assert status == 200
    checking, report = await local.fake.wait_for("response_url", count=2)
    assert "Checking 127.0.0.1" in checking["text"]
    assert report["text"].startswith("Live check of 127.0.0.1")
    await local.click("run_check_0", "check ;rm -rf /")
    *_, refused = await local.fake.wait_for("response_url", count=3)
    assert "not a host name" in refused["text"]


async def test_mention_check_updates_its_placeholder(local: SlackClient) -> None:
    await local.event(mention_event(f"check 127.0.0.1 {SMTP_PORT}", ts="7.0"))
    [placeholder] = await local.fake.wait_for("chat.postMessage")
    assert placeholder["thread_ts"] == "7.0" and "Checking" in placeholder["text"]
    [update] = await local.fake.wait_for("chat.update")
    assert update["channel"] == "C0CHAN" and update["blocks"]
    assert "Live check" in texts(update)


async def test_shutdown_during_a_slow_check_apologises(
    fake: FakeSlack, settings: Settings, store: SQLiteStore, engine: Engine
) -> None:
    """SIGTERM while a check waits on a silent server: the drain ends before the check does,
    and the user is told, instead of a "Checking…" that never turns into a report."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    listener = await asyncio.start_server(silent, "127.0.0.1", TEST_PORTS[SMTP_PORT])
    allowed = dataclasses.replace(
        settings,
        allow_cidrs=(ipaddress.ip_network("127.0.0.0/8"),),
        check_step_timeout=20.0,
        check_deadline=25.0,
    )
    checker = Checker(allowed, store, resolver=StaticResolver({}), dial=TEST_PORTS)
    try:
        async with running_app(fake, allowed, engine, store, checker, drain=0.3) as slack:
            await slack.event(mention_event(f"check 127.0.0.1 {SMTP_PORT}", ts="8.0"))
            [placeholder] = await fake.wait_for("chat.postMessage")
            assert "Checking" in placeholder["text"]
        [_, apology] = await fake.wait_for("chat.postMessage", count=2)
        assert "restarted before it could finish" in apology["text"]
        assert apology["thread_ts"] == "8.0"
    finally:
        listener.close()
        await listener.wait_closed()
