"""Several `mailport serve` processes on one store, and Slack delivering to all of them:
the harness of the multi-instance scenario test and of `bench/bench_instances.py`.

Each instance is a real process on its own 127.0.0.1 port, talking to one fake Slack in
this process. `burst` sends signed mention events, each one to every instance, signed
afresh for each (as Slack signs a retry), and counts what Slack then received per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from slack_harness import SECRET, FakeSlack, SlackClient, mention_event, sign

MAILPORT = [sys.executable, "-m", "bot"]
CURATOR = "U0CURATOR"
START_SECONDS = 60.0
SLACK_VARS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Where:
    """What `SlackClient` needs of a server: its URL."""

    url: str


@dataclass
class Instance:
    """One `mailport serve` process."""

    name: str
    db: str
    fake: FakeSlack
    folder: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    async def start(self) -> Instance:
        env = {k: v for k, v in os.environ.items() if k not in SLACK_VARS}
        env.update(
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=self.fake.api_url,
            PORT=str(self.port),
            MAILPORT_HOST="127.0.0.1",
            MAILPORT_DB=self.db,
            MAILPORT_CURATORS=CURATOR,
            **self.env,
        )
        with self.log.open("a") as log:
            self.process = await asyncio.create_subprocess_exec(
                *MAILPORT, "serve", env=env, stdout=subprocess.DEVNULL, stderr=log
            )
        deadline = time.monotonic() + START_SECONDS
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    break
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return self
                await asyncio.sleep(0.1)
        self.kill()
        raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()[-2000:]}")

    async def health(self) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.url}/healthz") as response,
        ):
            result: dict[str, Any] = await response.json()
            return result

    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def kill(self) -> None:
        """`kill -9`."""
        if self.alive():
            assert self.process is not None
            self.process.kill()

    async def stop(self) -> int | None:
        """SIGTERM, and the exit status (None if it had to be killed)."""
        if self.process is None:
            return None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                return None
        return self.process.returncode


@dataclass
class Burst:
    """What a burst sent and what came of it."""

    sent: list[str] = field(default_factory=list)
    """Each event's message ts, in the order sent."""
    acked: dict[str, set[str]] = field(default_factory=dict)
    """Message ts -> the instances that answered its delivery with 200."""
    seconds: float = 0.0

    def answers(self, fake: FakeSlack) -> Counter[str]:
        """Replies Slack received per message of this burst."""
        wanted = set(self.sent)
        return Counter(
            ts for call in fake.to("chat.postMessage") if (ts := call.get("thread_ts")) in wanted
        )


def client(instance: Instance, session: aiohttp.ClientSession) -> SlackClient:
    return SlackClient(Where(instance.url), instance.fake, session)  # type: ignore[arg-type]


async def deliver(
    instance: Instance, session: aiohttp.ClientSession, event: dict[str, Any], event_id: str, n: int
) -> bool:
    """Deliver one event to one instance, signed afresh (delivery `n` > 0 is a retry)."""
    slack = client(instance, session)
    body = slack.event_body(event, event_id)
    headers = sign(body, timestamp=int(time.time()) - n)
    if n:
        headers.update({"x-slack-retry-num": str(n), "x-slack-retry-reason": "http_timeout"})
    try:
        status, _ = await asyncio.wait_for(slack.post(body, "application/json", headers), 10)
    except (aiohttp.ClientError, TimeoutError):
        return False
    return status == 200


async def burst(
    instances: Sequence[Instance],
    events: int,
    concurrency: int = 20,
    during: Callable[[int], Any] | None = None,
    text: str = "which port for smtp submission?",
) -> Burst:
    """Send `events` mentions, each to every instance at once; `during(i)` runs (awaited if
    it is a coroutine) before event `i` is sent, for faults mid-burst."""
    result = Burst()
    slots = asyncio.Semaphore(concurrency)
    started = time.perf_counter()
    base = time.time()

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        ts = f"{base:.0f}.{i:06d}"
        event = mention_event(f"{text} ({i})", ts=ts, user=f"U{i % 7}")
        result.sent.append(ts)
        result.acked[ts] = set()
        oks = await asyncio.gather(
            *(deliver(inst, session, event, f"Ev{ts}", n) for n, inst in enumerate(instances))
        )
        result.acked[ts] = {inst.name for inst, ok in zip(instances, oks, strict=True) if ok}

    async with aiohttp.ClientSession() as session:
        tasks = []
        for i in range(events):
            if during is not None:
                effect = during(i)
                if asyncio.iscoroutine(effect):
                    await effect
            await slots.acquire()
            task = asyncio.ensure_future(one(session, i))
            task.add_done_callback(lambda _: slots.release())
            tasks.append(task)
        await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - started
    return result


async def settled(fake: FakeSlack, sent: Burst, wait: float, quiet: float = 1.0) -> Counter[str]:
    """Replies per message once every message has one (or `wait` passed) and Slack has been
    quiet for `quiet` seconds, so late doubles are counted too."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and len(sent.answers(fake)) < len(sent.sent):
        await asyncio.sleep(0.1)
    await fake.quiet(quiet)
    return sent.answers(fake)
