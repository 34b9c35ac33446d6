"""Servers that misbehave on purpose, on real mail ports of 127.0.0.x."""

from __future__ import annotations

import asyncio
import ssl
import time
import warnings

import pytest
from check_servers import Certs, Script, filtered_port, openssl_server, scripted_server

from bot.check import Checker, Level
from bot.check.report import PortResult


def only(results: list[PortResult]) -> PortResult:
    assert len(results) == 1
    return results[0]


def level(result: PortResult) -> Level:
    assert result.verdict is not None
    return result.verdict.level


async def test_never_sends_a_banner(make_checker) -> None:
    checker: Checker = make_checker(check_step_timeout=0.5, check_deadline=1.5)
    async with scripted_server("127.0.0.10", 587, "SMTP", Script(greeting=None)) as server:
        started = time.perf_counter()
        result = only((await checker.check("smtp.silent.example.net", ["587"])).results())
    assert time.perf_counter() - started < 2.5
    assert server.connections == 1 and server.received == [], "nothing is sent before a greeting"
    assert result.failure is not None and (result.failure.step, result.failure.code) == (
        "banner",
        "deadline",
    )
    assert level(result) is Level.FAIL
    assert result.verdict is not None
    assert result.verdict.summary.startswith("No greeting within the check's time limit")
    assert "465" in result.verdict.next_step


async def test_banner_after_the_step_timeout_is_waited_for(make_checker) -> None:
    """The step limit (0.5 s) bounds each reply, not the greeting (2 s here)."""
    checker: Checker = make_checker(check_step_timeout=0.5)
    script = Script(greeting="220 slow ESMTP", greeting_delay=2.0, starttls=False)
    async with scripted_server("127.0.0.11", 25, "SMTP", script):
        result = only((await checker.check("smtp.slow.example.net", ["25"])).results())
    banner = next(s for s in result.steps if s.name == "banner")
    assert banner.ok and banner.ms >= 2000
    assert result.failure is None or result.failure.step != "banner"


async def test_banner_after_ten_seconds_is_waited_for(certs: Certs, make_checker) -> None:
    """Really waits, past the step limit (5 s here): the greeting may take the whole check's
    time (RFC 5321 gives it 5 minutes; greet-pause setups delay it), and is reported."""
    checker: Checker = make_checker(
        check_connect_timeout=10.0, check_step_timeout=5.0, check_deadline=30.0
    )
    script = Script(
        greeting="220 slow ESMTP", greeting_delay=10.0, tls=certs.good("smtp.slow.example.net")
    )
    async with scripted_server("127.0.0.11", 25, "SMTP", script):
        result = only((await checker.check("smtp.slow.example.net", ["25"])).results())
    assert result.failure is None
    banner = next(s for s in result.steps if s.name == "banner")
    assert banner.ok and banner.ms >= 10_000
    assert result.tls is not None and result.tls.verified
    assert level(result) is Level.WARNING
    assert result.verdict is not None and "greet-pause" in result.verdict.summary
    assert "took 10." in result.verdict.summary


async def test_a_greeting_later_than_the_check_says_so(certs: Certs, make_checker) -> None:
    checker: Checker = make_checker(check_step_timeout=1.0, check_deadline=2.0)
    script = Script(greeting="220 slow ESMTP", greeting_delay=5.0)
    async with scripted_server("127.0.0.11", 25, "SMTP", script):
        result = only((await checker.check("smtp.slow.example.net", ["25"])).results())
    assert result.failure is not None and result.failure.step == "banner"
    assert result.verdict is not None and level(result) is Level.FAIL
    assert "No greeting within the check's time limit" in result.verdict.summary
    assert "5 minutes" in result.verdict.next_step


@pytest.mark.parametrize(("port", "expected"), [(25, Level.WARNING), (587, Level.FAIL)])
async def test_starttls_not_offered(checker: Checker, port: int, expected: Level) -> None:
    script = Script(greeting="220 plain ESMTP", starttls=False)
    async with scripted_server("127.0.0.12", port, "SMTP", script) as server:
        result = only((await checker.check("smtp.plain.example.net", [str(port)])).results())
    assert result.starttls_offered is False
    assert result.failure is not None and result.failure.code == "no_starttls"
    assert level(result) is expected
    assert server.received[-1] == "QUIT"
    assert result.verdict is not None and "STARTTLS is not offered" in result.verdict.summary


async def test_auth_before_tls(certs: Certs, checker: Checker) -> None:
    script = Script(
        greeting="220 careless ESMTP",
        auth_before_tls=True,
        tls=certs.good("smtp.authfirst.example.net"),
    )
    async with scripted_server("127.0.0.13", 587, "SMTP", script) as server:
        result = only((await checker.check("smtp.authfirst.example.net", ["587"])).results())
    assert result.auth_before_tls == ["PLAIN", "LOGIN"] and result.cleartext_login is True
    assert result.tls is not None and result.tls.verified
    assert level(result) is Level.WARNING
    assert result.verdict is not None
    assert result.verdict.summary.startswith("Login (PLAIN LOGIN) is offered before TLS")
    assert "smtpd_tls_auth_only" in result.verdict.next_step
    assert not any(
        line.upper().startswith(("AUTH", "MAIL", "RCPT", "DATA")) for line in server.received
    )


@pytest.mark.parametrize(
    ("protocol", "port", "name", "address"),
    [
        ("SMTP", 587, "smtp.inject.example.net", "127.0.0.14"),
        ("SMTP", 25, "smtp.inject.example.net", "127.0.0.14"),
        ("IMAP", 143, "imap.scripted.example.net", "127.0.0.7"),
        ("POP3", 110, "pop.scripted.example.net", "127.0.0.8"),
    ],
)
async def test_junk_after_the_starttls_go_ahead_is_a_failure(
    certs: Certs, checker: Checker, protocol: str, port: int, name: str, address: str
) -> None:
    greeting = {"SMTP": "220 ready ESMTP", "IMAP": "* OK ready", "POP3": "+OK ready"}[protocol]
    script = Script(
        greeting=greeting, inject=b"250-INJECTED\r\n250 AUTH PLAIN\r\n", tls=certs.good(name)
    )
    async with scripted_server(address, port, protocol, script):
        result = only((await checker.check(name, [str(port)])).results())
    assert result.failure is not None and result.failure.code == "injection"
    assert "INJECTED" in result.failure.detail
    assert result.tls is None, "no handshake after an injection"
    assert level(result) is Level.FAIL
    assert result.verdict is not None and "Data before the handshake" in result.verdict.summary
    assert "CVE" not in result.verdict.summary + result.verdict.next_step


@pytest.mark.parametrize(
    ("protocol", "port", "name", "address"),
    [
        ("IMAP", 143, "imap.scripted.example.net", "127.0.0.7"),
        ("POP3", 110, "pop.scripted.example.net", "127.0.0.8"),
    ],
)
async def test_imap_and_pop3_dialogues(
    certs: Certs, checker: Checker, protocol: str, port: int, name: str, address: str
) -> None:
    greeting = {"IMAP": "* OK ready", "POP3": "+OK ready"}[protocol]
    script = Script(greeting=greeting, tls=certs.good(name))
    async with scripted_server(address, port, protocol, script) as server:
        result = only((await checker.check(name, [str(port)])).results())
    assert level(result) is Level.OK, result.verdict
    assert result.starttls_offered is True and result.cleartext_login is False
    assert result.auth_after_tls == ["PLAIN"]
    expected = {
        "IMAP": ["m1 CAPABILITY", "m2 STARTTLS", "m3 CAPABILITY", "m4 LOGOUT"],
        "POP3": ["CAPA", "STLS", "CAPA", "QUIT"],
    }[protocol]
    first, *others = server.sessions
    assert first == expected
    # Two more connections (TLS 1.0/1.1 only, TLS 1.2 only), each up to the handshake.
    assert len(others) == 2 and all(other == expected[:2] for other in others), others
    assert result.tls_versions == ["TLSv1.2", "TLSv1.3"]


@pytest.mark.parametrize(
    ("protocol", "port", "name", "address"),
    [
        ("IMAP", 143, "imap.scripted.example.net", "127.0.0.7"),
        ("POP3", 110, "pop.scripted.example.net", "127.0.0.8"),
    ],
)
async def test_imap_and_pop3_without_starttls(
    checker: Checker, protocol: str, port: int, name: str, address: str
) -> None:
    greeting = {"IMAP": "* OK ready", "POP3": "+OK ready"}[protocol]
    async with scripted_server(address, port, protocol, Script(greeting, starttls=False)):
        result = only((await checker.check(name, [str(port)])).results())
    assert result.failure is not None and result.failure.code == "no_starttls"
    assert level(result) is Level.FAIL
    alternative = {"IMAP": "993", "POP3": "995"}[protocol]
    assert result.verdict is not None and alternative in result.verdict.next_step


async def test_server_turns_us_away(checker: Checker) -> None:
    script = Script(greeting="554 5.7.1 No SMTP service here", close_after_greeting=True)
    async with scripted_server("127.0.0.17", 25, "SMTP", script):
        result = only((await checker.check("smtp.hangup.example.net", ["25"])).results())
    assert result.failure is not None and result.failure.code == "rejected"
    assert result.verdict is not None
    assert result.verdict.summary == (
        "The server turned us away at once: 554 5.7.1 No SMTP service here"
    )


async def test_hangs_up_after_the_banner(checker: Checker) -> None:
    script = Script(greeting="220 bye ESMTP", close_after_greeting=True)
    async with scripted_server("127.0.0.17", 587, "SMTP", script):
        result = only((await checker.check("smtp.hangup.example.net", ["587"])).results())
    assert result.failure is not None and (result.failure.step, result.failure.code) == (
        "EHLO",
        "closed",
    )
    assert result.verdict is not None
    assert result.verdict.summary == "The server closed the connection during EHLO."


async def test_closed_port(checker: Checker) -> None:
    result = only((await checker.check("smtp.closed.example.net", ["465"])).results())
    assert result.failure is not None and result.failure.code == "refused"
    assert result.verdict is not None
    assert result.verdict.summary == "Refused: the host is up but nothing listens on 465."


async def test_filtered_port_25_times_out(make_checker) -> None:
    checker: Checker = make_checker(check_connect_timeout=0.5)
    with filtered_port("127.0.0.16", 25):
        result = only((await checker.check("smtp.filtered.example.net", ["25"])).results())
    assert result.failure is not None and (result.failure.step, result.failure.code) == (
        "connect",
        "timeout",
    )
    assert result.verdict is not None
    assert result.verdict.summary.startswith(
        "Timed out: something between us and the server drops port 25"
    )
    assert "587 or 465" in result.verdict.next_step


async def test_plain_text_on_an_implicit_tls_port_is_quoted(checker: Checker) -> None:
    async with scripted_server("127.0.0.12", 465, "SMTP", Script("220 plain ESMTP")):
        result = only((await checker.check("smtp.plain.example.net", ["465"])).results())
    assert result.failure is not None and result.failure.code == "plaintext"
    assert result.failure.step == "TLS handshake"
    assert level(result) is Level.FAIL
    assert result.verdict is not None
    assert result.verdict.summary.startswith("Port 465 answered in plain text ('220 plain ESMTP')")
    assert "not set up for implicit TLS" in result.verdict.summary
    assert "smtpd_tls_wrappermode=yes" in result.verdict.next_step
    assert "587 with STARTTLS" in result.verdict.next_step


def test_a_tls_alert_is_quoted_in_plain_words(certs: Certs, checker: Checker) -> None:
    """A server that demands a client certificate ends a TLS 1.2 handshake with an alert."""
    options = ("-Verify", "1", "-tls1_2", "-CAfile", str(certs.cafile))
    with openssl_server("127.0.0.12", 465, certs, "smtp.plain.example.net", *options):
        report = asyncio.run(checker.check("smtp.plain.example.net", ["465"]))
    result = only(report.results())
    assert result.failure is not None and result.failure.code == "tls"
    assert result.failure.step == "TLS handshake"
    assert result.verdict is not None and level(result) is Level.FAIL
    assert result.verdict.summary.startswith(
        "The TLS handshake failed: the server ended it with the TLS alert 'handshake failure'"
    )
    assert "ALERT_HANDSHAKE_FAILURE" in result.verdict.summary


async def test_whole_check_deadline(make_checker) -> None:
    checker: Checker = make_checker(check_step_timeout=30.0, check_deadline=1.0)
    async with scripted_server("127.0.0.10", 25, "SMTP", Script(greeting=None)):
        started = time.perf_counter()
        report = await checker.check("smtp.silent.example.net", ["25"])
    assert 0.9 < time.perf_counter() - started < 2.0
    result = only(report.results())
    assert result.failure is not None and (result.failure.step, result.failure.code) == (
        "banner",
        "deadline",
    )
    assert result.steps[-1].detail == "stopped at the check's time limit"


@pytest.mark.parametrize(
    ("port", "implicit", "newest", "says"),
    [(587, False, "TLSv1_1", "TLS 1.1"), (465, True, "TLSv1", "TLS 1")],
)
async def test_a_tls_1_0_or_1_1_only_server_is_named_as_such(
    certs: Certs, make_checker, port: int, implicit: bool, newest: str, says: str
) -> None:
    """Not "a firewall reset the handshake": a second connection that offers only the old
    versions finds out which one the server speaks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        version = getattr(ssl.TLSVersion, newest)
    context = certs.old_tls("smtp.good.example.net", version)
    script = Script(greeting="220 old ESMTP", tls=context)
    async with scripted_server("127.0.0.2", port, "SMTP", script, implicit=implicit):
        result = only((await make_checker().check("smtp.good.example.net", [str(port)])).results())
    assert result.failure is not None and result.failure.code == "old_tls", result.failure
    assert result.failure.step == "TLS handshake"
    assert level(result) is Level.FAIL
    assert result.verdict is not None
    assert f"speaks only {says}" in result.verdict.summary
    assert "firewall" not in result.verdict.summary + result.verdict.next_step
    assert any("TLS 1.0/1.1 only" in s.name for s in result.steps)


async def test_a_megabyte_banner_is_an_overlong_line_not_a_foreign_protocol(make_checker) -> None:
    script = Script(greeting="220 " + "x" * 1_000_000)
    async with scripted_server("127.0.0.12", 587, "SMTP", script):
        result = only((await make_checker().check("smtp.plain.example.net", ["587"])).results())
    assert result.failure is not None and result.failure.code == "overlong"
    assert result.failure.step == "banner" and result.failure.detail.startswith("220 xxx")
    assert result.verdict is not None and level(result) is Level.FAIL
    assert "speaks SMTP" in result.verdict.summary and "512 octets" in result.verdict.summary
    assert "smtpd_banner" in result.verdict.next_step


async def test_commands_pipelined_with_starttls_run_inside_tls_is_cve_2011_0411(
    certs: Certs, make_checker
) -> None:
    """The checker sends one harmless unknown command in the same write as STARTTLS; a server
    that answers it after the handshake runs plaintext commands inside TLS."""
    context = certs.good("smtp.good.example.net")
    vulnerable = Script(greeting="220 old ESMTP", tls=context, runs_pipelined=True)
    async with scripted_server("127.0.0.2", 587, "SMTP", vulnerable) as server:
        result = only((await make_checker().check("smtp.good.example.net", ["587"])).results())
    assert server.received[:2] == ["EHLO mailport.invalid", "STARTTLS"]
    assert result.runs_pipelined_commands is True and result.failure is None
    assert result.verdict is not None and level(result) is Level.FAIL
    assert "CVE-2011-0411" in result.verdict.summary
    assert result.auth_after_tls == ["PLAIN", "LOGIN"]  # EHLO's real reply was still read

    careful = Script(greeting="220 new ESMTP", tls=context)
    async with scripted_server("127.0.0.2", 587, "SMTP", careful):
        result = only((await make_checker().check("smtp.good.example.net", ["587"])).results())
    assert result.runs_pipelined_commands is False and level(result) is Level.OK


async def test_465_silent_after_a_working_handshake_says_so(certs: Certs, make_checker) -> None:
    """Not "a service expecting TLS at once": TLS worked, and nothing speaks behind it."""
    checker: Checker = make_checker(check_step_timeout=0.5, check_deadline=1.5)
    script = Script(greeting=None, tls=certs.good("smtp.good.example.net"))
    async with scripted_server("127.0.0.2", 465, "SMTP", script, implicit=True):
        result = only((await checker.check("smtp.good.example.net", ["465"])).results())
    assert result.tls is not None and result.tls.verified
    assert result.failure is not None and result.failure.step == "banner"
    assert result.verdict is not None and level(result) is Level.FAIL
    assert "handshake worked, but no greeting came over TLS" in result.verdict.summary
    assert "TLS at once" not in result.verdict.summary + result.verdict.next_step


async def test_tls_versions_offered(certs: Certs, make_checker) -> None:
    """TLS 1.1 still on beside 1.2/1.3 is a warning: one connection offers only TLS 1.0/1.1
    (and gets the newer, 1.1), one only TLS 1.2."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context = certs.old_tls("smtp.good.example.net", ssl.TLSVersion.TLSv1_3)
    script = Script(greeting="220 permissive ESMTP", tls=context)
    async with scripted_server("127.0.0.2", 465, "SMTP", script, implicit=True):
        result = only((await make_checker().check("smtp.good.example.net", ["465"])).results())
    assert result.failure is None and result.tls is not None and result.tls.verified
    assert result.tls_versions == ["TLSv1.1", "TLSv1.2", "TLSv1.3"]
    assert result.verdict is not None and level(result) is Level.WARNING
    assert "TLS 1.1 still enabled" in result.verdict.summary
