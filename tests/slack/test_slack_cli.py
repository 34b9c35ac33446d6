"""`mailport serve` and `mailport report` as real processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_harness import SECRET, FakeSlack, sign

from bot.store import SQLiteDB

pytestmark = pytest.mark.usefixtures("engine")  # the fit is cached before `mailport` starts


MAILPORT = [sys.executable, "-m", "bot"]
SLACK_VARS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "PORT")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SLACK_VARS}
    return {**env, **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("env", "args", "variable"),
    [
        ({}, [], "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, [], "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, ["--socket"], "SLACK_APP_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, [], "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PORT": "http"}, [], "PORT"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, [], "SLACK_APP_TOKEN"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "ftp://x"},
            [],
            "SLACK_API_URL",
        ),
    ],
)
def test_bad_settings_exit_2_with_one_line(
    env: dict[str, str], args: list[str], variable: str
) -> None:
    result = subprocess.run(
        [*MAILPORT, "serve", *args],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0], result.stderr


def _junk(path: Path) -> str:
    path.write_bytes(b"\x00junk" * 500)
    return str(path)


def _foreign(path: Path) -> str:
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    return str(path)


def _broken_knowledge(path: Path) -> str:
    import shutil

    from bot.kb.knowledge import default_dir

    shutil.copytree(default_dir(), path)
    (path / "ports.yaml").write_text("- port: [unclosed\n")
    return str(path)


@pytest.mark.parametrize(
    ("variable", "make", "status"),
    [
        ("MAILPORT_DB", _junk, 2),
        ("MAILPORT_DB", _foreign, 2),
        ("MAILPORT_DB", lambda p: "/proc/no/such/dir/mailport.db", 2),
        ("MAILPORT_CHECK_CA_FILE", _junk, 2),
        ("MAILPORT_KNOWLEDGE", _junk, 2),
        ("MAILPORT_KNOWLEDGE", _broken_knowledge, 1),
        ("MAILPORT_CHECK_DEADLINE", lambda p: "nan", 2),
        ("MAILPORT_CHECK_DEADLINE", lambda p: "inf", 2),
        ("MAILPORT_CHECK_CACHE_TTL", lambda p: "1e400", 2),
        ("MAILPORT_MAX_PENDING", lambda p: "0", 2),
    ],
)
def test_start_up_faults_are_one_line(
    tmp_path: Path, variable: str, make: Callable[[Path], str], status: int
) -> None:
    env = clean_env(
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        PORT=str(free_port()),
        MAILPORT_HOST="127.0.0.1",
        MAILPORT_DB=str(tmp_path / "ok.db"),
        MAILPORT_CACHE_DIR=str(tmp_path / "cache"),
    )
    env[variable] = make(tmp_path / "thing")
    result = subprocess.run(
        [*MAILPORT, "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mailport: "), result.stderr
    named = variable if status == 2 else "ports.yaml"
    assert named in lines[0] or env[variable] in lines[0], lines[0]


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = clean_env(
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_SIGNING_SECRET="s",
            PORT=str(port),
            MAILPORT_HOST="127.0.0.1",
            MAILPORT_DB=str(tmp_path / "ok.db"),
        )
        result = subprocess.run(
            [*MAILPORT, "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "WARNING" not in line]
    assert errors == [f"mailport: PORT {port}: cannot listen on 127.0.0.1 (Address already in use)"]


@pytest.fixture
async def served(fake: FakeSlack, tmp_path: Path) -> AsyncIterator[str]:
    port = free_port()
    env = clean_env(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
        PORT=str(port),
        MAILPORT_HOST="127.0.0.1",
        MAILPORT_DB=str(tmp_path / "mailport.db"),
    )
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        process = await asyncio.create_subprocess_exec(
            *MAILPORT, "serve", env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        else:
            process.kill()
            pytest.fail(f"mailport serve did not start:\n{log.read_text()}")
        yield url
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 10) == 0


async def test_serve_answers_signed_commands(served: str) -> None:
    fields = {
        "command": "/mailport",
        "text": "587",
        "user_id": "U1",
        "channel_id": "C1",
        "response_url": "http://127.0.0.1:9/r",
    }
    body = urlencode(fields)
    headers = {"content-type": "application/x-www-form-urlencoded", **sign(body)}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{served}/slack/events", data=body, headers=headers) as response:
            assert response.status == 200
            assert "587" in (await response.json())["text"]
        headers["x-slack-signature"] = "v0=" + "1" * 64
        async with session.post(f"{served}/slack/events", data=body, headers=headers) as response:
            assert response.status == 401


def test_report_prints_both_lists(tmp_path: Path) -> None:
    db = tmp_path / "mailport.db"
    store = SQLiteDB(db)
    for _ in range(3):
        store.record_unanswered("does port 2526 work?")
    store.record_vote("port-465", "U1", helpful=False)
    store.close()
    result = subprocess.run(
        [*MAILPORT, "report"],
        env=clean_env(MAILPORT_DB=str(db)),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "3  does port 2526 work?" in result.stdout
    assert "port-465" in result.stdout


@contextlib.asynccontextmanager
async def _socket_process(
    fake_api: str, tmp_path: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`mailport serve` in Socket Mode, killed afterwards if a failed test left it running."""
    env = clean_env(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_URL=fake_api,
        MAILPORT_DB=str(tmp_path / "mailport.db"),
    )
    with (tmp_path / "serve.log").open("w") as log:
        process = await asyncio.create_subprocess_exec(
            *MAILPORT, "serve", env=env, stdout=subprocess.DEVNULL, stderr=log
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_serve_picks_socket_mode_from_the_app_token(fake: FakeSlack, tmp_path: Path) -> None:
    async with _socket_process(fake.api_url, tmp_path) as process:
        await fake.wait_connections(1, wait=20)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0


async def test_sigterm_stops_a_socket_mode_still_connecting(tmp_path: Path) -> None:
    api = f"http://127.0.0.1:{free_port()}/api/"
    async with _socket_process(api, tmp_path) as process:
        log = tmp_path / "serve.log"
        for _ in range(200):
            if "Failed to connect" in log.read_text():
                break
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
