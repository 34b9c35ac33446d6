"""A real Postfix (25, 465, 587) and a real Dovecot (143, 993, 110, 995), private to this test
run (mail_instances.py): the report must agree with `openssl s_client` about the same ports,
and the machine's own mail configuration and services must be left exactly as they were."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mail_instances
import pytest
from check_servers import LOOPBACK
from loopback_ports import TEST_PORTS
from mail_instances import ADDRESS, BANNER, NAME, MailServers

from bot.check import Checker, Level
from bot.check.guard import StaticResolver
from bot.settings import Settings

PORTS = (25, 465, 587, 143, 993, 110, 995)
STARTTLS = {25: "smtp", 587: "smtp", 143: "imap", 110: "pop3"}
MAIL_PORTS = frozenset((*PORTS, 2525, 4190))
# Where a system mail server keeps its configuration and state: read, never written.
SYSTEM_PATHS = ("/etc/postfix", "/etc/dovecot", "/etc/mailname", "/etc/aliases", "/var/lib/dovecot")


def fingerprint() -> dict[str, str]:
    """Every file under SYSTEM_PATHS with its mode and a digest of its content."""
    found: dict[str, str] = {}
    for top in map(Path, SYSTEM_PATHS):
        for path in [top, *top.rglob("*")] if top.is_dir() else [top]:
            if path.is_file() and not path.is_symlink():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                found[str(path)] = f"{path.stat().st_mode:o} {digest}"
    return found


def listeners_elsewhere() -> set[str]:
    """The machine's own mail listeners: sockets on the real mail ports (other tests' servers
    use TEST_PORTS, so a parallel run does not show here)."""
    run = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=True)
    found = {line.split()[3] for line in run.stdout.splitlines()}
    return {where for where in found if int(where.rsplit(":", 1)[1]) in MAIL_PORTS}


@dataclass
class Machine:
    """The machine as it was before the private servers started."""

    files: dict[str, str]
    listeners: set[str]


@pytest.fixture(scope="module")
def before() -> Machine:
    return Machine(fingerprint(), listeners_elsewhere())


@pytest.fixture(scope="module", autouse=True)
def servers(before: Machine) -> Iterator[MailServers]:
    """Start the private Postfix and Dovecot; skip where they cannot run (CI fails instead)."""
    problem = mail_instances.missing()
    if problem and not os.environ.get("CI"):
        pytest.skip(f"Postfix/Dovecot tests skipped: {problem}")
    try:
        running = mail_instances.start()
    except mail_instances.MailServersUnavailable as exc:
        pytest.fail(f"private Postfix/Dovecot did not start: {exc}")
    yield running
    running.stop()


@dataclass
class OpenSSL:
    """What `openssl s_client -brief` says about one port."""

    version: str
    cipher: str
    subject: str
    verified: bool
    first_error: int | None


def s_client(port: int, cafile: Path | None) -> OpenSSL:
    command = [
        "openssl",
        "s_client",
        "-brief",
        "-connect",
        f"{ADDRESS}:{TEST_PORTS[port]}",
        "-servername",
        NAME,
        "-verify_hostname",
        NAME,
        "-nameopt",
        "RFC2253",
    ]
    if cafile is not None:
        command += ["-CAfile", str(cafile)]
    if port in STARTTLS:
        command += ["-starttls", STARTTLS[port]]
    run = subprocess.run(command, input="", capture_output=True, text=True, timeout=20)
    out = run.stdout + run.stderr

    def field(label: str) -> str:
        match = re.search(rf"^{label}: (.*)$", out, re.MULTILINE)
        assert match, f"no {label!r} in openssl output:\n{out}"
        return match.group(1).strip()

    errors = re.findall(r"verify error:num=(\d+):", out)
    return OpenSSL(
        version=field("Protocol version"),
        cipher=field("Ciphersuite"),
        subject=field("Peer certificate").replace(" ", ""),
        verified="Verification: OK" in out,
        first_error=int(errors[0]) if errors else None,
    )


def checker(cafile: Path | None) -> Checker:
    settings = Settings(allow_cidrs=LOOPBACK, check_ca_file=cafile, check_cache_ttl=0)
    return Checker(settings, resolver=StaticResolver({NAME: {"A": [ADDRESS]}}), dial=TEST_PORTS)


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted-ca", "unknown-ca"])
async def test_report_agrees_with_openssl(servers: MailServers, trusted: bool) -> None:
    cafile = servers.cafile if trusted else None
    report = await checker(cafile).check(NAME, ["all"])
    results = {r.port: r for r in report.results()}
    assert results[2525].failure is not None and results[2525].failure.code == "refused"
    for port in PORTS:
        ours, theirs = results[port], s_client(port, cafile)
        assert ours.failure is None, (port, ours.failure)
        assert ours.tls is not None and ours.tls.cert is not None
        assert (ours.tls.version, ours.tls.cipher) == (theirs.version, theirs.cipher), port
        assert ours.tls.cert.subject.replace(" ", "") == theirs.subject
        assert ours.tls.verified is theirs.verified, port
        assert ours.tls.verify_code == theirs.first_error, port


async def test_postfix_and_dovecot_findings(servers: MailServers) -> None:
    report = await checker(servers.cafile).check(NAME, ["all"])
    results = {r.port: r for r in report.results()}
    for port in PORTS:
        verdict = results[port].verdict
        assert verdict is not None and verdict.level is Level.OK, (port, verdict)
    assert results[25].banner == BANNER
    # Configured for TLS 1.2 and later (mail_instances.py): each version tried alone agrees.
    assert all(results[p].tls_versions == ["TLSv1.2", "TLSv1.3"] for p in PORTS)
    # `all` includes the unofficial 2525, where nothing listens: information, not a failure.
    assert results[2525].failure is not None and results[2525].failure.code == "refused"
    assert results[2525].verdict is not None and results[2525].verdict.level is Level.OK
    assert report.verdict is not None and report.verdict.level is Level.OK, report.verdict
    explicit = await checker(servers.cafile).check(NAME, ["2525"])
    assert explicit.level is Level.FAIL
    assert results[587].starttls_offered and results[587].auth_before_tls == []
    # Postfix discards what came with STARTTLS (fixed for CVE-2011-0411 in 2011).
    assert results[25].runs_pipelined_commands is False
    assert results[587].runs_pipelined_commands is False
    assert results[587].auth_after_tls == ["PLAIN", "LOGIN"]
    assert results[465].auth_after_tls == ["PLAIN", "LOGIN"]
    assert "STARTTLS" in results[143].caps_before_tls
    assert "STLS" in results[110].caps_before_tls
    # The client's address (127.0.0.1) is not the server's (127.0.0.30), so Dovecot does not
    # count the connection as secure: it refuses plaintext login before STARTTLS.
    assert "LOGINDISABLED" in results[143].caps_before_tls
    assert results[143].cleartext_login is False and results[110].cleartext_login is False


def test_private_servers_listen_on_their_address_only(servers: MailServers) -> None:
    run = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True)
    ours = [line for line in run.stdout.splitlines() if re.search(r'"(master|dovecot)"', line)]
    ours = [line for line in ours if str(servers.root) in _command_of(line) or ADDRESS in line]
    assert sorted(int(line.split()[3].rsplit(":", 1)[1]) for line in ours) == sorted(
        TEST_PORTS[p] for p in PORTS
    )
    assert all(line.split()[3].startswith(f"{ADDRESS}:") for line in ours)


def _command_of(line: str) -> str:
    pid = re.search(r"pid=(\d+)", line)
    if pid is None:
        return ""
    return Path(f"/proc/{pid.group(1)}/cmdline").read_bytes().replace(b"\0", b" ").decode()


async def test_the_machine_is_left_as_it_was(servers: MailServers, before: Machine) -> None:
    """With both servers running and checked, the system's mail configuration is byte for
    byte what it was, and no listener of the machine's own appeared or went away."""
    await checker(servers.cafile).check(NAME, ["25", "993"])
    assert fingerprint() == before.files
    assert listeners_elsewhere() == before.listeners
