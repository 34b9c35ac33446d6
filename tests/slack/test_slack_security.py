"""The endpoint as an attacker meets it: nothing unverified is parsed, logged or acted on;
verified requests are acted on once; replies go only to Slack."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import pytest
from multidict import CIMultiDict
from slack_harness import SECRET, SlackClient, mention_event, sign

from bot.slack.delivery import trusted_response_url
from bot.slack.endpoint import MAX_BODY, verify
from bot.store import SQLiteStore

FORM = "application/x-www-form-urlencoded"


def _forged_command(slack: SlackClient, response_url: str) -> str:
    body, _ = slack.command_body("check 10.0.0.1", channel="C0VICTIM", response_url=response_url)
    return body


def _hmac(timestamp: str, body: str, secret: str = SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


FULL_WIDTH_123 = "\uff11\uff12\uff13"
ODD_TIMESTAMPS = ["abc", "1e9", "1796151804.5", "9" * 400, "", " 1", "-1", "0x10", FULL_WIDTH_123]


@pytest.mark.parametrize("timestamp", ODD_TIMESTAMPS)
@pytest.mark.parametrize("signature", ["forged", "none", "hmac-of-odd-timestamp"])
async def test_unverifiable_requests_get_401_and_nothing_else(
    slack: SlackClient, caplog: pytest.LogCaptureFixture, timestamp: str, signature: str
) -> None:
    caplog.set_level(logging.DEBUG)
    body = _forged_command(slack, slack.fake.response_url())
    headers = {"x-slack-request-timestamp": timestamp}
    if signature == "forged":
        headers["x-slack-signature"] = "v0=" + "ab" * 32
    elif signature == "hmac-of-odd-timestamp":
        headers["x-slack-signature"] = _hmac(timestamp, body)
    status, answer = await _raw_post(slack, body, FORM, headers, signed=False)
    assert (status, answer) == (401, None)
    event = json.dumps({"type": "event_callback", "event": mention_event("help")})
    status, _ = await _raw_post(slack, event, "application/json", headers, signed=False)
    assert status == 401
    await slack.fake.quiet()
    assert slack.fake.calls == []
    assert "C0VICTIM" not in caplog.text and "check 10.0.0.1" not in caplog.text
    assert not any(record.exc_info for record in caplog.records)


async def test_stale_and_wrong_secret_signatures_are_refused(slack: SlackClient) -> None:
    body, _ = slack.command_body("port 25")
    old = int(time.time()) - 301
    for headers in (sign(body, timestamp=old), sign(body, secret="not-the-secret")):
        status, _ = await _raw_post(slack, body, FORM, headers, signed=False)
        assert status == 401
    good = sign(body)
    twice = [*good.items(), ("x-slack-signature", good["x-slack-signature"])]
    assert await _raw_http(slack, body, twice) == 401
    await slack.fake.quiet()
    assert slack.fake.calls == []
    assert await _raw_http(slack, body, list(good.items())) == 200


async def test_a_flood_of_big_unsigned_bodies_writes_bounded_logs(
    slack: SlackClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    big = "x" * (MAX_BODY - 10)
    for _ in range(20):
        status, _ = await _raw_post(slack, big, "text/plain", {}, signed=False)
        assert status == 401
    too_big = "y" * (MAX_BODY + 1)
    status, _ = await _raw_post(slack, too_big, FORM, sign(too_big), signed=False)
    assert status == 401
    assert len(caplog.text) < 2000, caplog.text
    assert "xxxx" not in caplog.text
    assert (await slack.health())["requests"]["rejected"] == 21


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        (urlencode({"payload": "{broken"}), FORM),
        (urlencode({"payload": "[]"}), FORM),
    ],
)
async def test_signed_junk_gets_400_without_a_traceback(
    slack: SlackClient, caplog: pytest.LogCaptureFixture, body: str, content_type: str
) -> None:
    status, _ = await slack.post(body, content_type)
    assert status == 400
    assert not any(record.exc_info for record in caplog.records)
    await slack.fake.quiet(0.1)
    assert slack.fake.calls == []


async def test_signed_binary_body_gets_400(slack: SlackClient) -> None:
    raw = b"\xff\xfe\x00payload"
    headers = {"content-type": FORM, **_sign_bytes(raw)}
    async with slack.session.post(
        f"{slack.server.url}/slack/events", data=raw, headers=headers
    ) as response:
        assert response.status == 400


@pytest.mark.parametrize(
    "fields",
    [
        {"text": "max smtp payload size"},
        {"text": "payload"},
        {"text": "port 25", "channel_name": "payload-team"},
        {"text": "port 25", "user_name": "payload", "team_domain": "payloadco"},
    ],
)
async def test_commands_mentioning_payload_are_commands(
    slack: SlackClient, fields: dict[str, str]
) -> None:
    text = fields.pop("text")
    status, answer = await slack.post(*slack.command_body(text, **fields))
    assert status == 200
    assert answer["response_type"] == "ephemeral" and answer["text"]


async def test_a_replayed_share_posts_once(slack: SlackClient) -> None:
    payload_body = _share_body(slack)
    headers = sign(payload_body)
    for _ in range(3):
        status, _ = await _raw_post(slack, payload_body, FORM, headers, signed=False)
        assert status == 200
    await slack.fake.wait_for("response_url", count=2)
    await slack.fake.quiet()
    public = [c for c in slack.fake.to("response_url") if c.get("response_type") == "in_channel"]
    assert len(public) == 1
    assert (await slack.health())["requests"]["replayed"] == 2


async def test_a_replayed_command_does_not_count_twice(
    slack: SlackClient, store: SQLiteStore
) -> None:
    body, content_type = slack.command_body("where do I park my bike at the office")
    headers = sign(body)
    first = await _raw_post(slack, body, content_type, headers, signed=False)
    again = await _raw_post(slack, body, content_type, headers, signed=False)
    assert first[0] == again[0] == 200 and again[1] is None
    await slack.fake.quiet(0.2)
    assert [u.count for u in await store.top_unanswered()] == [1]


@pytest.mark.parametrize("value", ["no-such-entry", "x" * 1900, ""])
async def test_forged_votes_are_refused(slack: SlackClient, store: SQLiteStore, value: str) -> None:
    status, _ = await slack.click("not_helpful", value, user="U1")
    assert status == 200
    [note] = await slack.fake.wait_for("response_url")
    assert "left the knowledge base" in note["text"]
    assert await store.most_downvoted() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "https://hooks.slack.com.evil.example/commands/1",
        "https://evil.example/?https://hooks.slack.com/",
        "https://user@hooks.slack.com/commands/1",
        "https://hooks.slack.com:8443/commands/1",
        "hooks.slack.com/commands/1",
    ],
)
async def test_foreign_response_urls_are_never_called(
    slack: SlackClient, caplog: pytest.LogCaptureFixture, url: str
) -> None:
    caplog.set_level(logging.INFO)
    status, _ = await slack.click("share", "port:993", response_url=url)
    assert status == 200
    await slack.fake.quiet()
    assert [call.method for call in slack.fake.calls] == ["auth.test"]
    assert "is not Slack's; dropped" in caplog.text


def test_trusted_response_urls() -> None:
    api = "http://127.0.0.1:4321/api/"
    assert trusted_response_url("https://hooks.slack.com/commands/T1/2/abc", api)
    assert trusted_response_url("https://hooks.slack-gov.com/actions/T1/2/abc", api)
    assert trusted_response_url("http://127.0.0.1:4321/response/1", api)
    assert not trusted_response_url("http://127.0.0.1:4322/response/1", api)
    assert not trusted_response_url("http://hooks.slack.com/commands/1", api)
    assert not trusted_response_url("https://[::1", api)


def test_verify_accepts_only_slack_s_exact_form() -> None:
    body, now = b"a=1", 1_700_000_000
    good = _hmac(str(now), "a=1")
    assert verify([str(now)], [good], body, SECRET.encode(), now) is None
    assert verify([str(now)], [good.upper()], body, SECRET.encode(), now) == "malformed signature"
    assert verify([str(now)], [good], body + b" ", SECRET.encode(), now) == "bad signature"
    assert verify([f"{now}.0"], [good], body, SECRET.encode(), now) == "malformed timestamp"
    assert verify([str(now)], [good], body, SECRET.encode(), now + 301) == "stale timestamp"
    assert verify([], [good], body, SECRET.encode(), now) == "unsigned"


def _share_body(slack: SlackClient) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0USER"},
        "team": {"id": "T0001"},
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0CHAN"},
        "channel": {"id": "C0CHAN"},
        "response_url": slack.fake.response_url(),
        "actions": [{"action_id": "share", "block_id": "b", "value": "port:993"}],
    }
    body, _ = slack.click_body(payload)
    return body


def _sign_bytes(raw: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": ts, "x-slack-signature": f"v0={digest}"}


async def _raw_http(slack: SlackClient, body: str, headers: list[tuple[str, str]]) -> int:
    """The status of a request written byte by byte (aiohttp's client folds repeated headers)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", slack.server.port)
    lines = [
        "POST /slack/events HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Type: {FORM}",
        f"Content-Length: {len(body.encode())}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n" + body).encode())
    status = int((await reader.readline()).split()[1])
    writer.close()
    return status


async def _raw_post(
    slack: SlackClient,
    body: str,
    content_type: str,
    headers: Mapping[str, str],
    signed: bool = True,
) -> tuple[int, Any]:
    """POST with exactly `headers` (signed only when asked), as an attacker would."""
    all_headers = CIMultiDict({"content-type": content_type, **(sign(body) if signed else {})})
    all_headers.extend(headers)
    url = f"{slack.server.url}/slack/events"
    async with slack.session.post(url, data=body.encode(), headers=all_headers) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text else None)


async def test_a_body_that_trickles_in_is_cut_off(
    slack: SlackClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.slack.endpoint.READ_SECONDS", 0.3)
    body, _ = slack.command_body("port 25")
    reader, writer = await asyncio.open_connection("127.0.0.1", slack.server.port)
    head = [
        "POST /slack/events HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Type: {FORM}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in sign(body).items()),
    ]
    writer.write(("\r\n".join(head) + "\r\n\r\n" + body[:10]).encode())
    started = time.monotonic()
    status = int((await asyncio.wait_for(reader.readline(), 5)).split()[1])
    writer.close()
    assert status == 401 and time.monotonic() - started < 2
