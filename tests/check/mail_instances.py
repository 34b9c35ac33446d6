"""A private Postfix and a private Dovecot for the tests, as real as the system's but owned by
the test run: configuration, queue, state, sockets, certificates and logs all live in one
temporary directory, both listen on 127.0.0.30 only, on the TEST_PORTS stand-ins of the mail
ports (25 -> 20025, ...). Nothing under /etc, /var or /run is read for configuration or written,
so a mail server the machine already runs keeps running untouched, and no second run finds
leftovers: `stop` ends both servers and removes the directory.

Postfix's master process must start as root (it hands ports and queue files to the `postfix`
user), so these servers need root and Debian's postfix, dovecot-imapd and dovecot-pop3d."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trustme
from loopback_ports import TEST_PORTS

ADDRESS = "127.0.0.30"
NAME = "mail.example.net"
BANNER = "mail.example.net ESMTP mailport-test"
SMTP_PORTS = (25, 465, 587)
MAILBOX_PORTS = (143, 993, 110, 995)
START_SECONDS = 30.0
PREFIX = "mailport-mail-"
PROGRAMS = (
    "/usr/sbin/postfix",
    "/usr/sbin/dovecot",
    "/usr/lib/dovecot/imap",
    "/usr/lib/dovecot/pop3",
)


class MailServersUnavailable(RuntimeError):
    """The servers cannot run here (not root, packages missing) or did not start."""


def missing() -> str | None:
    """Why the servers cannot run on this machine, or None when they can."""
    if os.geteuid() != 0:
        return "the private Postfix and Dovecot need root (Postfix's master starts as root)"
    absent = [p for p in PROGRAMS if not Path(p).exists()]
    if absent:
        return (
            f"{', '.join(absent)} missing: install Debian's postfix, dovecot-imapd and "
            "dovecot-pop3d (bash .ci/mail-packages.sh does, without starting or configuring them)"
        )
    return None


@dataclass
class MailServers:
    """Running private instances; `cafile` is the test CA that signed their certificate."""

    root: Path

    @property
    def cafile(self) -> Path:
        return self.root / "ca.pem"

    @property
    def postfix_config(self) -> Path:
        return self.root / "postfix"

    @property
    def dovecot_config(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def control_log(self) -> Path:
        return self.root / "control.log"

    def logs(self) -> str:
        """The last lines of both servers' logs, for a failure message."""
        parts = []
        for name in ("control.log", "postfix.log", "dovecot.log"):
            path = self.root / name
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()[-15:]
                parts.append(f"--- {name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop both servers, wait until their ports close, remove the directory."""
        _run(["postfix", "-c", str(self.postfix_config), "stop"], self.control_log, check=False)
        pid_file = self.root / "dovecot-run" / "master.pid"
        if pid_file.exists():
            with contextlib.suppress(OSError, ValueError):
                _end_dovecot(int(pid_file.read_text().strip()))
        _wait(lambda: not any(_answers(p) for p in (*SMTP_PORTS, *MAILBOX_PORTS)))
        shutil.rmtree(self.root, ignore_errors=True)


def _end_dovecot(pid: int) -> None:
    """SIGTERM, then SIGKILL to Dovecot's process group after a second: its login processes
    otherwise wait five seconds for a stats service that has already gone."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 1.0
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if Path(f"/proc/{pid}").exists() and os.getpgid(pid) == pid:
        os.killpg(pid, signal.SIGKILL)


def start() -> MailServers:
    """Write both configurations into a new directory, start Postfix then Dovecot (whose SASL
    socket lives in Postfix's queue), and wait until every port answers."""
    problem = missing()
    if problem:
        raise MailServersUnavailable(problem)
    stop_leftovers()
    root = Path(tempfile.mkdtemp(prefix=PREFIX))
    root.chmod(0o755)  # the unprivileged postfix and dovecot users traverse it
    (root / "owner.pid").write_text(str(os.getpid()))
    servers = MailServers(root)
    try:
        _certificates(root)
        _postfix(servers)
        _run(["postfix", "-c", str(servers.postfix_config), "start"], servers.control_log)
        _dovecot(servers)
        _run(["dovecot", "-c", str(servers.dovecot_config)], servers.control_log)
        if not _wait(lambda: all(_answers(p) for p in (*SMTP_PORTS, *MAILBOX_PORTS))):
            raise MailServersUnavailable("Postfix and Dovecot did not answer on every port")
    except (MailServersUnavailable, OSError, subprocess.SubprocessError) as exc:
        logs = servers.logs()
        servers.stop()
        raise MailServersUnavailable(f"{exc}\n{logs}") from None
    return servers


def stop_leftovers() -> None:
    """Stop the servers of an earlier run that died before stopping them (its process is gone),
    so that their ports are free again."""
    for root in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((root / "owner.pid").read_text())
            os.kill(owner, 0)
        except (OSError, ValueError):
            MailServers(root).stop()


def _certificates(root: Path) -> None:
    ca = trustme.CA(organization_name="mailport tests")
    leaf = ca.issue_cert(NAME, common_name=NAME)
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    leaf.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    key = root / "key.pem"
    leaf.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)


def _postfix(servers: MailServers) -> None:
    root, config = servers.root, servers.postfix_config
    config.mkdir()
    (root / "postfix-queue").mkdir()
    data = root / "postfix-data"
    data.mkdir()
    shutil.chown(data, user="postfix")
    (config / "main.cf").write_text(
        "\n".join(
            (
                "compatibility_level = 3.6",
                f"queue_directory = {root}/postfix-queue",
                f"data_directory = {data}",
                "inet_interfaces = loopback-only",
                "inet_protocols = ipv4",
                f"myhostname = {NAME}",
                "mydestination =",
                "relayhost =",
                "alias_maps =",
                "alias_database =",
                f"maillog_file_prefixes = {root}",
                f"maillog_file = {root}/postfix.log",
                "smtpd_banner = $myhostname ESMTP mailport-test",
                f"smtpd_tls_cert_file = {root}/cert.pem",
                f"smtpd_tls_key_file = {root}/key.pem",
                "smtpd_tls_security_level = may",
                "smtpd_tls_protocols = >=TLSv1.2",
                "smtpd_tls_mandatory_protocols = >=TLSv1.2",
                "smtpd_tls_auth_only = yes",
                "smtpd_sasl_type = dovecot",
                "smtpd_sasl_path = private/auth",
                "",
            )
        )
    )
    (config / "master.cf").write_text(_master_cf())


def _master_cf() -> str:
    """smtpd on the three SMTP ports, then the internal services Postfix needs to run."""
    smtp, submission, smtps = (f"{ADDRESS}:{TEST_PORTS[p]}" for p in (25, 587, 465))
    listeners = [
        f"{smtp} inet n - n - - smtpd",
        f"{submission} inet n - n - - smtpd",
        "  -o smtpd_tls_security_level=encrypt",
        "  -o smtpd_sasl_auth_enable=yes",
        f"{smtps} inet n - n - - smtpd",
        "  -o smtpd_tls_wrappermode=yes",
        "  -o smtpd_sasl_auth_enable=yes",
    ]
    internal = {
        "pickup": "n - n 60 1 pickup",
        "cleanup": "n - n - 0 cleanup",
        "qmgr": "n - n 300 1 qmgr",
        "tlsmgr": "- - n 1000? 1 tlsmgr",
        "rewrite": "- - n - - trivial-rewrite",
        "bounce": "- - n - 0 bounce",
        "defer": "- - n - 0 bounce",
        "trace": "- - n - 0 bounce",
        "verify": "- - n - 1 verify",
        "flush": "n - n 1000? 0 flush",
        "proxymap": "- - n - - proxymap",
        "smtp": "- - n - - smtp",
        "relay": "- - n - - smtp",
        "showq": "n - n - - showq",
        "error": "- - n - - error",
        "retry": "- - n - - error",
        "discard": "- - n - - discard",
        "local": "- n n - - local",
        "anvil": "- - n - 1 anvil",
        "scache": "- - n - 1 scache",
    }
    services = [f"{name} unix {fields}" for name, fields in internal.items()]
    return "\n".join([*listeners, *services, "postlog unix-dgram n - n - 1 postlogd", ""])


def _dovecot(servers: MailServers) -> None:
    root = servers.root
    for folder in ("dovecot-state", "mail"):
        (root / folder).mkdir()
    (root / "users").write_text("")
    imap, imaps, pop3, pop3s = (TEST_PORTS[p] for p in MAILBOX_PORTS)
    servers.dovecot_config.write_text(f"""\
protocols = imap pop3
listen = {ADDRESS}
base_dir = {root}/dovecot-run/
state_dir = {root}/dovecot-state
instance_name = mailport-test
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service auth {{
  unix_listener {root}/postfix-queue/private/auth {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
""")


def _run(command: list[str], log: Path, check: bool = True) -> None:
    """Run a server's control command with its output in `log`: daemons it starts inherit
    those descriptors, so a pipe here would never reach end of file."""
    with log.open("a") as out:
        code = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=START_SECONDS,
            start_new_session=True,
        ).returncode
    if check and code != 0:
        raise MailServersUnavailable(f"{' '.join(command)} exited {code}")


def _answers(port: int) -> bool:
    try:
        socket.create_connection((ADDRESS, TEST_PORTS[port]), timeout=1).close()
    except OSError:
        return False
    return True


def _wait(done: Callable[[], bool]) -> bool:
    """Poll `done()` for up to START_SECONDS."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.2)
    return False
