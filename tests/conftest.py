"""Say at the start and at the end of a run what it could not test on this machine: the
quality gate without the shared question set, the Postfix/Dovecot tests without root or the
Debian packages. Those tests are skipped with the reason here (in CI they fail instead)."""

from __future__ import annotations

import mail_instances
import pytest
from shared_eval import SHARED

from bot.engine import Engine


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The real knowledge base, loaded once (modules may define their own)."""
    return Engine.load()


def _not_run() -> list[str]:
    gaps = []
    if not (SHARED / "dev.yaml").is_file():
        gaps.append(f"quality gate: no question set at {SHARED / 'dev.yaml'}")
    problem = mail_instances.missing()
    if problem:
        gaps.append(f"Postfix/Dovecot live-check tests: {problem}")
    return gaps


def pytest_report_header() -> list[str]:
    gaps = _not_run()
    if not gaps:
        return ["mailport: quality gate and private Postfix/Dovecot tests will run"]
    return [f"mailport: WILL NOT RUN {gap}" for gap in gaps]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for gap in _not_run():
        terminalreporter.write_line(f"mailport: NOT RUN {gap}", yellow=True, bold=True)
