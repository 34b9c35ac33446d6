"""Postfix (25, 465, 587) and Dovecot (143, 993, 110, 995) on 127.0.0.1, set up by
.ci/mail-servers.sh: the report must agree with `openssl s_client` about the same ports."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from check_servers import LOOPBACK

from bot.check import Checker, Level
from bot.check.guard import StaticResolver
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "mail-servers.sh"
CA = Path("/etc/mailport-ci/ca.pem")
NAME = "mail.example.net"
PORTS = (25, 465, 587, 143, 993, 110, 995)
STARTTLS = {25: "smtp", 587: "smtp", 143: "imap", 110: "pop3"}


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="session", autouse=True)
def mail_servers() -> None:
    """Start Postfix and Dovecot with the CI script unless they already answer."""
    if all(_answers(p) for p in PORTS) and CA.exists():
        return
    problem = None
    if os.geteuid() != 0:
        problem = "Postfix/Dovecot tests need root (run .ci/mail-servers.sh)"
    else:
        run = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=900)
        if run.returncode != 0:
            problem = f".ci/mail-servers.sh failed:\n{run.stdout}\n{run.stderr}"
    if problem and os.environ.get("CI"):
        pytest.fail(problem)
    if problem:
        pytest.skip(problem)


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
        f"127.0.0.1:{port}",
        "-servername",
        NAME,
        "-verify_hostname",
        NAME,
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
    return Checker(settings, resolver=StaticResolver({NAME: {"A": ["127.0.0.1"]}}))


@pytest.mark.parametrize("cafile", [CA, None], ids=["trusted-ca", "unknown-ca"])
async def test_report_agrees_with_openssl(cafile: Path | None) -> None:
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


async def test_postfix_and_dovecot_findings() -> None:
    report = await checker(CA).check(NAME, ["all"])
    results = {r.port: r for r in report.results()}
    for port in (25, 465, 587, 993, 995):
        verdict = results[port].verdict
        assert verdict is not None and verdict.level is Level.OK, (port, verdict)
    assert results[25].banner == "mail.example.net ESMTP mailport-ci"
    assert results[587].starttls_offered and results[587].auth_before_tls == []
    assert results[587].auth_after_tls == ["PLAIN", "LOGIN"]
    assert results[465].auth_after_tls == ["PLAIN", "LOGIN"]
    assert "STARTTLS" in results[143].caps_before_tls
    assert "STLS" in results[110].caps_before_tls
    # Dovecot counts a connection whose two ends share an address (127.0.0.1) as secure and so
    # offers plaintext login before STARTTLS: the checker reports exactly that.
    for port in (143, 110):
        assert results[port].cleartext_login is True
        verdict = results[port].verdict
        assert verdict is not None and verdict.level is Level.WARNING
        assert "disable_plaintext_auth" in verdict.next_step


def test_mail_servers_listen_on_loopback_only() -> None:
    run = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=True)
    for line in run.stdout.splitlines():
        local = line.split()[3]
        port = int(local.rsplit(":", 1)[1])
        if port in PORTS:
            assert local.startswith("127."), line
