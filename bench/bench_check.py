"""Many live checks at once, one of them against a server that never answers.

A separate process runs two servers on port 2525: an SMTP server with STARTTLS (a trustme
certificate) on 127.0.0.2 and a silent one on 127.0.0.3 that accepts and never speaks. This
process runs rounds of `--checks` concurrent checks through one `Checker` (fixed DNS,
127.0.0.0/8 allowed), each of a different name: all but one go to the good server, one to the
silent server. Each round prints checks/s, p50/p99 of the good checks, the checker's CPU time
per check, the silent check's time (its deadline) and RSS, once without and once with the
silent check, so the two can be compared. RSS should stay flat from round to round.

Run: python bench/bench_check.py [--checks 200] [--rounds 5] [--deadline 5] [--concurrency 200]
Goals: good checks' p99 < 1 s while the silent one runs; silent check ends within 0.2 s of the
deadline; RSS after the last round within 5 MiB of RSS after the first.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import multiprocessing
import ssl
import tempfile
import time
from pathlib import Path

import trustme

from bot.check import Checker, Level
from bot.check.guard import StaticResolver
from bot.settings import Settings

PORT = 2525
GOOD, SILENT = "127.0.0.2", "127.0.0.3"
MAX_CHECKS = 10_000
# Distinct names, since concurrent checks of one target share a single live check.
DNS = {f"good-{i}.bench.example.net": {"A": [GOOD]} for i in range(MAX_CHECKS)}
DNS["silent.bench.example.net"] = {"A": [SILENT]}


async def _smtp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tls: ssl.SSLContext):
    writer.write(b"220 bench ESMTP\r\n")
    secure = False
    try:
        while line := (await reader.readline()).strip().upper():
            if line.startswith(b"EHLO"):
                extra = b"250-AUTH PLAIN\r\n" if secure else b"250-STARTTLS\r\n"
                writer.write(b"250-bench\r\n" + extra + b"250 8BITMIME\r\n")
            elif line == b"STARTTLS":
                writer.write(b"220 Go ahead\r\n")
                await writer.drain()
                await writer.start_tls(tls)
                secure = True
            elif line == b"QUIT":
                writer.write(b"221 Bye\r\n")
                break
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()
    writer.close()


def serve(cert_pem: bytes, key_pem: bytes, ready: multiprocessing.Event) -> None:
    """The server process."""
    with tempfile.TemporaryDirectory() as folder:
        chain = Path(folder) / "chain.pem"
        chain.write_bytes(cert_pem + key_pem)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(chain)

    async def main() -> None:
        good = await asyncio.start_server(lambda r, w: _smtp(r, w, tls), GOOD, PORT, backlog=4096)
        silent = await asyncio.start_server(_silent, SILENT, PORT, backlog=4096)
        ready.set()
        async with good, silent:
            await asyncio.Event().wait()

    asyncio.run(main())


def rss_mib() -> float:
    """Resident set size of this process (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def timed(checker: Checker, host: str) -> tuple[str, float, Level]:
    started = time.perf_counter()
    report = await checker.check(host, [str(PORT)])
    return host, time.perf_counter() - started, report.level


async def round_(
    checker: Checker, checks: int, with_silent: bool
) -> tuple[list[float], float, bool]:
    """Good checks' times, the silent check's time (0 without one), all good checks OK."""
    hosts = [f"good-{i}.bench.example.net" for i in range(checks)]
    if with_silent:
        hosts[0] = "silent.bench.example.net"
    results = await asyncio.gather(*(timed(checker, h) for h in hosts))
    good = [t for h, t, _ in results if h.startswith("good")]
    silent = next((t for h, t, _ in results if h.startswith("silent")), 0.0)
    all_ok = all(level is Level.OK for h, _, level in results if h.startswith("good"))
    return good, silent, all_ok


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def bench(args: argparse.Namespace, cafile: Path) -> None:
    settings = Settings(
        allow_cidrs=(ipaddress.ip_network("127.0.0.0/8"),),
        check_ca_file=cafile,
        check_deadline=args.deadline,
        check_step_timeout=args.deadline * 3,
        check_concurrency=args.concurrency,
        check_cache_ttl=0,
    )
    checker = Checker(settings, resolver=StaticResolver(DNS))
    print(
        f"{args.checks} concurrent checks per round (1 silent), deadline {args.deadline:g} s, "
        f"concurrency cap {args.concurrency}; RSS before: {rss_mib():.1f} MiB"
    )
    print(
        f"{'round':>5} {'silent':>6} {'checks/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'CPU ms':>7} {'silent s':>9} {'all OK':>6} {'RSS MiB':>8}"
    )
    first_rss = None
    for number in range(1, args.rounds + 1):
        for with_silent in (False, True):
            cpu = time.process_time()
            good, silent, all_ok = await round_(checker, args.checks, with_silent)
            cpu_ms = (time.process_time() - cpu) * 1000 / args.checks
            rss = rss_mib()
            first_rss = first_rss or rss
            # Checks per second over the good checks (the silent one ends much later).
            rate = len(good) / max(good)
            print(
                f"{number:>5} {'yes' if with_silent else 'no':>6} {rate:>9.0f} "
                f"{percentile(good, 0.5) * 1000:>8.1f} {percentile(good, 0.99) * 1000:>8.1f} "
                f"{max(good) * 1000:>8.1f} {cpu_ms:>7.2f} {silent:>9.2f} "
                f"{'yes' if all_ok else 'NO':>6} "
                f"{rss:>8.1f}"
            )
    print(f"RSS after: {rss_mib():.1f} MiB (after the first round: {first_rss:.1f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checks", type=int, choices=range(2, MAX_CHECKS + 1), default=200, metavar="N"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--deadline", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=200)
    args = parser.parse_args()

    ca = trustme.CA()
    leaf = ca.issue_cert("*.bench.example.net")
    ready = multiprocessing.Event()
    server = multiprocessing.Process(
        target=serve,
        args=(leaf.cert_chain_pems[0].bytes(), leaf.private_key_pem.bytes(), ready),
        daemon=True,
    )
    server.start()
    try:
        if not ready.wait(10):
            raise SystemExit("the bench servers did not start")
        with tempfile.TemporaryDirectory() as folder:
            cafile = Path(folder) / "ca.pem"
            ca.cert_pem.write_to_path(str(cafile))
            asyncio.run(bench(args, cafile))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
