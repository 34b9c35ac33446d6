"""Several instances on one PostgreSQL: exactly-once answers, a kill -9 and a database
restart mid-burst, and one instance's throughput on PostgreSQL against SQLite.

Real `mailport serve` processes on 127.0.0.1, a private PostgreSQL server (Debian's
`postgresql`, a temporary data directory) and a fake Slack Web API in this process. Every
event goes to both instances, signed afresh for each as a retry would be.

Run: python bench/bench_instances.py [--events 1000] [--rounds 3]
Goals: every event answered exactly once; none lost after a kill -9; no crash and no double
answer once the database is back; PostgreSQL throughput >= 0.8x SQLite's (median of rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "slack")]

import pg_instance  # noqa: E402
from instances import Instance, burst, settled  # noqa: E402
from slack_harness import FakeSlack  # noqa: E402

GOAL_RATIO = 0.8
LEASE = "2"


@asynccontextmanager
async def fake_slack() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    app = web.Application()
    app.router.add_post("/api/{method}", slack.api)
    app.router.add_get("/api/{method}", slack.api)
    app.router.add_post("/response/{id}", slack.response)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    slack.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield slack
    finally:
        await runner.cleanup()


@asynccontextmanager
async def instances(
    db: str, fake: FakeSlack, folder: Path, names: tuple[str, ...]
) -> AsyncIterator[list[Instance]]:
    made = [Instance(n, db, fake, folder, {"MAILPORT_ANSWER_LEASE": LEASE}) for n in names]
    try:
        for instance in made:
            await instance.start()
        yield made
    finally:
        for instance in made:
            await instance.stop()


def tally(answers: dict[str, int], sent: list[str]) -> str:
    once = sum(1 for ts in sent if answers.get(ts) == 1)
    twice = sum(1 for ts in sent if answers.get(ts, 0) > 1)
    lost = sum(1 for ts in sent if not answers.get(ts))
    return f"{len(sent)} events: {once} answered once, {twice} more than once, {lost} lost"


async def exactly_once(pg: pg_instance.Postgres, folder: Path, events: int) -> None:
    async with fake_slack() as fake, instances(pg.new_database(), fake, folder, ("a", "b")) as two:
        sent = await burst(two, events)
        answers = await settled(fake, sent, wait=120)
        print(f"both instances, every event to both: {tally(answers, sent.sent)}")
        print(f"  {events / sent.seconds:.0f} events/s delivered twice each")


async def kill_nine(pg: pg_instance.Postgres, folder: Path, events: int) -> None:
    async with fake_slack() as fake, instances(pg.new_database(), fake, folder, ("a", "b")) as two:

        def kill(i: int) -> None:
            if i == events // 3:
                two[0].kill()

        sent = await burst(two, events, during=kill)
        answers = await settled(fake, sent, wait=120, quiet=float(LEASE) + 1)
        acked = [ts for ts, who in sent.acked.items() if "b" in who]
        print(f"kill -9 of a after {events // 3} events: {tally(answers, sent.sent)}")
        print(f"  b acknowledged {len(acked)}; of those lost: {sum(not answers[t] for t in acked)}")


async def restart_db(pg: pg_instance.Postgres, folder: Path, events: int) -> None:
    async with fake_slack() as fake, instances(pg.new_database(), fake, folder, ("a", "b")) as two:

        async def restart(i: int) -> None:
            if i == events // 4:
                pg.stop("fast")
            if i == events // 2:
                pg.start()

        sent = await burst(two, events, during=restart)
        answers = await settled(fake, sent, wait=120)
        alive = sum(i.alive() for i in two)
        print(f"database stopped at event {events // 4}, started at {events // 2}:")
        print(f"  during: {tally(answers, sent.sent)}; instances alive: {alive}/2")
        after = await burst(two, events // 4, text="is port 465 still used")
        health = [(await i.health())["store"] for i in two]
        later = await settled(fake, after, wait=120)
        print(f"  after: {tally(later, after.sent)}; /healthz store: {health}")


async def throughput(pg: pg_instance.Postgres, folder: Path, events: int, rounds: int) -> None:
    """One instance answering `events` distinct mentions: SQLite, then PostgreSQL, per round."""
    ratios = []
    for r in range(rounds):
        rates = {}
        for kind in ("sqlite", "postgres"):
            db = str(folder / f"r{r}.db") if kind == "sqlite" else pg.new_database()
            async with fake_slack() as fake, instances(db, fake, folder, (f"{kind}{r}",)) as one:
                await burst(one, 100)  # warm-up
                started = time.perf_counter()
                sent = await burst(one, events, concurrency=50)
                await settled(fake, sent, wait=120, quiet=0.0)
                rates[kind] = events / (time.perf_counter() - started)
        ratios.append(rates["postgres"] / rates["sqlite"])
        print(
            f"round {r + 1}: SQLite {rates['sqlite']:.0f}/s, PostgreSQL {rates['postgres']:.0f}/s,"
            f" ratio {ratios[-1]:.2f}"
        )
    ratio = statistics.median(ratios)
    verdict = "met" if ratio >= GOAL_RATIO else "NOT met"
    print(f"PostgreSQL / SQLite throughput: {ratio:.2f} (median; goal >= {GOAL_RATIO}: {verdict})")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    problem = pg_instance.missing()
    if problem:
        print(f"bench_instances: {problem}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="mailport-bench-") as folder:
        pg = pg_instance.Postgres().start()
        try:
            await exactly_once(pg, Path(folder), args.events)
            await kill_nine(pg, Path(folder), args.events)
            await restart_db(pg, Path(folder), args.events)
            await throughput(pg, Path(folder), args.events, args.rounds)
        finally:
            pg.remove()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
