"""Soak: `mailport serve` under load while the Web API is slow, then rate-limits.

One `mailport serve` process on 127.0.0.1 receives, for `--seconds` (default 60):
- signed `/mailport` commands with distinct questions from 50 concurrent connections (every
  one pays the matcher and the renderer), and
- signed `app_mention` events at `--mentions` per second from 10 connections, a tenth of
  them delivered twice as Slack's retries are (same event id, `X-Slack-Retry-Num`).
The server runs with `MAILPORT_MAX_PENDING=64`, so a slow Web API fills the bound and replies
are shed within seconds.
The fake Web API in this process answers `chat.postMessage` after 2 s in the first half (and
resets 1% of connections after reading the request, as a failing proxy would), and in the
second half answers 429 with `Retry-After: 1` to 70% of calls.

It prints the time to ack (p50, p99, max, how many over 3 s), replies delivered and shed
(from /healthz, and the shed lines the server logged), messages posted twice (a 200 or a
reset after the request was read, twice for one thread), and the server's RSS after warm-up
and at the end.

Run: python bench/bench_soak.py [--seconds 60] [--mentions 50]
Goals: 0 acks over 3 s; p99 < 100 ms; 0 double posts; RSS growth < 30 MB; every shed reply
logged.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from bench_slack import ROOT, SECRET, TEXTS, exchange, free_port
from slack_sdk.signature import SignatureVerifier

SLOW_SECONDS = 2.0
RESET_SHARE = 0.01
LIMITED_SHARE = 0.7
RETRY_SHARE = 0.1
COMMAND_CONNECTIONS = 50
MENTION_CONNECTIONS = 10
MAX_PENDING = 64
GOAL_P99_MS, GOAL_MAX_S, GOAL_RSS_MB = 100.0, 3.0, 30.0


@dataclass
class FakeWebApi:
    """Slack's Web API, slow then rate-limiting; counts the posts that may have landed."""

    started: float = 0.0
    half: float = 30.0
    delivered: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)

    async def api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if method != "chat.postMessage":
            return web.json_response({"ok": True, "user_id": "UBOT", "team_id": "T0001"})
        data = (
            await request.json()
            if request.content_type == "application/json"
            else dict(await request.post())
        )
        key = f"{data.get('channel')}:{data.get('thread_ts')}"
        if time.monotonic() - self.started < self.half:
            if random.random() < RESET_SHARE:
                self.answers["reset"] += 1
                self.delivered[key] += 1  # it may have been posted: the reply was lost
                assert request.transport is not None
                request.transport.abort()
                return web.Response()
            await asyncio.sleep(SLOW_SECONDS)
        elif random.random() < LIMITED_SHARE:
            self.answers["429"] += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
            )
        self.answers["200"] += 1
        self.delivered[key] += 1
        return web.json_response({"ok": True, "channel": data.get("channel"), "ts": "1.1"})


@dataclass
class Acks:
    """Times to ack (seconds) and failed requests."""

    times: list[float] = field(default_factory=list)
    errors: int = 0

    def ms(self, fraction: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def signed(body: str, content_type: str, extra: str = "") -> bytes:
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"X-Slack-Request-Timestamp: {timestamp}\r\nX-Slack-Signature: {signature}\r\n{extra}"
        f"Content-Length: {len(body.encode())}\r\n\r\n"
    )
    return (head + body).encode()


def command(i: int) -> bytes:
    text = f"{TEXTS[i % len(TEXTS)]} (ticket {i})"
    fields = {
        "team_id": "T0001",
        "channel_id": "C0001",
        "user_id": f"U{i:06d}",
        "command": "/mailport",
        "text": text,
        "response_url": "https://hooks.slack.com/commands/T0001/1/unused",
        "trigger_id": f"{i}.1",
    }
    return signed(urlencode(fields), "application/x-www-form-urlencoded")


def mention(i: int, retry: bool) -> bytes:
    event = {
        "type": "app_mention",
        "user": "U0USER",
        "text": f"<@UBOT> {TEXTS[i % len(TEXTS)]} (case {i})",
        "ts": f"1700000000.{i:06d}",
        "channel": f"C{i:07d}",
    }
    body = json.dumps(
        {"team_id": "T0001", "type": "event_callback", "event": event, "event_id": f"Ev{i:09d}"}
    )
    extra = "X-Slack-Retry-Num: 1\r\nX-Slack-Retry-Reason: http_timeout\r\n" if retry else ""
    return signed(body, "application/json", extra)


async def send_commands(port: int, until: float, acks: Acks, ids: itertools.count) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < until:
            started = time.perf_counter()
            status, _ = await exchange(reader, writer, command(next(ids)))
            acks.times.append(time.perf_counter() - started)
            acks.errors += status != 200
    finally:
        writer.close()


async def send_mentions(
    port: int, until: float, rate: float, acks: Acks, ids: itertools.count[int]
) -> int:
    """Mentions at `rate` per second on one connection, some delivered again as retries;
    returns how many."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent, begun = 0, time.monotonic()
    try:
        while time.monotonic() < until:
            i = next(ids)
            for request in [mention(i, False)] + (
                [mention(i, True)] if random.random() < RETRY_SHARE else []
            ):
                started = time.perf_counter()
                status, _ = await exchange(reader, writer, request)
                acks.times.append(time.perf_counter() - started)
                acks.errors += status != 200
            sent += 1
            await asyncio.sleep(max(0.0, begun + sent / rate - time.monotonic()))
    finally:
        writer.close()
    return sent


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def health(session: aiohttp.ClientSession, port: int) -> dict[str, object]:
    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
        data: dict[str, object] = await response.json()
        return data


async def soak(seconds: float, rate: float) -> int:
    fake = FakeWebApi(half=seconds / 2)
    app = web.Application()
    app.router.add_post("/api/{method}", fake.api)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    api_url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/"
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "serve.log"
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-soak",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api_url,
            "SLACK_APP_TOKEN": "",
            "PORT": str(port),
            "MAILPORT_HOST": "127.0.0.1",
            "MAILPORT_DB": f"{tmp}/soak.db",
            "MAILPORT_MAX_PENDING": str(MAX_PENDING),
        }
        with log_path.open("w") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "serve", env=env, cwd=ROOT, stderr=log
            )
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                try:
                    await health(session, port)
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            warm = Acks()
            await send_commands(port, time.monotonic() + 2, warm, itertools.count(10**7))
            rss_start = rss_mb(process.pid)
            acks, ids = Acks(), itertools.count()
            fake.started = time.monotonic()
            until = fake.started + seconds
            mention_ids = itertools.count()
            results = await asyncio.gather(
                *(
                    send_mentions(port, until, rate / MENTION_CONNECTIONS, acks, mention_ids)
                    for _ in range(MENTION_CONNECTIONS)
                ),
                *(send_commands(port, until, acks, ids) for _ in range(COMMAND_CONNECTIONS)),
            )
            mentions = sum(results[:MENTION_CONNECTIONS])
            await asyncio.sleep(5)
            state = await health(session, port)
            rss_end = rss_mb(process.pid)
        process.send_signal(signal.SIGTERM)
        await process.wait()
        logged = log_path.read_text()
    await runner.cleanup()
    return report(seconds, mentions, acks, fake, state, logged, rss_start, rss_end)


def report(
    seconds: float,
    mentions: int,
    acks: Acks,
    fake: FakeWebApi,
    state: dict[str, object],
    logged: str,
    rss_start: float,
    rss_end: float,
) -> int:
    replies = state["replies"]
    assert isinstance(replies, dict)
    shed = int(replies.get("shed", 0))
    shed_lines = logged.count("mailport.slack shed ")
    doubles = sum(1 for count in fake.delivered.values() if count > 1)
    slow = sum(1 for t in acks.times if t > GOAL_MAX_S)
    print(
        f"{seconds:.0f} s: {len(acks.times)} requests acked ({acks.errors} not 200), "
        f"{mentions} mentions (+ retries), {COMMAND_CONNECTIONS} command connections"
    )
    print(
        f"acks: p50 {acks.ms(0.5):.1f} ms, p99 {acks.ms(0.99):.1f} ms, "
        f"max {max(acks.times) * 1000:.0f} ms, over 3 s: {slow}"
    )
    print(
        f"mention replies: delivered {len(fake.delivered)}, shed {shed} "
        f"(shed lines logged: {shed_lines}), still pending {replies.get('pending')}; "
        f"Web API answered {dict(fake.answers)}"
    )
    print(f"posts that reached the Web API twice for one message: {doubles}")
    print(f"RSS: {rss_start:.1f} MB after warm-up, {rss_end:.1f} MB at the end")
    goals = [
        (f"acks over 3 s: {slow} (goal 0)", slow == 0),
        (f"p99 ack {acks.ms(0.99):.1f} ms (goal < {GOAL_P99_MS:.0f})", acks.ms(0.99) < GOAL_P99_MS),
        (f"double posts {doubles} (goal 0)", doubles == 0),
        (
            f"RSS growth {rss_end - rss_start:.1f} MB (goal < {GOAL_RSS_MB:.0f})",
            rss_end - rss_start < GOAL_RSS_MB,
        ),
        (f"shed replies logged {shed_lines} of {shed}", shed_lines == shed),
        (f"requests not acked 200: {acks.errors} (goal 0)", acks.errors == 0),
    ]
    for text, ok in goals:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in goals) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--mentions", type=float, default=50.0, help="mentions per second")
    args = parser.parse_args()
    return asyncio.run(soak(args.seconds, args.mentions))


if __name__ == "__main__":
    sys.exit(main())
