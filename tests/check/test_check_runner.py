"""The runner: MX mode, the result cache, the per-user rate limit and the concurrency cap."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from check_servers import Certs, Script, aiosmtpd_server, scripted_server

from bot.check import CheckLimited, CheckReport, Level
from bot.store import SQLiteStore


def mx_table(resolver, records: list[str], **hosts: list[str]) -> None:
    resolver.table["example.net"] = {"MX": records}
    for name, addresses in hosts.items():
        resolver.table[name.replace("_", ".")] = {"A": addresses}


async def test_mx_hosts_are_checked_in_preference_order(
    certs: Certs, make_checker, resolver
) -> None:
    mx_table(
        resolver,
        ["20 mx2.example.net.", "10 mx1.example.net."],
        mx1_example_net=["127.0.0.2"],
        mx2_example_net=["127.0.0.3"],
    )
    with (
        aiosmtpd_server("127.0.0.2", 25, certs.good("mx1.example.net")),
        aiosmtpd_server("127.0.0.3", 25, certs.good("mx2.example.net")),
    ):
        report = await make_checker().check("example.net", mx=True)
    assert [(h.name, h.mx_preference) for h in report.hosts] == [
        ("mx1.example.net", 10),
        ("mx2.example.net", 20),
    ]
    assert [(r.host, r.address, r.port) for r in report.results()] == [
        ("mx1.example.net", "127.0.0.2", 25),
        ("mx2.example.net", "127.0.0.3", 25),
    ]
    assert all(r.tls and r.tls.verified and r.tls.checked_name == r.host for r in report.results())
    assert report.level is Level.OK


async def test_an_mx_in_private_space_is_a_finding_not_a_connection(
    certs: Certs, make_checker, resolver
) -> None:
    mx_table(
        resolver,
        ["10 mx1.example.net.", "20 inside.example.net."],
        mx1_example_net=["127.0.0.2"],
        inside_example_net=["10.1.2.3"],
    )
    with aiosmtpd_server("127.0.0.2", 25, certs.good("mx1.example.net")):
        report = await make_checker().check("example.net", mx=True)
    inside = report.hosts[1]
    assert inside.ports == [] and inside.refused[0].reason == "private (RFC 1918)"
    assert report.level is Level.FAIL
    assert report.verdict is not None
    assert report.verdict.summary.startswith(
        "2 checks: 1 failed, 1 OK; inside.example.net resolves"
    )


async def test_null_mx_and_missing_mx(make_checker, resolver) -> None:
    resolver.table["example.net"] = {"MX": ["0 ."]}
    report = await make_checker().check("example.net", mx=True)
    assert report.hosts == [] and report.verdict is not None
    assert "null MX" in report.verdict.summary

    resolver.table["example.net"] = {"A": ["127.0.0.15"]}
    report = await make_checker().check("example.net", mx=True)
    assert report.notes == ["example.net has no MX record, so mail goes to its own address."]
    assert report.results()[0].address == "127.0.0.15"


async def test_cache_and_rate_limit(certs: Certs, make_checker) -> None:
    store = SQLiteStore(":memory:")
    checker = make_checker(check_cache_ttl=60.0, check_user_limit=2, check_user_window=60.0)
    checker.store = store
    with aiosmtpd_server("127.0.0.2", 587, certs.good("smtp.good.example.net")):
        first = await checker.check("smtp.good.example.net", ["587"], user="U1")
        again = await checker.check("SMTP.good.example.net.", ["587"], user="U1")
        await checker.check("smtp.good.example.net", ["465"], user="U1")
        with pytest.raises(CheckLimited, match="2 live checks"):
            await checker.check("smtp.good.example.net", ["25"], user="U1")
        other_user = await checker.check("smtp.good.example.net", ["25"], user="U2")
    assert not first.cached and again.cached
    assert again.to_dict() == {**first.to_dict(), "cached": True}
    assert other_user.results()[0].port == 25


async def test_a_workspace_budget_holds_across_its_users(certs: Certs, make_checker) -> None:
    store = SQLiteStore(":memory:")
    checker = make_checker(check_cache_ttl=0.0, check_user_limit=5, check_team_limit=2)
    checker.store = store
    with aiosmtpd_server("127.0.0.2", 587, certs.good("smtp.good.example.net")):
        for user in ("U1", "U2"):
            await checker.check("smtp.good.example.net", ["587"], user=user, team="T1")
        with pytest.raises(CheckLimited, match="This workspace has run 2 live checks"):
            await checker.check("smtp.good.example.net", ["587"], user="U3", team="T1")
        other = await checker.check("smtp.good.example.net", ["587"], user="U3", team="T2")
    assert other.results()[0].port == 587


SILENT_NAMES = [f"smtp{i}.silent.example.net" for i in range(5)]


def silent_names(resolver) -> list[str]:
    """Five names for the silent server, so that each check is a different target."""
    for name in SILENT_NAMES:
        resolver.table[name] = {"A": ["127.0.0.10"]}
    return SILENT_NAMES


async def test_concurrency_cap_queues_checks(make_checker, resolver) -> None:
    names = silent_names(resolver)[:2]
    checker = make_checker(check_concurrency=1, check_deadline=0.6, check_step_timeout=5.0)
    async with scripted_server("127.0.0.10", 25, "SMTP", Script(greeting=None)):
        started = time.perf_counter()
        await asyncio.gather(*(checker.check(name, ["25"]) for name in names))
        serial = time.perf_counter() - started
        parallel_checker = make_checker(check_concurrency=2, check_deadline=0.6)
        started = time.perf_counter()
        await asyncio.gather(*(parallel_checker.check(name, ["25"]) for name in names))
        parallel = time.perf_counter() - started
    assert serial >= 1.2 > parallel


async def test_same_target_at_once_is_checked_once(make_checker) -> None:
    checker = make_checker(check_deadline=0.5, check_step_timeout=5.0)
    async with scripted_server("127.0.0.10", 25, "SMTP", Script(greeting=None)) as server:
        reports = await asyncio.gather(
            *(checker.check("smtp.silent.example.net", ["smtp"]) for _ in range(5))
        )
    assert server.connections == 1
    assert all(report is reports[0] for report in reports)


async def test_busy_checker_says_so(make_checker, resolver) -> None:
    """One slot, 0.3 s checks, a queue wait of 0.6 s: the first two run, the last two cannot,
    and the slot is still there afterwards."""
    checker = make_checker(check_concurrency=1, check_deadline=0.3, check_step_timeout=5.0)
    names = silent_names(resolver)
    async with scripted_server("127.0.0.10", 25, "SMTP", Script(greeting=None)) as server:
        outcomes = await asyncio.gather(
            *(checker.check(name, ["25"]) for name in names), return_exceptions=True
        )
        assert all(isinstance(o, CheckReport) for o in outcomes[:2])
        assert all(isinstance(o, CheckLimited) for o in outcomes[3:])
        assert str(outcomes[-1]) == "The checker is busy; try again in a minute."
        before = server.connections
        await checker.check(names[-1], ["25"])
        assert server.connections == before + 1


async def test_report_round_trips_through_json(certs: Certs, checker) -> None:
    with aiosmtpd_server("127.0.0.4", 587, certs.expired("smtp.expired.example.net")):
        report = await checker.check("smtp.expired.example.net", ["587", "465"])
    text = json.dumps(report.to_dict())
    assert CheckReport.from_dict(json.loads(text)) == report
