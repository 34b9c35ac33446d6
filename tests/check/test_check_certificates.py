"""aiosmtpd with STARTTLS and AUTH, on real mail ports of 127.0.0.x, with good and bad
certificates: a bad certificate is reported with its reason, never raised."""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl

import pytest
from check_servers import Certs, aiosmtpd_server

from bot.check import Checker, Level
from bot.check.guard import StaticResolver
from bot.check.report import PortResult
from bot.render import check_text


def only(report_results: list[PortResult]) -> PortResult:
    assert len(report_results) == 1
    return report_results[0]


async def test_good_certificate_starttls_and_auth(certs: Certs, checker: Checker) -> None:
    with aiosmtpd_server("127.0.0.2", 587, certs.good("smtp.good.example.net")):
        report = await checker.check("smtp.good.example.net", ["587"])
    result = only(report.results())
    assert result.verdict is not None and result.verdict.level is Level.OK, result.verdict
    assert result.banner and "Python SMTP" in result.banner
    assert result.starttls_offered is True
    assert result.auth_before_tls == [] and result.cleartext_login is False
    assert result.auth_after_tls == ["LOGIN", "PLAIN"]
    assert result.tls is not None and result.tls.verified and result.tls.version == "TLSv1.3"
    assert result.tls.cert is not None
    assert result.tls.cert.sans == ["smtp.good.example.net"]
    assert result.tls.cert.days_left > 300
    names = [s.name for s in result.steps]
    assert names == [
        "connect",
        "banner",
        "EHLO",
        "STARTTLS",
        "TLS handshake",
        "EHLO (TLS)",
        "QUIT (TLS)",
    ]
    assert all(s.ok and s.ms >= 0 for s in result.steps)
    sent = [line for line in result.transcript if line.startswith("C: ")]
    assert sent == [
        "C: EHLO mailport.invalid",
        "C: STARTTLS",
        "C: XMAILPORTPROBE",  # sent with STARTTLS, discarded by the server (RFC 3207 §4.2)
        "C: EHLO mailport.invalid",
        "C: QUIT",
    ]
    assert result.runs_pipelined_commands is False
    assert report.verdict is not None and report.verdict.level is Level.OK


async def test_implicit_tls_on_465(certs: Certs, checker: Checker) -> None:
    with aiosmtpd_server("127.0.0.2", 465, certs.good("smtp.good.example.net"), implicit=True):
        report = await checker.check("smtp.good.example.net", ["465"])
    result = only(report.results())
    assert result.verdict is not None and result.verdict.level is Level.OK, result.verdict
    assert [s.name for s in result.steps] == ["connect", "TLS handshake", "banner", "EHLO", "QUIT"]
    assert result.auth_after_tls == ["LOGIN", "PLAIN"]


@pytest.mark.parametrize(
    ("name", "address", "make", "reason", "code", "summary"),
    [
        (
            "smtp.selfsigned.example.net",
            "127.0.0.3",
            "self_signed",
            "self-signed",
            18,
            "self-signed",
        ),
        (
            "smtp.expired.example.net",
            "127.0.0.4",
            "expired",
            "expired",
            10,
            "Certificate expired 3 days ago.",
        ),
        (
            "smtp.wrongname.example.net",
            "127.0.0.5",
            "wrong_name",
            "name mismatch",
            62,
            "does not cover smtp.wrongname.example.net (it names other.example.org)",
        ),
        (
            "smtp.unknownca.example.net",
            "127.0.0.6",
            "untrusted",
            "unknown CA",
            20,
            "sends only its own certificate",
        ),
    ],
)
@pytest.mark.parametrize(("port", "level"), [(587, Level.FAIL), (25, Level.WARNING)])
async def test_bad_certificates_are_reported(
    certs: Certs,
    checker: Checker,
    name: str,
    address: str,
    make: str,
    reason: str,
    code: int,
    summary: str,
    port: int,
    level: Level,
) -> None:
    context = {
        "self_signed": lambda: certs.self_signed(name),
        "expired": lambda: certs.expired(name),
        "wrong_name": lambda: certs.good("other.example.org"),
        "untrusted": lambda: certs.untrusted(name),
    }[make]()
    with aiosmtpd_server(address, port, context):
        report = await checker.check(name, [str(port)])
    result = only(report.results())
    tls = result.tls
    assert tls is not None and not tls.verified
    assert (tls.verify_reason, tls.verify_code) == (reason, code)
    assert tls.cert is not None, "the certificate is read over a second, unverified handshake"
    assert result.failure is None
    assert result.auth_after_tls == ["LOGIN", "PLAIN"]
    assert result.verdict is not None and result.verdict.level is level
    assert summary in result.verdict.summary
    steps = [s.name for s in result.steps]
    assert "TLS handshake (again)" in steps and steps[-1] == "QUIT (TLS)"
    assert next(s for s in result.steps if s.name == "TLS handshake").ok is False


async def test_a_missing_intermediate_is_named_with_the_chain_as_sent(
    certs: Certs, checker: Checker
) -> None:
    url = "http://ca.example.net/intermediate.der"
    context = certs.without_intermediate("smtp.alone.example.net", issuer_url=url)
    with aiosmtpd_server("127.0.0.18", 587, context):
        report = await checker.check("smtp.alone.example.net", ["587"])
    result = only(report.results())
    tls = result.tls
    assert tls is not None and (tls.verify_reason, tls.verify_code) == ("unknown CA", 20)
    assert [c.subject for c in tls.chain] == ["CN=smtp.alone.example.net"]
    assert tls.chain[0].issuer == tls.cert.issuer and tls.issuer_url == url
    assert result.verdict is not None and result.verdict.level is Level.FAIL
    summary = result.verdict.summary
    assert summary.startswith("The server sends only its own certificate, issued by ")
    assert f"the intermediate certificate is missing (its CA publishes it at {url})" in summary
    assert "smtpd_tls_chain_files" in result.verdict.next_step
    assert report.to_dict()["hosts"][0]["ports"][0]["tls"]["chain"] == [
        {"subject": "CN=smtp.alone.example.net", "issuer": tls.cert.issuer, "dane": tls.cert.dane}
    ]
    assert "Chain sent: 1: CN=smtp.alone.example.net, issued by " in check_text.to_text(report)


async def test_a_full_chain_from_an_untrusted_ca_is_told_apart(
    certs: Certs, checker: Checker
) -> None:
    with aiosmtpd_server("127.0.0.18", 587, certs.untrusted_chain("smtp.private.example.net")):
        report = await checker.check("smtp.private.example.net", ["587"])
    result = only(report.results())
    assert result.tls is not None and len(result.tls.chain) == 2
    assert result.verdict is not None
    assert "sends a chain of 2 certificates ending at " in result.verdict.summary
    assert "do not trust" in result.verdict.summary


async def test_a_served_intermediate_verifies(certs: Certs, checker: Checker) -> None:
    leaf = certs.ca.create_child_ca().issue_cert("smtp.chained.example.net")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    with aiosmtpd_server("127.0.0.18", 587, context):
        report = await checker.check("smtp.chained.example.net", ["587"])
    result = only(report.results())
    assert result.tls is not None and result.tls.verified and len(result.tls.chain) == 2
    assert result.verdict is not None and result.verdict.level is Level.OK


async def test_certificate_problems_fail_on_implicit_tls(certs: Certs, checker: Checker) -> None:
    context = certs.expired("smtp.expired.example.net", days_ago=1)
    with aiosmtpd_server("127.0.0.4", 465, context, implicit=True):
        report = await checker.check("smtp.expired.example.net", ["465"])
    result = only(report.results())
    assert result.verdict is not None and result.verdict.level is Level.FAIL
    assert result.verdict.summary == "Certificate expired 1 day ago."
    assert result.verdict.next_step.startswith("Renew the certificate")


async def test_each_address_of_a_name_is_checked(certs: Certs, make_checker, resolver) -> None:
    resolver.table["smtp.good.example.net"] = {"A": ["127.0.0.2", "127.0.0.3"]}
    context = certs.good("smtp.good.example.net")
    with aiosmtpd_server("127.0.0.2", 587, context), aiosmtpd_server("127.0.0.3", 587, context):
        report = await make_checker().check("smtp.good.example.net", ["587"])
    assert [r.address for r in report.results()] == ["127.0.0.2", "127.0.0.3"]
    assert [a.address for a in report.hosts[0].addresses] == ["127.0.0.2", "127.0.0.3"]
    assert all(r.verdict and r.verdict.level is Level.OK for r in report.results())


async def test_ip_literal_checks_the_certificate_against_the_address(
    certs: Certs, checker: Checker
) -> None:
    with aiosmtpd_server("127.0.0.2", 587, certs.good("smtp.good.example.net")):
        report = await checker.check("127.0.0.2", ["587"])
    result = only(report.results())
    assert result.tls is not None and result.tls.checked_name == "127.0.0.2"
    assert result.tls.verify_reason == "name mismatch"


@pytest.mark.parametrize(
    ("weakness", "says", "fix"),
    [
        ({"rsa_bits": 1024}, "key is too weak (RSA 1024)", "2048 bits"),
        ({"sha1": True}, "signed with SHA-1", "SHA-256"),
    ],
)
async def test_weak_certificates_in_plain_words(
    certs: Certs, checker: Checker, weakness: dict, says: str, fix: str
) -> None:
    """Not OpenSSL's "EE certificate key too weak" and a command to run: what is wrong and
    the fix."""
    context = certs.weak("smtp.good.example.net", **weakness)
    with aiosmtpd_server("127.0.0.2", 465, context, implicit=True):
        result = only((await checker.check("smtp.good.example.net", ["465"])).results())
    assert result.tls is not None and not result.tls.verified
    assert result.verdict is not None and result.verdict.level is Level.FAIL
    assert says in result.verdict.summary, result.verdict
    assert fix in result.verdict.next_step and "openssl" not in result.verdict.next_step


async def test_ipv6_loopback_when_allowed(
    certs: Certs, make_checker, resolver: StaticResolver
) -> None:
    """A name with only an AAAA record on ::1 (allowed like 127.0.0.0/8): the check speaks
    IPv6 end to end, and SNI and the name check still use the name."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"this machine has no IPv6 loopback: {exc}")
    loopback6 = (ipaddress.ip_network("::1/128"),)
    resolver.table["smtp6.good.example.net"] = {"AAAA": ["::1"]}
    checker: Checker = make_checker(allow_cidrs=loopback6)
    with aiosmtpd_server("::1", 587, certs.good("smtp6.good.example.net")):
        report = await checker.check("smtp6.good.example.net", ["587"])
    result = only(report.results())
    assert result.address == "::1"
    assert result.verdict is not None and result.verdict.level is Level.OK, result.verdict
    assert result.tls is not None and result.tls.verified and result.tls.name_matches
    refused = await make_checker().check("smtp6.good.example.net", ["587"])
    assert [r.address for r in refused.hosts[0].refused] == ["::1"]
