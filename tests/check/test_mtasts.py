"""MTA-STS and TLS-RPT: the records and the policy file parsed as RFC 8461 and RFC 8460 say,
and `check --mx` fetching a real policy over real HTTPS through the guard, beside real SMTP
servers, with what an enforcing policy does to a certificate problem on port 25."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable
from typing import Any

import pytest
from check_servers import Certs, aiosmtpd_server, https_server

from bot.check import Level
from bot.check.guard import StaticResolver
from bot.check.mtasts import (
    PolicyError,
    mx_matches,
    parse_policy,
    sts_record,
    tlsrpt_record,
)
from bot.check.report import CheckReport, DomainPolicy
from bot.check.verdict import judge_policy
from bot.render import check_blocks, check_text

POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.net\r\nmx: *.backup.example.net\r\n"
POLICY += "max_age: 604800\r\n"
STS_HOST = "127.0.0.19"


def test_the_policy_file_is_read_as_rfc_8461_writes_it() -> None:
    policy = parse_policy(POLICY)
    assert (policy.mode, policy.mx, policy.max_age) == (
        "enforce",
        ("mx1.example.net", "*.backup.example.net"),
        604800,
    )
    assert parse_policy("version: STSv1\nmode: none\nmax_age: 0\n").mx == ()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("mode: enforce\nmx: a.example\nmax_age: 1\n", "version: STSv1"),
        ("version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n", "'strict'"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: forever\n", "max_age"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 99999999\n", "max_age"),
        ("version: STSv1\nmode: testing\nmax_age: 86400\n", "at least one mx"),
    ],
)
def test_a_policy_senders_ignore_says_why(text: str, said: str) -> None:
    with pytest.raises(PolicyError, match=said):
        parse_policy(text)


@pytest.mark.parametrize(
    ("pattern", "host", "matches"),
    [
        ("mx1.example.net", "MX1.example.net.", True),
        ("*.example.net", "mx1.example.net", True),
        ("*.example.net", "example.net", False),
        ("*.example.net", "a.b.example.net", False),
        ("mx1.example.net", "mx2.example.net", False),
    ],
)
def test_mx_patterns_match_one_label(pattern: str, host: str, matches: bool) -> None:
    assert mx_matches(pattern, host) is matches


def test_records_are_found_among_other_txt_records() -> None:
    spf = '"v=spf1 -all"'
    assert sts_record([spf], "example.net") is None
    assert sts_record([spf, '"v=STSv1; " "id=20261202T1"'], "example.net") == "20261202T1"
    with pytest.raises(PolicyError, match="2 v=STSv1 records"):
        sts_record(['"v=STSv1; id=1"', '"v=STSv1; id=2"'], "example.net")
    with pytest.raises(PolicyError, match="no valid id"):
        sts_record(['"v=STSv1; id=not-valid!"'], "example.net")
    rua = '"v=TLSRPTv1; rua=mailto:tls@example.net,https://r.example.net/v1"'
    assert tlsrpt_record([rua], "example.net") == [
        "mailto:tls@example.net",
        "https://r.example.net/v1",
    ]
    with pytest.raises(PolicyError, match="rua="):
        tlsrpt_record(['"v=TLSRPTv1; rua=tls@example.net"'], "example.net")


def test_policy_verdicts() -> None:
    none = judge_policy(DomainPolicy("example.net"))
    assert none.level is Level.OK and "No MTA-STS policy" in none.summary
    left_out = DomainPolicy(
        "example.net", "1", mode="enforce", mx_patterns=["mx1.example.net"], unmatched_mx=["mx9"]
    )
    assert judge_policy(left_out).level is Level.FAIL
    left_out.mode = "testing"
    assert judge_policy(left_out).level is Level.WARNING
    broken = judge_policy(DomainPolicy("example.net", sts_problem="HTTP 404"))
    assert broken.level is Level.WARNING and "unusable" in broken.summary
    assert any("TLS-RPT" in also for also in broken.also)


def policy_server(
    context: ssl.SSLContext, body: str = POLICY, status: int = 200, kind: str = "text/plain"
) -> contextlib.AbstractAsyncContextManager[list[str]]:
    """The policy on a real HTTPS server at STS_HOST; yields the paths asked for."""
    return https_server(STS_HOST, context, {"/.well-known/mta-sts.txt": (status, body, kind)})


def publish(resolver: StaticResolver, policy: bool = True, sts_address: str = STS_HOST) -> None:
    """example.net: one MX (127.0.0.2), and optionally MTA-STS and TLS-RPT records."""
    resolver.table["example.net"] = {"MX": ["10 mx1.example.net."]}
    resolver.table["mx1.example.net"] = {"A": ["127.0.0.2"]}
    if policy:
        resolver.table["_mta-sts.example.net"] = {"TXT": ['"v=STSv1; id=20261202"']}
        resolver.table["_smtp._tls.example.net"] = {
            "TXT": ['"v=TLSRPTv1; rua=mailto:tls@example.net"']
        }
        resolver.table["mta-sts.example.net"] = {"A": [sts_address]}


async def checked(
    make_checker: Callable, certs: Certs, policy_context: ssl.SSLContext, **serving: Any
) -> tuple[CheckReport, list[str]]:
    """`check example.net --mx` with a good MX and the policy served as `serving` says; the
    report and the paths the policy server was asked for."""
    with aiosmtpd_server("127.0.0.2", 25, certs.good("mx1.example.net")):
        async with policy_server(policy_context, **serving) as asked:
            report = await make_checker().check("example.net", mx=True)
    return report, asked


async def test_an_enforced_policy_that_covers_the_mx_is_ok(
    certs: Certs, make_checker: Callable, resolver: StaticResolver
) -> None:
    publish(resolver)
    report, asked = await checked(make_checker, certs, certs.good("mta-sts.example.net"))
    assert asked == ["/.well-known/mta-sts.txt"]
    policy = report.policy
    assert policy is not None and policy.sts_problem is None, policy
    assert (policy.mode, policy.unmatched_mx, policy.tlsrpt) == (
        "enforce",
        [],
        ["mailto:tls@example.net"],
    )
    assert report.level is Level.OK, report.verdict
    assert report.verdict is not None and report.verdict.summary == "All 2 checks OK."
    shown = check_text.to_text(report)
    assert "MTA-STS: enforce (id 20261202" in shown and "TLS-RPT: mailto:tls@example.net" in shown
    assert CheckReport.from_dict(report.to_dict()).policy == policy
    blocks, _ = check_blocks.to_blocks(report)
    assert any("MTA-STS enforce" in str(b.to_dict()) for b in blocks)


async def test_an_mx_the_enforced_policy_leaves_out_fails(
    certs: Certs, make_checker: Callable, resolver: StaticResolver
) -> None:
    publish(resolver)
    policy = POLICY.replace("mx: mx1.example.net\r\n", "")
    report, _ = await checked(make_checker, certs, certs.good("mta-sts.example.net"), body=policy)
    assert report.policy is not None and report.policy.unmatched_mx == ["mx1.example.net"]
    assert report.level is Level.FAIL
    assert report.verdict is not None and "matches none of the policy's mx" in (
        report.verdict.summary
    )


async def test_under_enforce_a_bad_certificate_on_25_stops_delivery(
    certs: Certs, make_checker: Callable, resolver: StaticResolver
) -> None:
    publish(resolver, policy=False)
    with aiosmtpd_server("127.0.0.2", 25, certs.expired("mx1.example.net")):
        opportunistic = await make_checker().check("example.net", mx=True)
        publish(resolver)
        async with policy_server(certs.good("mta-sts.example.net")):
            enforced = await make_checker().check("example.net", mx=True)
    [before], [after] = opportunistic.results(), enforced.results()
    assert before.verdict is not None and before.verdict.level is Level.WARNING
    assert after.verdict is not None and after.verdict.level is Level.FAIL
    assert "MTA-STS policy is enforce" in after.verdict.summary
    assert opportunistic.policy is not None and not opportunistic.policy.published


@pytest.mark.parametrize(
    ("serving", "said"),
    [
        ({"status": 302}, "HTTP 302 (senders do not follow redirects)"),
        ({"status": 404}, "HTTP 404"),
        ({"kind": "text/html"}, "text/html, not text/plain"),
        ({"body": "version: STSv1\nmode: enforce\nmax_age: 1\n"}, "at least one mx"),
    ],
)
async def test_a_policy_senders_cannot_use_is_a_warning(
    certs: Certs, make_checker: Callable, resolver: StaticResolver, serving: dict, said: str
) -> None:
    publish(resolver)
    report, _ = await checked(make_checker, certs, certs.good("mta-sts.example.net"), **serving)
    assert report.policy is not None and said in (report.policy.sts_problem or "")
    assert report.level is Level.WARNING


async def test_the_policy_host_needs_a_valid_certificate(
    certs: Certs, make_checker: Callable, resolver: StaticResolver
) -> None:
    publish(resolver)
    report, asked = await checked(make_checker, certs, certs.untrusted("mta-sts.example.net"))
    assert asked == []
    assert report.policy is not None and "certificate is not valid" in (
        report.policy.sts_problem or ""
    )


async def test_a_policy_host_in_private_space_is_never_fetched(
    certs: Certs, make_checker: Callable, resolver: StaticResolver
) -> None:
    publish(resolver, sts_address="10.9.8.7")
    with aiosmtpd_server("127.0.0.2", 25, certs.good("mx1.example.net")):
        report = await make_checker().check("example.net", mx=True)
    assert report.policy is not None
    assert "resolves to 10.9.8.7 (private (RFC 1918))" in (report.policy.sts_problem or "")
