"""Time to ack and throughput of `mailport serve`, beside a bare AsyncApp that only acks.

Both servers run as their own processes on 127.0.0.1 and receive the same signed `/mailport`
requests at the same concurrency, in alternating rounds of one run (so background load hits
both alike); the throughput ratio is the median of the per-round ratios. A fake Web API in
this process answers `auth.test`.

The requests cycle through a dozen commands (port numbers, questions, help, an unanswerable
one), as a team asks the same things again: the first of each goes through the matcher, the
rest are served from the bot's reply memo. `--distinct` makes every question unique, so every
request pays the matcher (the worst case; not a goal).

Run: python bench/bench_slack.py [--requests 5000] [--concurrency 50] [--rounds 10] [--distinct]
Goals: mailport's throughput >= 80% of the bare app's; p99 time to ack < 100 ms; none > 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

SECRET = "bench-signing-secret"
TEXTS = [
    "465",
    "587",
    "port 25",
    "help",
    "can I use 587 instead of 25?",
    "which port for imap over ssl",
    "why is my isp blocking port 25",
    "gmail smtp settings for a printer",
    "imap vs pop3 which one",
    "is smtp tcp or udp",
    "where is the parking validation machine",
    "what is port 22",
]
ROOT = Path(__file__).resolve().parent.parent
MAILPORT, BARE = "mailport serve", "bare AsyncApp"
GOAL_RATIO, GOAL_P99_MS, GOAL_MAX_MS = 0.80, 100.0, 3000.0
WARM_UP = 500


@dataclass
class Run:
    """Latencies (seconds) and per-round throughputs against one server."""

    latencies: list[float] = field(default_factory=list)
    rounds: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def throughput(self) -> float:
        return statistics.median(self.rounds)

    def ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    def row(self, name: str) -> str:
        return (
            f"{name:<16}{self.throughput:>9.0f}{self.ms(0.5):>9.1f}{self.ms(0.99):>9.1f}"
            f"{max(self.latencies) * 1000:>9.1f}{self.errors:>8}"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signed_requests(count: int, distinct: bool, start: int = 0) -> list[bytes]:
    """Whole HTTP requests: slash-command bodies as Slack sends them, signed."""
    verifier = SignatureVerifier(SECRET)
    timestamp = str(int(time.time()))
    out = []
    for i in range(start, start + count):
        text = TEXTS[i % len(TEXTS)] + (f" (ticket {i})" if distinct else "")
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T0001",
                "channel_id": "C0001",
                "user_id": f"U{i:06d}",
                "command": "/mailport",
                "text": text,
                "api_app_id": "A0001",
                "response_url": "http://127.0.0.1:9/unused",
                "trigger_id": f"{i}.1",
            }
        )
        signature = verifier.generate_signature(timestamp=timestamp, body=body)
        head = (
            "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Slack-Request-Timestamp: {timestamp}\r\nX-Slack-Signature: {signature}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        out.append((head + body).encode())
    return out


async def fake_web_api() -> tuple[web.AppRunner, str]:
    """Answers auth.test (and anything else) like Slack would."""

    async def api(_: web.Request) -> web.Response:
        return web.json_response(
            {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T0001"}
        )

    app = web.Application()
    app.router.add_post("/api/{method}", api)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/api/"


async def start(args: list[str], env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    """Start a server process and wait for its /healthz."""
    process = await asyncio.create_subprocess_exec(
        *args,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    process.kill()
    raise SystemExit(f"server did not start: {args}")


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """One request on a keep-alive connection; the status and body of the response."""
    writer.write(request)
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def load(port: int, requests: list[bytes], concurrency: int, run: Run, answers: bool) -> None:
    """Send every request over `concurrency` keep-alive connections; record each time to the
    full response and the round's rate. A bare-bones HTTP/1.1 client, so that the load
    generator spends little of the CPU it shares with the server."""
    pending = iter(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in pending:
                started = time.perf_counter()
                status, body = await exchange(reader, writer, request)
                run.latencies.append(time.perf_counter() - started)
                if status != 200 or (answers and b'"blocks"' not in body):
                    run.errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.rounds.append(len(requests) / (time.perf_counter() - started))


async def measure(total: int, concurrency: int, rounds: int, distinct: bool) -> dict[str, Run]:
    """Start both servers, warm them up, then alternate rounds between them."""
    api_runner, api_url = await fake_web_api()
    ports = {BARE: free_port(), MAILPORT: free_port()}
    with tempfile.TemporaryDirectory() as tmp:
        slack = {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api_url,
            "SLACK_APP_TOKEN": "",
        }
        commands = {
            BARE: ([sys.executable, __file__, "--bare", str(ports[BARE])], slack),
            MAILPORT: (
                [sys.executable, "-m", "bot", "serve"],
                {
                    **slack,
                    "PORT": str(ports[MAILPORT]),
                    "MAILPORT_HOST": "127.0.0.1",
                    "MAILPORT_DB": f"{tmp}/bench.db",
                },
            ),
        }
        processes = [await start(args, env, ports[name]) for name, (args, env) in commands.items()]
        runs = {BARE: Run(), MAILPORT: Run()}
        try:
            for port in ports.values():
                await load(port, signed_requests(WARM_UP, distinct), concurrency, Run(), False)
            per_round = total // rounds
            for i in range(rounds):
                order = [BARE, MAILPORT] if i % 2 == 0 else [MAILPORT, BARE]
                requests = signed_requests(per_round, distinct, start=WARM_UP + i * per_round)
                for name in order:
                    await load(ports[name], requests, concurrency, runs[name], name == MAILPORT)
        finally:
            for process in processes:
                process.terminate()
                await process.wait()
            await api_runner.cleanup()
    return runs


def report(bare: Run, mailport: Run, concurrency: int, distinct: bool) -> int:
    """Print both runs, the ratio and the goals; exit status 1 if a goal is missed."""
    mix = "every question unique" if distinct else f"{len(TEXTS)} commands repeating"
    print(
        f"signed /mailport requests ({mix}), concurrency {concurrency}, "
        f"{len(mailport.latencies)} per server in {len(mailport.rounds)} alternating rounds"
    )
    print(f"{'server':<16}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    print(bare.row(BARE))
    print(mailport.row(MAILPORT))
    ratio = statistics.median(m / b for m, b in zip(mailport.rounds, bare.rounds, strict=True))
    slowest = max(mailport.latencies) * 1000
    goals = [
        (
            f"throughput mailport/bare {ratio:.2f} (median of rounds; goal >= {GOAL_RATIO:.2f})",
            ratio >= GOAL_RATIO,
        ),
        (
            f"mailport p99 time to ack {mailport.ms(0.99):.1f} ms (goal < {GOAL_P99_MS:.0f} ms)",
            mailport.ms(0.99) < GOAL_P99_MS,
        ),
        (
            f"mailport slowest ack {slowest:.1f} ms (goal < {GOAL_MAX_MS:.0f} ms)",
            slowest < GOAL_MAX_MS,
        ),
        (f"errors {mailport.errors + bare.errors} (goal 0)", mailport.errors + bare.errors == 0),
    ]
    for text, ok in goals:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in goals) else 1


def bare_app(port: int) -> None:
    """The baseline: an AsyncApp on the same aiohttp runner whose command listener only acks."""
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    async def serve() -> None:
        async with aiohttp.ClientSession() as session:
            api = os.environ["SLACK_API_URL"]
            client = AsyncWebClient(token="xoxb-bench", base_url=api, session=session)
            app = AsyncApp(client=client, signing_secret=SECRET)

            @app.command("/mailport")
            async def ack_only(ack: object) -> None:
                await ack()  # type: ignore[operator]

            async def healthz(_: web.Request) -> web.Response:
                return web.json_response({"ok": True})

            web_app = app.web_app()
            web_app.router.add_get("/healthz", healthz)
            runner = web.AppRunner(web_app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            await asyncio.Event().wait()

    asyncio.run(serve())


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="per server (default 5000)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds (default 10)")
    parser.add_argument("--distinct", action="store_true", help="make every question unique")
    parser.add_argument("--bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.bare:
        bare_app(options.bare)
        return 0
    runs = asyncio.run(
        measure(options.requests, options.concurrency, options.rounds, options.distinct)
    )
    return report(runs[BARE], runs[MAILPORT], options.concurrency, options.distinct)


if __name__ == "__main__":
    sys.exit(main())
