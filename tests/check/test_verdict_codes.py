"""Every failure code has its own plain-English verdict: pure functions, no server, no root."""

from __future__ import annotations

import pytest

from bot.check.ports import PORTS
from bot.check.report import CheckReport, Failure, FailureCode, HostResult, Level, PortResult
from bot.check.verdict import judge

GENERIC = "The check failed during"
STEP = {FailureCode.TIMEOUT: "banner", FailureCode.DEADLINE: "EHLO"}


def _failed(code: FailureCode, port: int = 587, detail: str = "TLSv1") -> PortResult:
    result = PortResult("mail.example.net", "192.0.2.1", port, "SMTP", "starttls")
    result.failure = Failure(STEP.get(code, "STARTTLS"), code, detail)
    return result


@pytest.mark.parametrize("code", [c for c in FailureCode if c is not FailureCode.ERROR])
def test_each_code_is_said_in_its_own_words(code: FailureCode) -> None:
    verdict = judge(_failed(code), PORTS[587])
    assert not verdict.summary.startswith(GENERIC), code
    assert verdict.next_step and verdict.level is not Level.OK


def test_an_unknown_error_is_reported_with_its_text() -> None:
    verdict = judge(_failed(FailureCode.ERROR, detail="weird socket state"), PORTS[587])
    assert verdict.summary == f"{GENERIC} STARTTLS: weird socket state."


def test_certificate_level_follows_the_port() -> None:
    """Opportunistic TLS on 25 warns; 587 requires TLS and fails (RFC 8314)."""
    assert judge(_failed(FailureCode.OLD_TLS, 25), PORTS[25]).level is Level.WARNING
    assert judge(_failed(FailureCode.OLD_TLS, 587), PORTS[587]).level is Level.FAIL


def test_codes_survive_the_result_cache() -> None:
    """The JSON shape keeps the code's string; reading it back gives the enum again."""
    host = HostResult("mail.example.net", "mail.example.net", ports=[_failed(FailureCode.RESET)])
    report = CheckReport(
        "mail.example.net", [587], False, "2026-12-02T12:00:00+00:00", hosts=[host]
    )
    data = report.to_dict()
    assert data["hosts"][0]["ports"][0]["failure"]["code"] == "reset"
    failure = CheckReport.from_dict(data).hosts[0].ports[0].failure
    assert failure is not None and failure.code is FailureCode.RESET
