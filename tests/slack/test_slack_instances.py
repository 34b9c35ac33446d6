"""Two `mailport serve` processes on one PostgreSQL server, every event delivered to both
(as a Slack retry may land on either): one answer each, one check budget, shared votes, and
no answer lost when an instance is killed or the database restarts mid-burst."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pg_instance
import pytest
from instances import CURATOR, Instance, burst, client, settled
from slack_harness import FakeSlack, sign

pytestmark = pytest.mark.usefixtures("engine")  # the fit is cached before `mailport` starts


EVENTS = 1000
LEASE = 2.0


@pytest.fixture
async def database() -> AsyncIterator[pg_instance.Postgres]:
    """A server of this test's own: some tests stop and restart it."""
    problem = pg_instance.missing()
    if problem:
        pytest.skip(f"PostgreSQL tests skipped: {problem}")
    server = pg_instance.Postgres().start()
    yield server
    server.remove()


@pytest.fixture
async def pair(
    database: pg_instance.Postgres, fake: FakeSlack, tmp_path: Path
) -> AsyncIterator[list[Instance]]:
    env = {
        "MAILPORT_ANSWER_LEASE": str(LEASE),
        "MAILPORT_ALLOW_CIDRS": "127.0.0.0/8",
        "MAILPORT_CHECK_USER_LIMIT": "2",
        "MAILPORT_CHECK_CONNECT_TIMEOUT": "1",
        "MAILPORT_CHECK_DEADLINE": "3",
    }
    url = database.new_database()
    made = [Instance(name, url, fake, tmp_path, env) for name in ("a", "b")]
    for instance in made:
        await instance.start()
    yield made
    codes = [await instance.stop() for instance in made if instance.alive()]
    assert all(code == 0 for code in codes), [i.log.read_text()[-1500:] for i in made]
    for instance in made:
        assert "Traceback" not in instance.log.read_text(), instance.log.read_text()[-3000:]


async def test_every_event_delivered_to_both_is_answered_exactly_once(
    pair: list[Instance], fake: FakeSlack
) -> None:
    sent = await burst(pair, EVENTS)
    assert all(acked == {"a", "b"} for acked in sent.acked.values())
    answers = await settled(fake, sent, wait=60)
    assert len(answers) == EVENTS and set(answers.values()) == {1}


async def test_one_users_check_budget_holds_across_both(
    pair: list[Instance], fake: FakeSlack
) -> None:
    async with aiohttp.ClientSession() as session:
        for n, host in enumerate(["127.0.0.1", "127.0.0.2", "127.0.0.3"]):
            await client(pair[n % 2], session).command(f"check {host} 587", user="U0SAME")
    reports = await fake.wait_for("response_url", count=3)
    limited = [r for r in reports if "live checks in the last" in r.get("text", "")]
    assert len(limited) == 1


async def test_a_command_replayed_to_the_other_instance_runs_nothing(
    pair: list[Instance], fake: FakeSlack
) -> None:
    async with aiohttp.ClientSession() as session:
        first, second = client(pair[0], session), client(pair[1], session)
        body, content_type = first.command_body("where do I park my bike at the office")
        headers = sign(body)
        assert (await first.post(body, content_type, headers))[0] == 200
        assert await second.post(body, content_type, headers) == (200, None)
    assert (await pair[1].health())["requests"]["replayed"] == 1


async def test_votes_cast_on_one_show_on_the_others_home(
    pair: list[Instance], fake: FakeSlack
) -> None:
    async with aiohttp.ClientSession() as session:
        for user in ("U1", "U2"):
            status, _ = await client(pair[0], session).click("not_helpful", "port-465", user=user)
            assert status == 200
        await fake.wait_for("response_url", count=2)
        slack = client(pair[1], session)
        home = {"type": "app_home_opened", "user": CURATOR, "tab": "home", "channel": "D0HOME"}
        assert await slack.event(home) == 200
    [view] = await fake.wait_for("views.publish")
    assert "👎 2 · 👍 0" in str(view)


async def test_kill_9_mid_burst_loses_nothing_the_other_acknowledged(
    pair: list[Instance], fake: FakeSlack
) -> None:
    def kill_a(i: int) -> None:
        if i == EVENTS // 3:
            pair[0].kill()

    sent = await burst(pair, EVENTS, during=kill_a)
    answers = await settled(fake, sent, wait=60 + LEASE, quiet=LEASE + 1)
    by_b = [ts for ts, acked in sent.acked.items() if "b" in acked]
    assert len(by_b) == EVENTS
    assert [ts for ts in by_b if answers[ts] == 0] == []
    doubled = [ts for ts, n in answers.items() if n > 1]
    assert len(doubled) <= 20, f"{len(doubled)} answered twice (posted, then killed unsettled)"


async def test_a_database_restart_mid_burst_crashes_nothing_and_doubles_nothing_after(
    pair: list[Instance], fake: FakeSlack, database: pg_instance.Postgres
) -> None:
    during_outage: list[str] = []

    async def restart(i: int) -> None:
        if i == EVENTS // 4:
            database.stop("fast")
        if i == EVENTS // 2:
            during_outage.extend([(await one.health())["store"] for one in pair])
            database.start()

    before = await burst(pair, EVENTS, during=restart)
    assert during_outage == ["degraded", "degraded"]
    answers = await settled(fake, before, wait=60)
    assert all(instance.alive() for instance in pair)
    assert len(answers) == EVENTS, "every event answered at least once"
    after = await burst(pair, EVENTS // 4, text="is port 465 still used")
    assert [(await i.health())["store"] for i in pair] == ["ok", "ok"]
    later = await settled(fake, after, wait=60)
    assert len(later) == EVENTS // 4 and set(later.values()) == {1}
