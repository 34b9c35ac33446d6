"""`POST /slack/events`: verify first, then parse, then hand the request to Bolt.

A request whose signature fails verification for any reason (missing or repeated header,
a timestamp that is not a plain number or is older than five minutes, a signature of the
wrong shape or value, a body over `MAX_BODY` bytes or slower than `READ_SECONDS`) gets 401
and nothing else: its body is never parsed or logged, no listener or error handler runs,
and one short log line (throttled) names the reason. A verified request that is replayed
(the same signature again: to this instance, or to any other when the store is shared) gets
an empty 200 and runs nothing; a verified body that does not parse gets 400. Signatures are
remembered in memory, and also in the shared store when there is one (PostgreSQL): a call
to a local SQLite file before every ack would halve throughput for no gain, as one process
owns it.

Verified bodies are parsed here rather than by Bolt, whose parser takes any form body that
contains the word "payload" anywhere (a slash command asking about "smtp payload size") for
an interaction. Bolt receives the parsed body as it does in Socket Mode, so it does not
parse or verify a second time.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.store import MemoryStore, Store

log = logging.getLogger("mailport.slack.endpoint")

MAX_BODY = 1024 * 1024
READ_SECONDS = 10.0
MAX_AGE = 300
MAX_FORM_FIELDS = 100
REPLAY_TTL = 2.0 * MAX_AGE + 60  # a signature older than MAX_AGE is refused anyway
LOG_INTERVAL = 1.0

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class MalformedBody(ValueError):
    """A verified body that is not a Slack payload."""


def verify(
    timestamps: list[str], signatures: list[str], body: bytes, secret: bytes, now: float
) -> str | None:
    """Why the request is not from Slack, or None when its signature holds."""
    if not timestamps or not signatures:
        return "unsigned"
    if len(timestamps) > 1 or len(signatures) > 1:
        return "repeated signature headers"
    timestamp, signature = timestamps[0], signatures[0]
    if not _TIMESTAMP.fullmatch(timestamp):
        return "malformed timestamp"
    if abs(now - int(timestamp)) > MAX_AGE:
        return "stale timestamp"
    if not _SIGNATURE.fullmatch(signature):
        return "malformed signature"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, signature) else "bad signature"


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """A verified body as Slack means it: JSON (events), a slash command's form, or an
    interaction's form (one `payload` field holding JSON)."""
    try:
        text = raw.decode("utf-8")
        if content_type == "application/json" or text.startswith("{"):
            parsed = json.loads(text)
        else:
            form = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
            parsed = json.loads(form["payload"]) if set(form) == {"payload"} else form
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedBody(type(exc).__name__) from None
    if not isinstance(parsed, dict):
        raise MalformedBody("not an object")
    return parsed


@dataclass
class Endpoint:
    """The aiohttp handler for Slack's requests, with counters for `/healthz`."""

    app: AsyncApp
    secret: str
    shared: Store | None = None
    """The store other instances use too, if any: replays to them are refused as well."""
    _signatures: MemoryStore = field(default_factory=MemoryStore)
    clock: Callable[[], float] = time.time
    counts: Counter[str] = field(default_factory=Counter)
    _logged: dict[str, float] = field(default_factory=dict)
    _quiet: Counter[str] = field(default_factory=Counter)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await self._read(request)
        headers = request.headers
        reason = (
            "body too large or too slow"
            if raw is None
            else verify(
                headers.getall("X-Slack-Request-Timestamp", []),
                headers.getall("X-Slack-Signature", []),
                raw,
                self.secret.encode(),
                self.clock(),
            )
        )
        if reason is not None:
            self._reject(request, reason, len(raw or b""))
            return web.Response(status=401)
        assert raw is not None
        signature = headers["X-Slack-Signature"]  # it covers the timestamp: a replay has both
        if not await self._first(f"signature:{signature[3:35]}"):
            self.counts["replayed"] += 1
            self._note("replayed", "dropped a replayed request (signature already seen)")
            return web.Response(status=200)
        try:
            body = parse_body(raw, request.content_type)
        except MalformedBody as exc:
            self.counts["malformed"] += 1
            self._note("malformed", f"a signed body that is not a Slack payload ({exc})")
            return web.Response(status=400)
        bolt_request = AsyncBoltRequest(
            body=body, query=request.query_string, headers=dict(headers), mode="socket_mode"
        )
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _first(self, key: str) -> bool:
        """True the first time a signature comes, to this instance or any sharing the store."""
        if not self._signatures.seen(key, REPLAY_TTL):
            return False
        return self.shared is None or await self.shared.first_time(key, REPLAY_TTL)

    async def _read(self, request: web.Request) -> bytes | None:
        """The raw body, or None when it is over the cap or does not arrive in time."""
        if (request.content_length or 0) > MAX_BODY:
            return None
        try:
            if request.content.is_eof():  # the usual case: the whole body has arrived
                return await request.read()
            async with asyncio.timeout(READ_SECONDS):
                return await request.read()
        except (web.HTTPRequestEntityTooLarge, TimeoutError):
            return None

    def _reject(self, request: web.Request, reason: str, size: int) -> None:
        self.counts["rejected"] += 1
        peer = request.remote or "?"
        self._note(reason, f"401 for {peer}: {reason} ({size} bytes, body not read further)")

    def _note(self, kind: str, line: str) -> None:
        """One warning per kind per `LOG_INTERVAL`, with how many like it went unlogged."""
        now = time.monotonic()
        if now - self._logged.get(kind, -LOG_INTERVAL) < LOG_INTERVAL:
            self._quiet[kind] += 1
            return
        self._logged[kind] = now
        quiet, self._quiet[kind] = self._quiet[kind], 0
        log.warning("%s%s", line, f" (+{quiet} more like it)" if quiet else "")
