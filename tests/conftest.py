"""Say at the start and at the end of a run what it could not test on this machine: the
quality gate without the shared question set, the Postfix/Dovecot tests without root or the
Debian packages, the PostgreSQL tests without Debian's postgresql. Those tests are skipped
with the reason here (in CI they fail instead)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import mail_instances
import pg_instance
import pytest
from shared_eval import SHARED

from bot.engine.facade import Engine


@pytest.fixture(scope="session", autouse=True)
def fit_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the matcher's fit is kept for the whole run, by this process and by the
    `mailport` processes tests start: `MAILPORT_CACHE_DIR` when set (a developer's warm
    cache), else a directory of the run's own, never the user's cache."""
    given = os.environ.get("MAILPORT_CACHE_DIR")
    path = Path(given) if given else tmp_path_factory.mktemp("fit-cache")
    os.environ["MAILPORT_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def engine(fit_cache: Path) -> Engine:
    """The real knowledge base, loaded and fitted once. Tests that start `mailport`
    processes ask for it first, so those find the fit in `fit_cache`."""
    return Engine.load(cache_dir=fit_cache)


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg_instance.Postgres]:
    """One private PostgreSQL server for the whole run (tests make their own databases)."""
    problem = pg_instance.missing()
    if problem and not os.environ.get("CI"):
        pytest.skip(f"PostgreSQL tests skipped: {problem}")
    server = pg_instance.Postgres()
    try:
        server.start()
    except BaseException:
        server.remove()
        raise
    yield server
    server.remove()


def _not_run() -> list[str]:
    gaps = []
    if not (SHARED / "dev.yaml").is_file():
        gaps.append(f"quality gate: no question set at {SHARED / 'dev.yaml'}")
    problem = mail_instances.missing()
    if problem:
        gaps.append(f"Postfix/Dovecot live-check tests: {problem}")
    problem = pg_instance.missing()
    if problem:
        gaps.append(f"PostgreSQL store tests: {problem}")
    return gaps


def pytest_report_header() -> list[str]:
    gaps = _not_run()
    if not gaps:
        return ["mailport: quality gate, private Postfix/Dovecot and PostgreSQL tests will run"]
    return [f"mailport: WILL NOT RUN {gap}" for gap in gaps]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for gap in _not_run():
        terminalreporter.write_line(f"mailport: NOT RUN {gap}", yellow=True, bold=True)
