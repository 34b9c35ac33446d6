"""Renderers (terminal text, JSON, Block Kit) and the `mailport check` command."""

from __future__ import annotations

import datetime as dt
import functools
import json

import pytest
from check_servers import Certs, Script, aiosmtpd_server, scripted_server
from loopback_ports import TEST_PORTS

from bot import cli
from bot.check import Checker, CheckReport, Level
from bot.check.guard import StaticResolver
from bot.check.report import HostResult, PortResult, Verdict
from bot.check.verdict import overall
from bot.render import check_blocks, check_text
from bot.render import json as render_json
from bot.store import SQLiteStore

HOSTILE_BANNER = "220 <!channel> <https://evil.example|click> *bold* `tick` & done"


@pytest.fixture
async def checked(certs: Certs, make_checker) -> tuple[Checker, CheckReport]:
    checker: Checker = make_checker(check_cache_ttl=60.0)
    checker.store = SQLiteStore(":memory:")
    script = Script(greeting=HOSTILE_BANNER, tls=certs.expired("smtp.expired.example.net"))
    async with scripted_server("127.0.0.4", 587, "SMTP", script):
        return checker, await checker.check("smtp.expired.example.net", ["587", "465"])


@pytest.fixture
def report(checked: tuple[Checker, CheckReport]) -> CheckReport:
    return checked[1]


def test_json_is_the_documented_shape(report: CheckReport) -> None:
    data = render_json.check_report(report)
    assert data["schema"] == "mailport.check/1"
    assert set(data) >= {
        "query",
        "ports",
        "mx",
        "checked_at",
        "ms",
        "cached",
        "ref",
        "verdict",
        "notes",
        "hosts",
    }
    refused, port = data["hosts"][0]["ports"]
    assert set(port) >= {
        "host",
        "address",
        "port",
        "protocol",
        "tls_mode",
        "ms",
        "banner",
        "steps",
        "caps_before_tls",
        "caps_after_tls",
        "starttls_offered",
        "auth_before_tls",
        "cleartext_login",
        "auth_after_tls",
        "tls",
        "failure",
        "verdict",
        "transcript",
    }
    assert port["tls"]["cert"]["expired"] is True
    assert port["tls"]["verify_reason"] == "expired"
    assert port["verdict"]["level"] == "FAIL"
    assert refused["failure"] == {"step": "connect", "code": "refused", "detail": ""}
    assert json.loads(json.dumps(data)) == data


def test_text_report(report: CheckReport) -> None:
    text = check_text.to_text(report)
    assert "FAIL: 2 checks failed; " in text
    assert "Certificate expired 3 days ago." in text
    assert "Refused: the host is up but nothing listens on 465." in text
    assert "Verification: FAILED: expired (OpenSSL 10: certificate has expired)" in text
    assert "Steps: connect" in text and "TLS handshake (again)" in text


def _all_text(blocks: list) -> str:
    return json.dumps([b.to_dict() for b in blocks], ensure_ascii=False)


def test_blocks_escape_server_text_and_offer_details(report: CheckReport) -> None:
    blocks, fallback = check_blocks.to_blocks(report)
    payload = [b.to_dict() for b in blocks]
    assert [b["type"] for b in payload] == ["header", "section", "table", "context", "actions"]
    table = payload[2]["rows"]
    assert [cell["text"] for cell in table[0]] == [
        "Host / address",
        "Port",
        "Verdict",
        "What we found",
    ]
    assert [row[1]["text"] for row in table[1:]] == ["465", "587"]
    assert table[2][2]["text"] == "❌ FAIL"
    assert table[2][3]["text"] == "Certificate expired 3 days ago."
    button = payload[4]["elements"][0]
    assert (button["action_id"], button["value"]) == ("check_details", report.ref)
    assert fallback.startswith("Live check of smtp.expired.example.net: FAIL")

    details, _ = check_blocks.to_detail_blocks(report)
    text = _all_text(details)
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in text and "&amp; done" in text
    assert "`tick`" not in text


async def test_details_come_back_from_the_cache(checked: tuple[Checker, CheckReport]) -> None:
    checker, report = checked
    assert report.ref == "check:smtp.expired.example.net:465,587:host"
    again = await checker.report_for(report.ref)
    assert again is not None and again.cached and again.results() == report.results()
    assert await checker.report_for("entry:anything") is None


def _offline_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI builds its own checker: give it the test DNS table instead of the network, and
    the test servers' ports."""
    monkeypatch.setattr("bot.check.runner.DnsResolver", lambda lifetime: StaticResolver({}))
    monkeypatch.setattr("bot.check.Checker", functools.partial(Checker, dial=TEST_PORTS))


def test_cli_check_ok_json_and_exit_codes(
    certs: Certs, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _offline_dns(monkeypatch)
    monkeypatch.setenv("MAILPORT_ALLOW_CIDRS", "127.0.0.0/8")
    monkeypatch.setenv("MAILPORT_CHECK_CA_FILE", str(certs.cafile))
    with aiosmtpd_server("127.0.0.2", 587, certs.good("127.0.0.2")):
        assert cli.main(["check", "127.0.0.2", "587"]) == cli.EXIT_OK
        out = capsys.readouterr().out
        assert "OK: 1 check OK." in out and "127.0.0.2 port 587 (SMTP, starttls): OK" in out
        assert cli.main(["check", "127.0.0.2", "587", "465", "--json"]) == cli.EXIT_PROBLEMS
        data = json.loads(capsys.readouterr().out)
    assert [p["verdict"]["level"] for p in data["hosts"][0]["ports"]] == ["FAIL", "OK"]


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "http://x"],
        ["check", ""],
        ["check", "smtp.example.com", "22"],
        ["check", "127.0.0.1", "--mx"],
    ],
)
def test_cli_check_bad_input(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == cli.EXIT_USAGE
    assert capsys.readouterr().err.startswith("mailport check: ")


def test_cli_check_takes_an_ipv6_literal(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "2001:db8:1::25"]) == cli.EXIT_USAGE
    assert "2001:db8:1::25 is refused as documentation" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["10.0.0.1", "127.0.0.1", "[::1]", "inside.example.net"])
def test_cli_refused_target_exits_2_and_says_so_once(
    target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    table = {"inside.example.net": {"A": ["10.0.0.1"], "AAAA": ["fd00::25"]}}
    monkeypatch.setattr("bot.check.runner.DnsResolver", lambda lifetime: StaticResolver(table))
    assert cli.main(["check", target, "25"]) == cli.EXIT_USAGE
    said = capsys.readouterr()
    text = said.out + said.err
    assert "MAILPORT_ALLOW_CIDRS" in text and text.count("MAILPORT_ALLOW_CIDRS") == 1
    assert text.count("does not connect") == 1
    assert cli.main(["check", target, "25", "--json"]) == cli.EXIT_USAGE


def _rated(*levels: Level) -> CheckReport:
    ports = [
        PortResult("192.0.2.1", "192.0.2.1", port, "SMTP", "starttls")
        for port in (25, 465, 587, 2525)[: len(levels)]
    ]
    for port, level in zip(ports, levels, strict=True):
        port.verdict = Verdict(level, f"{level} here")
    report = CheckReport("192.0.2.1", [p.port for p in ports], False, "2026-01-01T00:00:00+00:00")
    report.hosts = [HostResult("192.0.2.1", "192.0.2.1", ports=ports)]
    return report


@pytest.mark.parametrize(
    ("levels", "said"),
    [
        ((Level.WARNING,), "1 check with warnings; 192.0.2.1 port 25: WARNING here"),
        ((Level.FAIL, Level.FAIL), "2 checks failed; 192.0.2.1 port 25: FAIL here"),
        ((Level.OK, Level.FAIL), "2 checks: 1 failed, 1 OK; 192.0.2.1 port 465: FAIL here"),
        ((Level.OK,), "1 check OK."),
        ((Level.OK, Level.OK, Level.OK), "All 3 checks OK."),
        ((Level.OK, Level.WARNING, Level.OK), "3 checks: 1 with warnings, 2 OK; "),
    ],
)
def test_summary_says_what_happened(levels: tuple[Level, ...], said: str) -> None:
    verdict = overall(_rated(*levels))
    assert verdict.level is max(levels, key=lambda level: level.rank)
    assert verdict.summary.startswith(said) and " of " not in verdict.summary


@pytest.mark.parametrize(("ms", "shown"), [(25.0, "25 ms"), (999.4, "999 ms"), (2400.0, "2.4 s")])
def test_check_time_in_slack_date_format_and_duration(ms: float, shown: str) -> None:
    when = dt.datetime.now(dt.UTC).replace(microsecond=0)
    report = _rated(Level.OK)
    report.checked_at, report.ms = when.isoformat(), ms
    blocks, _ = check_blocks.to_blocks(report)
    [context] = [b.to_dict() for b in blocks if b.type == "context"]
    line = context["elements"][0]["text"]
    token = f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|"
    assert token in line and when.strftime("%Y-%m-%d %H:%M") in line
    assert line.endswith(f" in {shown}") and "&lt;" not in line
    assert f" in {shown}" in check_text.to_text(report).splitlines()[0]
