"""Real HTTP against the real app: the app's aiohttp server and a fake Slack, both on 127.0.0.1.

- `FakeSlack` is an aiohttp server playing Slack's Web API (`/api/<method>`), `response_url`
  endpoints (`/response/<id>`) and the Socket Mode WebSocket (`/link`). It records every call,
  and fails as Slack can: slow (`delays`), a chosen answer such as 429 with Retry-After
  (`fail_next`), or the connection reset after the request was read (`reset_next`).
- `SlackClient` sends slash commands, events and interactions exactly as Slack does: the raw
  body signed with the signing secret (v0 HMAC-SHA256 over `v0:<timestamp>:<body>`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.check import Checker
from bot.check.guard import StaticResolver
from bot.engine.facade import Engine
from bot.settings import Settings
from bot.slack.server import HttpServer, http_server
from bot.store import Store

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T0001"
WAIT = 3.0


@dataclass
class Call:
    """One request the app made to fake Slack."""

    method: str
    data: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class FakeSlack:
    """Slack's side of every conversation, recording what the app sent."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[web.Response]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    resets: dict[str, int] = field(default_factory=dict)
    answered: list[str] = field(default_factory=list)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    transports: list[Any] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    visible: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """response_url id -> the messages shown for it (a command's ack first)."""
    """User group ID -> member IDs, for `usergroups.users.list`."""
    connections: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, command: bool = False) -> str:
        """A fresh response_url; a slash command's is marked, since Slack treats it apart."""
        return f"{self.url}/response/{'command-' if command else ''}{next(self._ids)}"

    def shown(self, response_url: str) -> list[dict[str, Any]]:
        """The messages a user sees for one response_url, as Slack would show them."""
        return self.visible.get(response_url.rsplit("/", 1)[1], [])

    def to(self, method: str) -> list[dict[str, Any]]:
        """What the app sent to one method (`response_url` for response_url posts)."""
        return [c.data for c in self.calls if c.method == method]

    def fail_next(self, method: str, response: web.Response) -> None:
        """Answer the next call to `method` with `response` instead of success."""
        self.failures.setdefault(method, []).append(response)

    def reset_next(self, method: str, times: int = 1) -> None:
        """Read (and record) the next `times` calls to `method`, then reset the connection."""
        self.resets[method] = self.resets.get(method, 0) + times

    def _reset(self, method: str, request: web.Request) -> bool:
        if not self.resets.get(method):
            return False
        self.resets[method] -= 1
        assert request.transport is not None
        request.transport.abort()
        return True

    async def wait_for(self, method: str, count: int = 1) -> list[dict[str, Any]]:
        """Wait until `method` was called `count` times; return those calls."""
        deadline = time.monotonic() + WAIT
        while len(self.to(method)) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        found = self.to(method)
        assert len(found) >= count, f"{method}: {len(found)} calls, wanted {count}: {self.calls}"
        return found

    async def quiet(self, seconds: float = 0.3) -> None:
        """Give the app time to do anything it should not do."""
        await asyncio.sleep(seconds)

    # --- aiohttp handlers -----------------------------------------------------------------

    async def api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        data = await _body(request)
        self.calls.append(Call(method, data))
        if self._reset(method, request):
            return web.Response()
        await asyncio.sleep(self.delays.get(method, 0.0))
        self.answered.append(method)
        if self.failures.get(method):
            return self.failures[method].pop(0)
        return web.json_response(self._result(method, data))

    def _result(self, method: str, data: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": TEAM}
        if method == "apps.connections.open":
            ws = self.url.replace("http://", "ws://")
            return {"ok": True, "url": f"{ws}/link?ticket={next(self._ids)}"}
        if method == "chat.postMessage":
            return {"ok": True, "channel": data.get("channel"), "ts": f"{time.time():.6f}"}
        if method == "usergroups.users.list":
            members = self.usergroups.get(str(data.get("usergroup")))
            if members is None:  # what Slack answers for a group that does not exist
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": members}
        return {"ok": True}

    async def response(self, request: web.Request) -> web.Response:
        data = await _body(request)
        self.calls.append(Call("response_url", data))
        if self._reset("response_url", request):
            return web.Response()
        await asyncio.sleep(self.delays.get("response_url", 0.0))
        if self.failures.get("response_url"):
            return self.failures["response_url"].pop(0)
        self._show(request.match_info["id"], data)
        return web.Response(text="ok")

    def _show(self, url_id: str, data: dict[str, Any]) -> None:
        """What Slack shows: `replace_original` replaces an interactive message, but a slash
        command's first reply cannot be replaced (bolt-python #1268, bolt-js #2287): Slack
        says "ok" and nothing changes."""
        shown = self.visible.setdefault(url_id, [])
        replace = data.get("replace_original") in (True, "true")
        if replace and url_id.startswith("command-"):
            return
        if replace and shown:
            shown[-1] = data
        else:
            shown.append(data)

    async def link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        self.sockets.append(ws)
        self.transports.append(request.transport)
        await ws.send_json({"type": "hello", "num_connections": 1})
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
        return ws

    async def envelope(self, kind: str, payload: dict[str, Any], **extra: Any) -> str:
        """Send a Socket Mode envelope on the newest connection; return its id."""
        envelope_id = f"env-{next(self._ids)}"
        message = {"envelope_id": envelope_id, "type": kind, "payload": payload, **extra}
        await self.sockets[-1].send_json(message)
        return envelope_id

    async def wait_ack(self, envelope_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for ack in self.acks:
                if ack.get("envelope_id") == envelope_id:
                    return ack
            await asyncio.sleep(0.01)
        raise AssertionError(f"no ack for {envelope_id}: {self.acks}")

    async def wait_connections(self, count: int, wait: float = WAIT) -> None:
        deadline = time.monotonic() + wait
        while self.connections < count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert self.connections >= count, f"{self.connections} connections, wanted {count}"


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return await request.json()
    form = dict(await request.post())
    return {**dict(request.query), **{k: str(v) for k, v in form.items()}}


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Slack's signature headers for `body`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"x-slack-request-timestamp": ts, "x-slack-signature": signature}


@dataclass
class SlackClient:
    """Sends what Slack sends, signed, to the app's `/slack/events`."""

    server: HttpServer
    fake: FakeSlack
    session: aiohttp.ClientSession
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    last_response_url: str = ""

    async def post(
        self, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """POST a raw body; returns the status and the parsed (JSON when possible) answer."""
        all_headers = {"content-type": content_type, **sign(body), **(headers or {})}
        url = f"{self.server.url}/slack/events"
        async with self.session.post(url, data=body.encode(), headers=all_headers) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text) if text else None
            except json.JSONDecodeError:
                return response.status, text

    async def health(self) -> dict[str, Any]:
        """`GET /healthz`."""
        async with self.session.get(f"{self.server.url}/healthz") as response:
            assert response.status == 200
            return await response.json()

    async def command(self, text: str, user: str = "U0USER", channel: str = "C0CHAN") -> Any:
        """`/mailport <text>`; asserts 200 and returns the ack's JSON (also the first message
        `fake.shown(last_response_url)` lists)."""
        url = self.fake.response_url(command=True)
        status, answer = await self.post(*self.command_body(text, user, channel, response_url=url))
        assert status == 200, answer
        self.last_response_url = url
        if answer:
            self.fake.visible.setdefault(url.rsplit("/", 1)[1], []).insert(0, answer)
        return answer

    def command_body(
        self, text: str, user: str = "U0USER", channel: str = "C0CHAN", **extra: str
    ) -> tuple[str, str]:
        fields = {
            "response_url": self.fake.response_url(command=True),
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "example",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "pat",
            "command": "/mailport",
            "text": text,
            "api_app_id": "A0APP",
            "is_enterprise_install": "false",
            "trigger_id": "1.2.3",
            **extra,
        }
        return urlencode(fields), "application/x-www-form-urlencoded"

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> str:
        return json.dumps(
            {
                "token": "legacy",
                "team_id": TEAM,
                "api_app_id": "A0APP",
                "event": event,
                "type": "event_callback",
                "event_id": event_id or f"Ev{next(self._ids):08d}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
            }
        )

    async def event(
        self, event: dict[str, Any], event_id: str | None = None, retry: int | None = None
    ) -> int:
        """Deliver an Events API callback; returns the HTTP status."""
        headers = {"x-slack-retry-num": str(retry), "x-slack-retry-reason": "http_timeout"}
        body = self.event_body(event, event_id)
        status, _ = await self.post(body, "application/json", headers if retry else None)
        return status

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        response_url: str | None = None,
        ephemeral: bool = True,
        channel: str = "C0CHAN",
        ts: str = "1700000000.000100",
        thread_ts: str | None = None,
        user: str = "U0USER",
    ) -> tuple[int, Any]:
        """A `block_actions` payload for a button on a message."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": "pat", "team_id": TEAM},
            "api_app_id": "A0APP",
            "token": "legacy",
            "trigger_id": "1.2.3",
            "team": {"id": TEAM, "domain": "example"},
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            },
            "channel": {"id": channel, "name": "general"},
            "response_url": response_url or self.fake.response_url(),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                    "text": {"type": "plain_text", "text": "x"},
                }
            ],
        }
        if not ephemeral:
            payload["message"] = {
                "type": "message",
                "ts": ts,
                "user": BOT_USER,
                "bot_id": BOT_ID,
                "text": "answer",
                **({"thread_ts": thread_ts} if thread_ts else {}),
            }
        return await self.post(*self.click_body(payload))

    @staticmethod
    def click_body(payload: dict[str, Any]) -> tuple[str, str]:
        return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


def message_event(text: str, **fields: Any) -> dict[str, Any]:
    """A user's message event; override any field (`type`, `channel`, `channel_type`, ...)."""
    ts = fields.pop("ts", f"{time.time():.6f}")
    return {
        "type": "message",
        "user": "U0USER",
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel": "D0DM",
        "channel_type": "im",
        "team": TEAM,
        **fields,
    }


def mention_event(text: str, **fields: Any) -> dict[str, Any]:
    """An `app_mention` (in a channel unless `channel` says otherwise)."""
    event = message_event(
        f"<@{BOT_USER}> {text}", **{"type": "app_mention", "channel": "C0CHAN", **fields}
    )
    event.pop("channel_type")
    return event


def texts(payload: Any) -> str:
    """Every string in a message payload, joined: for "does it say X" assertions."""
    return json.dumps(payload, ensure_ascii=False)


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    return next(
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )


def offline_checker(settings: Settings, store: Store) -> Checker:
    """The real checker, with DNS answered from an empty table: no query leaves the machine."""
    return Checker(settings, store, resolver=StaticResolver({}))


@asynccontextmanager
async def running_app(
    fake: FakeSlack,
    settings: Settings,
    engine: Engine,
    store: Store,
    checker: Checker | None = None,
    drain: float = 10.0,
) -> AsyncIterator[SlackClient]:
    """The real app on a free 127.0.0.1 port, and a client that talks to it as Slack does."""
    checker = checker or offline_checker(settings, store)
    async with (
        http_server(settings, engine, store, "127.0.0.1", 0, checker, drain) as server,
        aiohttp.ClientSession() as session,
    ):
        yield SlackClient(server, fake, session)
