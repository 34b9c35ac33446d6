"""Socket Mode against a local fake: envelopes are acked and answered; drops are survived."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from slack_harness import FakeSlack, mention_event, offline_checker, texts

from bot.engine.facade import Engine
from bot.settings import Settings
from bot.slack.server import socket_mode
from bot.store import SQLiteStore

PING = 0.2


def command_payload(fake: FakeSlack, text: str) -> dict[str, str]:
    return {
        "team_id": "T0001",
        "channel_id": "C0CHAN",
        "user_id": "U0USER",
        "command": "/mailport",
        "text": text,
        "api_app_id": "A0APP",
        "response_url": fake.response_url(),
        "trigger_id": "1.2.3",
    }


def event_payload(event: dict, event_id: str) -> dict:
    return {
        "team_id": "T0001",
        "api_app_id": "A0APP",
        "type": "event_callback",
        "event": event,
        "event_id": event_id,
        "event_time": 1,
    }


@pytest.fixture
async def connected(
    fake: FakeSlack, settings: Settings, store: SQLiteStore, engine: Engine
) -> AsyncIterator[FakeSlack]:
    async with socket_mode(settings, engine, store, PING, offline_checker(settings, store)):
        await fake.wait_connections(1)
        yield fake


async def test_connects_with_the_app_token(connected: FakeSlack) -> None:
    [opened] = connected.to("apps.connections.open")
    assert opened == {}  # the token travels in the Authorization header, not the body
    assert connected.connections == 1


async def test_slash_command_is_answered_in_the_envelope_ack(connected: FakeSlack) -> None:
    envelope = await connected.envelope(
        "slash_commands", command_payload(connected, "465"), accepts_response_payload=True
    )
    ack = await connected.wait_ack(envelope)
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "465" in ack["payload"]["text"]
    assert any(b["type"] == "table" for b in ack["payload"]["blocks"])


async def test_event_is_acked_then_answered_once(connected: FakeSlack) -> None:
    payload = event_payload(mention_event("what is port 993?", ts="9.1"), "EvSOCKET1")
    first = await connected.envelope("events_api", payload, retry_attempt=0)
    retry = await connected.envelope("events_api", payload, retry_attempt=1, retry_reason="timeout")
    await connected.wait_ack(first)
    await connected.wait_ack(retry)
    [reply] = await connected.wait_for("chat.postMessage")
    assert reply["thread_ts"] == "9.1"
    await connected.quiet()
    assert len(connected.to("chat.postMessage")) == 1


async def test_button_click_over_socket_mode(connected: FakeSlack) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0USER"},
        "team": {"id": "T0001"},
        "container": {
            "type": "message",
            "message_ts": "1.0",
            "channel_id": "C0CHAN",
            "is_ephemeral": True,
        },
        "channel": {"id": "C0CHAN"},
        "response_url": connected.response_url(),
        "actions": [
            {
                "type": "button",
                "action_id": "share",
                "value": "port:587",
                "block_id": "b",
                "action_ts": "1.1",
            }
        ],
    }
    envelope = await connected.envelope("interactive", payload)
    await connected.wait_ack(envelope)
    public, _ = await connected.wait_for("response_url", count=2)
    assert public["response_type"] == "in_channel" and "587" in texts(public)


async def _answered_after_reconnect(fake: FakeSlack, connections: int) -> None:
    await fake.wait_connections(connections)
    assert len(fake.to("apps.connections.open")) == connections
    envelope = await fake.envelope("slash_commands", command_payload(fake, "587"))
    assert "587" in (await fake.wait_ack(envelope))["payload"]["text"]


async def test_reconnects_when_the_server_closes(connected: FakeSlack) -> None:
    await connected.sockets[-1].close()
    await _answered_after_reconnect(connected, 2)


async def test_reconnects_on_disconnect_message(connected: FakeSlack) -> None:
    await connected.sockets[-1].send_json({"type": "disconnect", "reason": "refresh_requested"})
    await _answered_after_reconnect(connected, 2)


async def test_reconnects_after_an_abrupt_drop(connected: FakeSlack) -> None:
    connected.transports[-1].abort()
    await _answered_after_reconnect(connected, 2)
    connected.transports[-1].abort()
    await _answered_after_reconnect(connected, 3)


async def test_keeps_retrying_while_slack_is_unreachable(connected: FakeSlack) -> None:
    for _ in range(2):
        down = web.json_response({"ok": False, "error": "service_unavailable"}, status=503)
        connected.fail_next("apps.connections.open", down)
    connected.transports[-1].abort()
    await connected.wait_connections(2)
    assert len(connected.to("apps.connections.open")) == 4
    envelope = await connected.envelope("slash_commands", command_payload(connected, "110"))
    assert "110" in (await connected.wait_ack(envelope))["payload"]["text"]
