"""Fixtures: the real app on a free 127.0.0.1 port, and a fake Slack recording every call."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from slack_harness import SECRET, FakeSlack, SlackClient, running_app

from bot.engine.facade import Engine
from bot.settings import Settings
from bot.store import ResilientStore, SQLiteStore


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that opens a connection or sends a datagram beyond 127.0.0.1."""

    def vetted(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(sock: socket.socket, *args: Any) -> Any:
            address = args[-1]
            if isinstance(address, tuple) and address[0] != "127.0.0.1":
                raise AssertionError(f"test tried to reach {address}")
            return method(sock, *args)

        return call

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, vetted(getattr(socket.socket, name)))


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    app = web.Application()
    app.router.add_post("/api/{method}", slack.api)
    app.router.add_get("/api/{method}", slack.api)  # Slack takes GET for read methods
    app.router.add_post("/response/{id}", slack.response)
    app.router.add_get("/link", slack.link)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    slack.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield slack
    for ws in slack.sockets:
        await ws.close()
    await runner.cleanup()


@pytest.fixture
def settings(fake: FakeSlack, tmp_path: Path) -> Settings:
    return Settings(
        db_path=tmp_path / "mailport.db",
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_app_token="xapp-test",
        slack_api_url=fake.api_url,
    )


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[SQLiteStore]:
    db = SQLiteStore(settings.db_path)
    yield db
    await db.close()


@pytest.fixture
async def slack(
    fake: FakeSlack, settings: Settings, store: SQLiteStore, engine: Engine
) -> AsyncIterator[SlackClient]:
    """The real app on a free 127.0.0.1 port, talking to the fake Slack."""
    resilient = ResilientStore(store, flush_seconds=0.02)
    async with running_app(fake, settings, engine, resilient) as client:
        yield client
    await resilient.close()
