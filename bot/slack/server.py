"""Run the Slack app: HTTP mode (aiohttp: `POST /slack/events`, `GET /healthz`) or Socket Mode.

Both share one `aiohttp.ClientSession` for every Web API call and `response_url` post, for
the life of the process, and let replies still in flight finish before it closes. Socket
Mode reconnects by itself (slack_sdk's aiohttp client re-issues a WebSocket URL when the
connection closes or stops answering pings).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot.check import Checker
from bot.engine.facade import Engine
from bot.settings import Settings, SettingsError
from bot.slack.app import build_app, make_client
from bot.slack.endpoint import MAX_BODY, Endpoint
from bot.slack.tasks import Background
from bot.store import ResilientStore, Store, open_store

log = logging.getLogger("mailport.slack")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
DRAIN_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class HttpServer:
    """A running HTTP server: where it listens and the Bolt app behind it."""

    app: AsyncApp
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _healthz(
    engine: Engine, store: Store, background: Background, endpoint: Endpoint
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "ok": True,
                "entries": len(engine.kb.entries),
                "store": getattr(store, "health", "ok"),
                "replies": {
                    "pending": len(background),
                    **{key: background.counts[key] for key in ("started", "shed")},
                },
                "requests": {
                    key: endpoint.counts[key] for key in ("rejected", "replayed", "malformed")
                },
            }
        )

    return healthz


@asynccontextmanager
async def _drained(limit: int, drain: float = DRAIN_SECONDS) -> AsyncIterator[Background]:
    """Background work for the app; on the way out, replies in flight may finish."""
    background = Background(limit)
    try:
        yield background
    finally:
        await background.drain(drain)


@asynccontextmanager
async def http_server(
    settings: Settings,
    engine: Engine,
    store: Store,
    host: str | None = None,
    port: int | None = None,
    checker: Checker | None = None,
    drain: float = DRAIN_SECONDS,
) -> AsyncIterator[HttpServer]:
    """Serve the app on `host:port` (default `settings.host` and `settings.port`; port 0 picks
    a free one); on the
    way out, replies in flight get `drain` seconds to finish."""
    async with (
        aiohttp.ClientSession() as session,
        _drained(settings.max_pending, drain) as background,
    ):
        client = make_client(settings, session)
        store = store if isinstance(store, ResilientStore) else ResilientStore(store)
        app = build_app(engine, store, settings, client, background, checker)
        shared = store if settings.db_url else None
        endpoint = Endpoint(app, settings.slack_signing_secret, shared)
        web_app = web.Application(client_max_size=MAX_BODY)
        web_app.router.add_post(EVENTS_PATH, endpoint.handle)
        web_app.router.add_get(HEALTH_PATH, _healthz(engine, store, background, endpoint))
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        try:
            wanted = settings.port if port is None else port
            host = settings.host if host is None else host
            site = web.TCPSite(runner, host, wanted)
            try:
                await site.start()
            except OSError as exc:
                reason = os.strerror(exc.errno) if exc.errno else str(exc)
                raise SettingsError(f"PORT {wanted}: cannot listen on {host} ({reason})") from None
            bound = runner.addresses[0][1]
            log.info("listening on http://%s:%s%s", host, bound, EVENTS_PATH)
            yield HttpServer(app=app, host=host, port=bound)
        finally:
            await runner.cleanup()


@asynccontextmanager
async def socket_mode(
    settings: Settings,
    engine: Engine,
    store: Store,
    ping_interval: float = 10.0,
    checker: Checker | None = None,
) -> AsyncIterator[AsyncSocketModeHandler]:
    """Connect over Socket Mode with the app-level token; yields the connected handler."""
    async with (
        aiohttp.ClientSession() as session,
        _drained(settings.max_pending) as background,
    ):
        client = make_client(settings, session)
        app = build_app(engine, store, settings, client, background, checker)
        handler = AsyncSocketModeHandler(
            app, app_token=settings.slack_app_token, web_client=client, ping_interval=ping_interval
        )
        try:
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("connected over Socket Mode")
            yield handler
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]


async def run(settings: Settings, socket: bool) -> None:
    """Load the engine and store, serve until SIGINT or SIGTERM, then shut down cleanly.

    A signal cancels this task wherever it is, including a Socket Mode connection still
    retrying to reach Slack; the context managers then close the server and drain replies.
    """
    store = ResilientStore(  # a bad database fails before indexing
        await open_store(settings.db_path, settings.db_url)
    )
    try:
        engine = Engine.load(settings.knowledge_dir, settings.cache_dir)
    except BaseException:
        await store.close()
        raise
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, main.cancel)
    server: AbstractAsyncContextManager[object] = (
        socket_mode(settings, engine, store) if socket else http_server(settings, engine, store)
    )
    try:
        async with server:
            _freeze_startup_objects()
            await asyncio.Event().wait()
    except asyncio.CancelledError:
        main.uncancel()
        log.info("stopped")
    finally:
        await store.close()


def _freeze_startup_objects() -> None:
    """Keep what start-up built (knowledge index, Slack SDK) out of every later collection.

    A full collection over it takes tens of milliseconds, which would stall every request in
    flight; after `gc.freeze()` only objects made while serving are scanned.
    """
    gc.collect()
    gc.freeze()
