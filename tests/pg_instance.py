"""A private PostgreSQL server for the tests, owned by the test run: its data directory,
socket and log live in one temporary directory, it listens on 127.0.0.1 only, on a free
port, and `stop` ends it and removes the directory. The machine's own clusters (Debian's
`postgresql` service, /etc/postgresql) are never read, started or touched.

PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user
that Debian's package creates (the directory is handed to it). Needs Debian's `postgresql`
package (`bash .ci/pg-packages.sh` installs it without creating or starting a cluster).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ADDRESS = "127.0.0.1"
USER = "mailport"
PASSWORD = "mailport-test-password"
START_SECONDS = 30.0
PREFIX = "mailport-pg-"


class PostgresUnavailable(RuntimeError):
    """The server cannot run here (package missing) or did not start."""


def bindir() -> Path | None:
    """Where `initdb`, `pg_ctl` and `postgres` are: Debian keeps them per major version."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("postgres")
    return Path(found).parent if found else None


def missing() -> str | None:
    """Why the server cannot run on this machine, or None when it can."""
    if bindir() is None:
        return "PostgreSQL missing: install Debian's postgresql (bash .ci/pg-packages.sh does)"
    if os.geteuid() == 0 and not _has_user("postgres"):
        return "running as root, and there is no postgres user to run PostgreSQL as"
    return None


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((ADDRESS, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Postgres:
    """One private server; `url(db)` is what `MAILPORT_DB` would hold."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix=PREFIX)))
    port: int = field(default_factory=_free_port)
    _made: int = 0

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@{ADDRESS}:{self.port}/{database}"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        tool = bindir()
        assert tool is not None
        command = [str(tool / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        env = {**os.environ, "PGPASSWORD": PASSWORD}
        return subprocess.run(
            command, capture_output=True, text=True, check=check, timeout=60, env=env
        )

    def start(self) -> Postgres:
        """initdb (first time) and start; raises `PostgresUnavailable` with the log's end."""
        problem = missing()
        if problem:
            raise PostgresUnavailable(problem)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        if not self.data.exists():
            secret = self.root / "pw"
            secret.write_text(PASSWORD)
            if os.geteuid() == 0:
                shutil.chown(secret, "postgres", "postgres")
            self._run(
                "initdb", "-D", str(self.data), "-U", USER, "--pwfile", str(secret),
                "-A", "scram-sha-256", "--no-sync", "-E", "UTF8",
            )  # fmt: skip
        options = (
            f"-c listen_addresses={ADDRESS} -p {self.port} -k {self.root} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options,
            "-w", "-t", str(int(START_SECONDS)), "start", check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise PostgresUnavailable(f"PostgreSQL did not start: {self.log()[-800:]}")
        return self

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.root / "log").read_text(errors="replace")
        return ""

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`immediate` is a crash); the data directory stays."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = self._run(
            "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", ADDRESS, "-p", str(self.port), "-U", USER, "-d", database, "-c", sql,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip())
        return done.stdout.strip()

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        self._made += 1
        name = f"t{os.getpid()}_{self._made}_{int(time.monotonic() * 1000) % 100000}"
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        """Stop the server and delete its directory."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
