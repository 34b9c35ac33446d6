"""A 7-port check of one host at a given round trip, against swaks and `openssl s_client`
port by port, in the same run.

The servers are the tests' private Postfix and Dovecot (tests/check/mail_instances.py: root
and Debian's postfix, dovecot-imapd and dovecot-pop3d, all on 127.0.0.30). A delay proxy on
127.0.0.31 forwards each mail port's stand-in there, holding every chunk for half the round
trip in each direction. mailport checks 25 465 587 143 993 110 995 through the proxy; then the
peers do what an engineer does by hand, one port after the other: swaks (banner, EHLO,
STARTTLS, EHLO again) on the SMTP ports and `openssl s_client` (STARTTLS or implicit TLS, the
handshake, certificate verification) on the IMAP and POP3 ports.

Run (as root): python bench/bench_check_rtt.py [--rtt-ms 100] [--rounds 3]
Goals: mailport's check at most 0.3x the peers' time; the full check (TLS versions and chain
included) under 1.5 s at 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / p) for p in ("tests", "tests/check")]

import mail_instances  # noqa: E402
from loopback_ports import TEST_PORTS  # noqa: E402

from bot.check import Checker, Level  # noqa: E402
from bot.check.guard import StaticResolver  # noqa: E402
from bot.settings import Settings  # noqa: E402

PROXY = "127.0.0.31"
PORTS = (25, 465, 587, 143, 993, 110, 995)
SWAKS = {25: ["--tls"], 587: ["--tls"], 465: ["--tls-on-connect"]}
S_CLIENT = {143: ["-starttls", "imap"], 110: ["-starttls", "pop3"], 993: [], 995: []}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy `reader` to `writer`, each chunk `delay` seconds late, in order."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            due, chunk = await queue.get()
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if not chunk:
                writer.close()
                return
            writer.write(chunk)
            await writer.drain()

    sender = asyncio.create_task(send())
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            queue.put_nowait((time.monotonic() + delay, chunk))
    queue.put_nowait((time.monotonic() + delay, b""))
    with contextlib.suppress(ConnectionError):
        await sender


@contextlib.asynccontextmanager
async def delay_proxy(rtt: float) -> AsyncIterator[None]:
    """PROXY:stand-in -> the mail servers' stand-in, for every checked port."""

    def handler(port: int):
        async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(rtt)  # the TCP handshake's round trip
            up_reader, up_writer = await asyncio.open_connection(
                mail_instances.ADDRESS, TEST_PORTS[port]
            )
            await asyncio.gather(
                _pipe(reader, up_writer, rtt / 2), _pipe(up_reader, writer, rtt / 2)
            )

        return forward

    servers = [await asyncio.start_server(handler(port), PROXY, TEST_PORTS[port]) for port in PORTS]
    try:
        yield
    finally:
        for server in servers:
            server.close()


async def mailport(cafile: Path) -> tuple[float, Level]:
    settings = Settings(
        allow_cidrs=(ipaddress.ip_network("127.0.0.0/8"),),
        check_ca_file=cafile,
        check_cache_ttl=0,
    )
    resolver = StaticResolver({mail_instances.NAME: {"A": [PROXY]}})
    checker = Checker(settings, resolver=resolver, dial=TEST_PORTS)
    started = time.perf_counter()
    report = await checker.check(mail_instances.NAME, [str(p) for p in PORTS])
    return time.perf_counter() - started, report.level


def peers(cafile: Path) -> float:
    """swaks and s_client, port after port, as an engineer runs them."""
    started = time.perf_counter()
    for port in PORTS:
        where = f"{PROXY}:{TEST_PORTS[port]}"
        if port in SWAKS:
            command = ["swaks", "--server", where, *SWAKS[port], "--quit-after", "HELO"]
            command += ["--tls-verify", "--tls-ca-path", str(cafile)]
        else:
            command = ["openssl", "s_client", "-connect", where, *S_CLIENT[port]]
            command += ["-servername", mail_instances.NAME, "-CAfile", str(cafile)]
            command += ["-verify_return_error", "-brief"]
        subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False
        )
    return time.perf_counter() - started


async def bench(args: argparse.Namespace, servers: mail_instances.MailServers) -> None:
    rtt = args.rtt_ms / 1000
    ours, theirs = [], []
    async with delay_proxy(rtt):
        for _ in range(args.rounds):
            seconds, level = await mailport(servers.cafile)
            ours.append(seconds)
            theirs.append(await asyncio.to_thread(peers, servers.cafile))
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    print(
        f"7 ports ({' '.join(map(str, PORTS))}) at {args.rtt_ms:g} ms round trip, median of "
        f"{args.rounds}:"
    )
    print(f"  mailport check (one run, every port at once): {ours_s:.2f} s ({level.value})")
    print(f"  swaks + openssl s_client, port by port:       {theirs_s:.2f} s")
    print(
        f"  ratio: {ours_s / theirs_s:.2f}x (goal <= 0.3x); full check under 1.5 s: "
        f"{'yes' if ours_s < 1.5 else 'NO'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt-ms", type=float, default=100.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    problem = mail_instances.missing() or (None if shutil.which("swaks") else "swaks missing")
    if problem:
        sys.exit(
            f"bench_check_rtt: {problem} (apt-get install swaks postfix dovecot-imapd "
            "dovecot-pop3d, and run as root)"
        )
    servers = mail_instances.start()
    try:
        asyncio.run(bench(args, servers))
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
