"""Verdicts: OK / WARNING / FAIL with one plain sentence and the next step. Certificate and
STARTTLS problems are warnings on port 25 (opportunistic TLS, RFC 7435) and failures on the
submission and access ports (RFC 8314)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable

from bot.check.guard import refused_literal, refused_next_step
from bot.check.ports import PORTS, PortSpec, TlsMode
from bot.check.report import (
    CheckReport,
    DomainPolicy,
    Failure,
    FailureCode,
    HostResult,
    Level,
    PortResult,
    TlsInfo,
    Verdict,
)

SLOW_GREETING_MS = 5000.0
EXPIRY_WARNING_DAYS = 14
_GREETINGS = {"banner", "greeting"}


def judge(result: PortResult, spec: PortSpec) -> Verdict:
    """The verdict for one port on one address."""
    findings = []
    if result.failure is not None:
        findings.append(_failure(result, spec))
    findings.extend(_observations(result, spec))
    if not findings:
        return Verdict(Level.OK, _ok_summary(result))
    return _worst(findings)


def _worst(findings: list[Verdict]) -> Verdict:
    """The worst finding in its own words, the others' sentences as `also`."""
    worst = max(findings, key=lambda f: f.level.rank)
    also = [f.summary for f in findings if f is not worst]
    return Verdict(worst.level, worst.summary, worst.next_step, also)


def optional(result: PortResult) -> PortResult:
    """An unofficial port that `all` included: when nothing listens (refused, or dropped by a
    firewall), that is information, not a failure."""
    failure = result.failure
    silent = (FailureCode.REFUSED, FailureCode.TIMEOUT)
    if failure is not None and failure.step == "connect" and failure.code in silent:
        result.verdict = Verdict(
            Level.OK,
            f"Nothing listens on {result.port}, an unofficial submission port that no client "
            "needs; some sending services offer it for networks that block 587.",
        )
    return result


def _implicit_counterpart(spec: PortSpec) -> int | None:
    """The implicit-TLS port for the same service as a STARTTLS port (465 for 587)."""
    return spec.counterpart if spec.tls is TlsMode.STARTTLS else None


def _tls_level(spec: PortSpec) -> Level:
    return Level.FAIL if spec.tls_required else Level.WARNING


def _failure(r: PortResult, spec: PortSpec) -> Verdict:
    """The verdict for the step that failed, by its failure code."""
    assert r.failure is not None
    return _FAILURES[r.failure.code](r, r.failure, spec)


def _timeout(r: PortResult, f: Failure, spec: PortSpec) -> Verdict:
    step, detail, port = f.step, f.detail, r.port
    if step == "connect" and port == 25:
        return Verdict(
            Level.FAIL,
            "Timed out: something between us and the server drops port 25, often the ISP "
            "or cloud provider.",
            "Clients should use 587 or 465; a receiving MX must accept port 25 from the Internet.",
        )
    if step == "connect":
        return Verdict(
            Level.FAIL,
            f"Timed out: nothing answered on port {port} ({detail}); a firewall probably drops it.",
            f"Check the server's firewall or cloud security group for TCP {port}.",
        )
    if step in _GREETINGS and r.tls is not None:
        return _silent_behind_tls()
    if step in _GREETINGS:
        implicit = _implicit_counterpart(spec)
        hint = f" (TLS at once is port {implicit}'s job)" if implicit else ""
        return Verdict(
            Level.FAIL,
            f"No greeting ({detail}): the port accepts connections but the server never speaks.",
            f"Check the mail server's logs; a service expecting TLS at once{hint} or an "
            "overloaded server looks like this.",
        )
    if step.startswith("TLS handshake"):
        return Verdict(
            _tls_level(spec),
            f"The TLS handshake timed out ({detail}).",
            "Check the service's TLS settings; it may not speak TLS on this port.",
        )
    return Verdict(
        Level.FAIL,
        f"No reply to {step} ({detail}).",
        "The server stalls mid-conversation; check its logs and load.",
    )


def _silent_behind_tls() -> Verdict:
    return Verdict(
        Level.FAIL,
        "The TLS handshake worked, but no greeting came over TLS: the service behind TLS "
        "is silent.",
        "Check what TLS hands the connection to: a stalled or stopped mail service, or a "
        "TLS proxy (stunnel, a load balancer) forwarding to nothing; see its logs.",
    )


def _deadline(r: PortResult, f: Failure, spec: PortSpec) -> Verdict:
    step = f.step
    if step in _GREETINGS and r.tls is not None:
        return _silent_behind_tls()
    if step in _GREETINGS:
        implicit = _implicit_counterpart(spec)
        hint = (
            f" A service expecting TLS at once (port {implicit}'s job) is silent too."
            if implicit
            else ""
        )
        return Verdict(
            Level.FAIL,
            "No greeting within the check's time limit: the port accepts connections but the "
            "server has not spoken yet.",
            "RFC 5321 gives a server 5 minutes to greet and greet-pause (postscreen) setups wait "
            "on purpose, but most clients give up after 30 to 60 s: check the greet delay and "
            f"the server's load and logs.{hint}",
        )
    return Verdict(
        Level.FAIL,
        f"The check hit its time limit during {step}.",
        "The server is very slow or stalls; try again later or check its load.",
    )


def _refused(r: PortResult, f: Failure, spec: PortSpec) -> Verdict:
    return Verdict(
        Level.FAIL,
        f"Refused: the host is up but nothing listens on {r.port}.",
        f"Start the {spec.role} service on {r.port}, or open the port in the host's firewall.",
    )


def _starttls_refused(r: PortResult, f: Failure, spec: PortSpec) -> Verdict:
    return Verdict(
        _tls_level(spec),
        f"STARTTLS is offered but refused: {f.detail}",
        "Check the server's certificate and key settings and its logs.",
    )


def _old_tls(r: PortResult, f: Failure, spec: PortSpec) -> Verdict:
    return Verdict(
        _tls_level(spec),
        f"The server speaks only {f.detail.replace('TLSv', 'TLS ')}: current mail "
        "clients, Microsoft 365 and Gmail refuse anything older than TLS 1.2, so the handshake "
        "fails.",
        "Enable TLS 1.2 and 1.3 on the server (Postfix: smtpd_tls_protocols; Dovecot: "
        "ssl_min_protocol = TLSv1.2), usually by updating its OpenSSL or its configuration.",
    )


def _overlong(r: PortResult, f: Failure, spec: PortSpec) -> Verdict:
    limit = (
        " (RFC 5321 §4.5.3.1.5 allows 512 octets per reply line)" if r.protocol == "SMTP" else ""
    )
    return Verdict(
        Level.FAIL,
        f"The server speaks {r.protocol}, but a line it sent during {f.step} is longer "
        f"than 8 KiB{limit}; clients cut it off or give up.",
        "Shorten what the server sends there (for a banner: Postfix smtpd_banner, Exim "
        "smtp_banner).",
    )


def _no_starttls(r: PortResult, spec: PortSpec) -> Verdict:
    if r.port == 25:
        return Verdict(
            Level.WARNING,
            "STARTTLS is not offered, so mail to this server travels unencrypted.",
            "Enable STARTTLS with a certificate (Postfix: smtpd_tls_security_level = may).",
        )
    alternative = _implicit_counterpart(spec) or "the implicit-TLS port"
    return Verdict(
        _tls_level(spec),
        f"STARTTLS is not offered on {r.port}, so clients cannot protect passwords.",
        f"Enable STARTTLS on {r.port}, or have clients use {alternative}.",
    )


_PLAIN_FIX = {
    465: "Postfix: a submissions service in master.cf with smtpd_tls_wrappermode=yes",
    993: "Dovecot: inet_listener imaps { port = 993 ssl = yes }",
    995: "Dovecot: inet_listener pop3s { port = 995 ssl = yes }",
}


def _plain_text(r: PortResult, said: str) -> Verdict:
    """An implicit-TLS port that answers in plain text, quoting what it said."""
    quoted = said[:120]
    fix = _PLAIN_FIX.get(r.port, "enable TLS on the port's listener")
    spec = PORTS.get(r.port)
    other = spec.counterpart if spec and spec.tls is TlsMode.IMPLICIT else None
    instead = f", or have clients use {other} with STARTTLS" if other else ""
    return Verdict(
        Level.FAIL,
        f"Port {r.port} answered in plain text ('{quoted}') where a TLS handshake belongs: "
        "it is not set up for implicit TLS, and clients set to SSL/TLS give up.",
        f"Turn on implicit TLS for {r.port} ({fix}){instead}.",
    )


_ALERTS = {
    "HANDSHAKE_FAILURE": (
        "handshake failure",
        "the server found no TLS version or cipher it shares with current clients",
    ),
    "PROTOCOL_VERSION": ("protocol version", "the server accepts none of TLS 1.2 and 1.3"),
    "INSUFFICIENT_SECURITY": (
        "insufficient security",
        "the server wants ciphers stronger or weaker than the client offers",
    ),
    "INTERNAL_ERROR": ("internal error", "the server's TLS setup failed on its side"),
    "UNRECOGNIZED_NAME": ("unrecognized name", "the server has no certificate for this name"),
    "ACCESS_DENIED": ("access denied", "the server refuses this client"),
    "CERTIFICATE_REQUIRED": ("certificate required", "the server wants a client certificate"),
}


def alert_said(detail: str) -> str | None:
    """The TLS alert a server sent, quoted with what it usually means, if `detail` names one."""
    upper = detail.upper()
    if "ALERT" not in upper and "UNRECOGNIZED_NAME" not in upper:
        return None
    for key, (name, meaning) in _ALERTS.items():
        if key in upper:
            return f"the server ended it with the TLS alert '{name}': {meaning}"
    return None


def _tls_failure(r: PortResult, spec: PortSpec, detail: str) -> Verdict:
    if "WRONG_VERSION_NUMBER" in detail.upper() and spec.tls is TlsMode.IMPLICIT:
        hint = f"Port {r.port} answered in plain text; it is not set up for implicit TLS."
    else:
        hint = (
            "A TLS 1.0/1.1 handshake failed too, so it is not old TLS: the server's TLS setup "
            "is broken (an unreadable certificate or key, or plain text where TLS belongs); "
            "check its TLS settings and logs."
        )
    said = alert_said(detail)
    summary = f"The TLS handshake failed: {said} ({detail})." if said else None
    return Verdict(_tls_level(spec), summary or f"The TLS handshake failed: {detail}.", hint)


_FAILED = {
    FailureCode.UNREACHABLE: (
        "Unreachable: no route to {address} ({detail}).",
        "If this is an IPv6 address, the bot's network may lack IPv6; otherwise check routing "
        "to the server.",
    ),
    FailureCode.RESET: (
        "The server reset the connection during {step}.",
        "A firewall or the server drops the session; check the server's logs.",
    ),
    FailureCode.CLOSED: (
        "The server closed the connection during {step}.",
        "A firewall or the server drops the session; check the server's logs.",
    ),
    FailureCode.REJECTED: (
        "The server turned us away at once: {detail}",
        "It may be overloaded or block the bot's address (blocklist or rate limit); check its "
        "logs.",
    ),
    FailureCode.EHLO_REFUSED: (
        "The server refused EHLO: {detail}",
        "If it wants a real host name, set MAILPORT_HELO_NAME to a name whose DNS matches the "
        "bot's address.",
    ),
    FailureCode.INJECTION: (
        "Data before the handshake: right after its STARTTLS go-ahead the server sent more, "
        "which a client would read as if it came over TLS ({detail}).",
        "Look for a firewall or proxy that rewrites mail sessions; otherwise update the mail "
        "server (RFC 3207 §4.2).",
    ),
    FailureCode.PROTOCOL: (
        "The server does not speak {protocol} as expected: {detail}.",
        "Check that {protocol} is what runs on port {port}.",
    ),
    FailureCode.ERROR: (
        "The check failed during {step}: {detail}.",
        "Try again; if it persists, report it with the JSON output.",
    ),
}
"""Failures said the same way wherever they happen: (summary, next step), filled in from the
result and its failure."""


def _failed(r: PortResult, f: Failure, spec: PortSpec) -> Verdict:
    summary, next_step = _FAILED[f.code]
    where = {"address": r.address, "port": r.port, "protocol": r.protocol}
    fields = {**where, "step": f.step, "detail": f.detail}
    return Verdict(Level.FAIL, summary.format(**fields), next_step.format(**fields))


_FAILURES: dict[FailureCode, Callable[[PortResult, Failure, PortSpec], Verdict]] = {
    FailureCode.TIMEOUT: _timeout,
    FailureCode.DEADLINE: _deadline,
    FailureCode.REFUSED: _refused,
    FailureCode.RESET: _failed,
    FailureCode.CLOSED: _failed,
    FailureCode.UNREACHABLE: _failed,
    FailureCode.TLS: lambda r, f, spec: _tls_failure(r, spec, f.detail),
    FailureCode.OLD_TLS: _old_tls,
    FailureCode.PLAINTEXT: lambda r, f, spec: _plain_text(r, f.detail),
    FailureCode.INJECTION: _failed,
    FailureCode.REJECTED: _failed,
    FailureCode.EHLO_REFUSED: _failed,
    FailureCode.NO_STARTTLS: lambda r, f, spec: _no_starttls(r, spec),
    FailureCode.STARTTLS_REFUSED: _starttls_refused,
    FailureCode.OVERLONG: _overlong,
    FailureCode.PROTOCOL: _failed,
    FailureCode.ERROR: _failed,
}
"""Each failure code's verdict (tests check that every code has one)."""


def _observations(r: PortResult, spec: PortSpec) -> list[Verdict]:
    found: list[Verdict] = []
    if r.tls is not None:
        found.extend(_certificate(r.tls, spec))
    if r.cleartext_login:
        found.append(_cleartext_login(r))
    found.extend(_versions(r))
    if r.runs_pipelined_commands:
        found.append(
            Verdict(
                Level.FAIL,
                "CVE-2011-0411: the server ran a command sent before STARTTLS as if it came over "
                "TLS, so whoever sits on the path can inject commands into the encrypted session.",
                "Update the mail server: RFC 3207 §4.2 requires it to discard everything received "
                "before the TLS handshake.",
            )
        )
    if (
        spec.proto.value == "SMTP"
        and spec.port != 25
        and r.failure is None
        and r.tls is not None
        and not r.auth_after_tls
    ):
        found.append(
            Verdict(
                Level.WARNING,
                "No AUTH is offered after TLS, so mail clients cannot log in here.",
                "Enable SMTP AUTH on the submission port (Postfix: smtpd_sasl_auth_enable = yes).",
            )
        )
    greeting = next((s for s in r.steps if s.name in _GREETINGS and s.ok), None)
    if greeting is not None and greeting.ms > SLOW_GREETING_MS:
        found.append(
            Verdict(
                Level.WARNING,
                f"The greeting took {greeting.ms / 1000:.1f} s (greet-pause or tarpit?).",
                "Normal for some anti-spam setups, but clients with short timeouts may give up.",
            )
        )
    return found


def _versions(r: PortResult) -> list[Verdict]:
    """One line on the TLS versions offered, when they matter: 1.0/1.1 still on, or 1.3 only."""
    names = {"TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1"}
    old = [names[v] for v in r.tls_versions if v in names]
    if old:
        return [
            Verdict(
                Level.WARNING,
                f"{' and '.join(old)} still enabled beside newer versions: they are deprecated "
                "(RFC 8996) and current clients no longer use them.",
                "Turn them off (Postfix: smtpd_tls_protocols = >=TLSv1.2; Dovecot: "
                "ssl_min_protocol = TLSv1.2) unless very old devices still need them.",
            )
        ]
    if r.tls_versions == ["TLSv1.3"]:
        return [
            Verdict(
                Level.WARNING,
                "TLS 1.3 only: older clients and devices that stop at TLS 1.2 cannot connect.",
                "Allow TLS 1.2 as well if printers, scanners or old apps send through here.",
            )
        ]
    return []


def _certificate(tls: TlsInfo, spec: PortSpec) -> list[Verdict]:
    found: list[Verdict] = []
    level = _tls_level(spec)
    cert = tls.cert
    if not tls.verified:
        found.append(Verdict(level, *_verify_sentence(tls)))
    if cert is not None and tls.verify_reason != "expired" and cert.expired:
        found.append(
            Verdict(
                level, _expired(cert.days_left), "Renew the certificate and reload the mail server."
            )
        )
    if tls.name_matches is False and tls.verify_reason != "name mismatch":
        found.append(Verdict(level, *_mismatch(tls)))
    if cert is not None and not cert.expired and cert.days_left < EXPIRY_WARNING_DAYS:
        found.append(
            Verdict(
                Level.WARNING,
                f"Certificate expires in {cert.days_left} days.",
                "Renew it now and check that automatic renewal works.",
            )
        )
    return found


def _verify_sentence(tls: TlsInfo) -> tuple[str, str]:
    cert = tls.cert
    reason = tls.verify_reason
    if reason == "expired" and cert is not None:
        return _expired(cert.days_left), "Renew the certificate and reload the mail server."
    if reason == "not yet valid" and cert is not None:
        start = dt.datetime.fromisoformat(cert.not_before).date().isoformat()
        return (
            f"Certificate is not valid before {start}.",
            "Check the server's clock and the certificate's start date.",
        )
    if reason == "self-signed":
        return (
            "Certificate is self-signed, so clients cannot trust it.",
            "Install a certificate from a public CA (for example Let's Encrypt).",
        )
    if reason in ("unknown CA", "self-signed CA (unknown CA)"):
        return _untrusted_chain(tls)
    if reason == "name mismatch":
        return _mismatch(tls)
    if reason in ("weak key", "weak CA key"):
        whose = "certificate's" if reason == "weak key" else "issuing CA's"
        key = f" ({cert.key})" if cert is not None and cert.key and reason == "weak key" else ""
        return (
            f"The {whose} key is too weak{key}: current clients refuse RSA keys under 2048 bits.",
            "Issue a new certificate with an RSA key of 2048 bits or more, or an ECDSA P-256 "
            "key (any current CA, such as Let's Encrypt, does).",
        )
    if reason == "weak signature":
        signed = f" with {cert.signature}" if cert is not None and cert.signature else ""
        return (
            f"The certificate is signed{signed}, a hash current clients no longer accept.",
            "Reissue it signed with SHA-256 (any current CA does).",
        )
    return (
        f"Certificate verification failed: {tls.verify_message}.",
        "Check the certificate chain with openssl s_client -showcerts.",
    )


FULL_CHAIN = (
    "Serve the full chain: the certificate followed by its intermediates, in one file "
    "(Let's Encrypt's fullchain.pem; Postfix smtpd_tls_chain_files or smtpd_tls_cert_file, "
    "Dovecot ssl_cert), then reload the server."
)


def _untrusted_chain(tls: TlsInfo) -> tuple[str, str]:
    """What is missing between the certificate and a CA clients trust, read from the chain
    the server sent: its intermediate, or a root the clients do not have."""
    cert = tls.cert
    issuer = common_name(cert.issuer) if cert else "an unknown issuer"
    if cert is not None and len(tls.chain) == 1 and not cert.self_signed:
        missing = "the intermediate certificate is missing"
        found = (
            f"{missing} (its CA publishes it at {tls.issuer_url})"
            if tls.issuer_url
            else f"{missing}, or {issuer} is a private CA"
        )
        return (
            f"The server sends only its own certificate, issued by {issuer}, and clients "
            f"with the usual root CAs cannot link it to one they trust: {found}.",
            FULL_CHAIN,
        )
    if len(tls.chain) > 1:
        top = common_name(tls.chain[-1].issuer)
        return (
            f"The server sends a chain of {len(tls.chain)} certificates ending at {top}, a CA "
            "that clients with the usual root CAs do not trust (a private CA, or a root they "
            "lack).",
            "Use a certificate from a public CA, or install this CA's root on every client "
            "(and in MAILPORT_CHECK_CA_FILE for this check).",
        )
    return (
        f"Certificate is issued by an unknown CA ({issuer}), or the intermediate certificate "
        "is missing.",
        FULL_CHAIN,
    )


_CN = re.compile(r"(?:^|,)CN=((?:[^,\\]|\\.)+)")


def common_name(name: str) -> str:
    """The CN of an RFC 4514 name (`CN=R11,O=Let's Encrypt,C=US` -> `R11`), else all of it."""
    found = _CN.search(name)
    return found.group(1).replace("\\", "") if found else name


def _expired(days_left: int) -> str:
    ago = -days_left
    if ago == 0:
        return "Certificate expired today."
    return f"Certificate expired {ago} day{'s' if ago != 1 else ''} ago."


def _mismatch(tls: TlsInfo) -> tuple[str, str]:
    names = ", ".join(tls.cert.sans[:3]) if tls.cert and tls.cert.sans else "other names"
    return (
        f"Certificate does not cover {tls.checked_name} (it names {names}).",
        f"Get a certificate that includes {tls.checked_name}, or point clients at a name it "
        "covers.",
    )


def _cleartext_login(r: PortResult) -> Verdict:
    offered = " ".join(r.auth_before_tls) or ("LOGIN" if r.protocol == "IMAP" else "USER")
    if r.protocol == "SMTP":
        fix = "Offer AUTH only after STARTTLS (Postfix: smtpd_tls_auth_only = yes)."
    else:
        fix = "Allow logins only after TLS (Dovecot: disable_plaintext_auth = yes)."
    return Verdict(
        Level.WARNING,
        f"Login ({offered}) is offered before TLS, so a client could send its "
        "password unencrypted.",
        fix,
    )


def _ok_summary(r: PortResult) -> str:
    if r.tls is None or r.tls.cert is None:
        return f"{r.protocol} answers on {r.port}."
    return (
        f"{r.protocol} works on {r.port}: {r.tls.version}, certificate valid for "
        f"{r.tls.cert.days_left} more days."
    )


def judge_host(host: HostResult) -> Verdict | None:
    """A verdict for a host that could not be checked at all (DNS failed, address refused)."""
    if host.refused:
        pairs = [(a.address, a.reason) for a in host.refused]
        if [a for a, _ in pairs] == [host.ascii_name]:  # an IP literal, not a name
            return Verdict(Level.FAIL, *refused_literal(*pairs[0]))
        shown = ", ".join(f"{a} ({r})" for a, r in pairs[:3])
        return Verdict(
            Level.FAIL,
            f"{host.name} resolves to {shown}; the live check does not connect to non-public "
            "addresses, so nothing was checked.",
            refused_next_step(pairs),
        )
    if host.error:
        return Verdict(
            Level.FAIL,
            f"{host.error}.",
            "Check the spelling and that the name is published in public DNS.",
        )
    return None


def judge_policy(policy: DomainPolicy) -> Verdict:
    """MTA-STS and TLS-RPT in one verdict: the worst finding, with the others as `also`."""
    findings = [_sts(policy)]
    if policy.tlsrpt_problem:
        findings.append(
            Verdict(
                Level.WARNING,
                f"TLS-RPT is published but unusable: {policy.tlsrpt_problem}.",
                f'Publish one TXT record at _smtp._tls.{policy.domain}: "v=TLSRPTv1; '
                f'rua=mailto:tls-reports@{policy.domain}" (RFC 8460).',
            )
        )
    elif policy.published and not policy.tlsrpt:
        findings.append(
            Verdict(
                Level.OK,
                f"No TLS-RPT record (_smtp._tls.{policy.domain}): senders' TLS failures are "
                "not reported to you.",
            )
        )
    elif policy.tlsrpt:
        findings.append(Verdict(Level.OK, f"TLS-RPT reports go to {', '.join(policy.tlsrpt[:3])}."))
    return _worst(findings)


def _sts(policy: DomainPolicy) -> Verdict:
    where = f"https://mta-sts.{policy.domain}/.well-known/mta-sts.txt"
    if not policy.published:
        return Verdict(
            Level.OK,
            f"No MTA-STS policy (_mta-sts.{policy.domain}): senders use TLS when port 25 "
            "offers it, but deliver without it or with a bad certificate.",
        )
    if policy.sts_problem:
        return Verdict(
            Level.WARNING,
            f"MTA-STS is published but unusable: {policy.sts_problem}. Senders without an "
            "earlier copy of the policy treat the domain as having none.",
            f"Serve the policy at {where} as text/plain, with a valid certificate for "
            f"mta-sts.{policy.domain} and no redirect, or remove the _mta-sts record.",
        )
    patterns = ", ".join(policy.mx_patterns)
    if policy.unmatched_mx and policy.mode in ("enforce", "testing"):
        hosts = ", ".join(policy.unmatched_mx)
        if policy.mode == "enforce":
            level, effect = Level.FAIL, "senders that honour MTA-STS will not deliver to it"
        else:
            level, effect = Level.WARNING, "in testing mode senders only report this"
        return Verdict(
            level,
            f"MTA-STS {policy.mode}: MX {hosts} matches none of the policy's mx patterns "
            f"({patterns}); {effect}.",
            f"Add the MX host to the mx: lines of {where} and change the id= of the "
            "_mta-sts TXT record, so senders fetch the new policy.",
        )
    meaning = {
        "enforce": "senders that honour it deliver only over TLS with a valid certificate",
        "testing": "senders report TLS problems but still deliver",
        "none": "the policy is being withdrawn",
    }[policy.mode or "none"]
    covered = f" (mx: {patterns})" if patterns else ""
    return Verdict(Level.OK, f"MTA-STS {policy.mode}{covered}: {meaning}.")


def apply_dane(host: HostResult) -> None:
    """Port 25 on an MX with TLSA records, as DANE senders see it (RFC 7672): with DNSSEC,
    a certificate no usable record matches, or no TLS at all, stops delivery."""
    if not host.tlsa:
        return
    for result in host.ports:
        if result.port == 25 and result.verdict is not None:
            result.verdict = _combined(result.verdict, _dane(host, result))


def _dane(host: HostResult, r: PortResult) -> Verdict:
    where = f"_25._tcp.{host.ascii_name}"
    if not host.tlsa_dnssec:
        return Verdict(
            Level.OK,
            f"{where} has TLSA records, but the bot's resolver did not vouch for them with "
            "DNSSEC; senders use DANE only when the zone is signed.",
        )
    records = [_tlsa(text) for text in host.tlsa]
    usable = [t for t in records if t is not None and t[0] in (2, 3) and t[2] in (1, 2)]
    if r.tls is None:
        return Verdict(
            Level.FAIL,
            f"DANE: {where} publishes TLSA records, so DANE senders deliver only over "
            "STARTTLS, which this check did not get.",
            "Offer STARTTLS on port 25 with the certificate the TLSA records name.",
        )
    leaf = r.tls.cert.dane if r.tls.cert else []
    issuers = [name for cert in r.tls.chain[1:] for name in cert.dane]
    for usage, selector, matching, data in usable:
        names = leaf if usage == 3 else issuers
        if f"{selector} {matching} {data}" in names:
            return Verdict(
                Level.OK,
                f"DANE: the certificate matches the DNSSEC-signed TLSA record "
                f"{usage} {selector} {matching} at {where}.",
            )
    spki = next((n.split()[2] for n in leaf if n.startswith("1 1 ")), "")
    said = "none of its records can be used for SMTP" if not usable else "no record matches"
    return Verdict(
        Level.FAIL,
        f"DANE: {where} is DNSSEC-signed but {said} the certificate the server sent, so "
        "DANE senders will not deliver to it.",
        f"Publish a TLSA record for the current key ({where} IN TLSA 3 1 1 {spki}), and at a "
        "certificate change publish the new one first and keep the old until the new is "
        "served (RFC 7671, RFC 7672).",
    )


def _tlsa(text: str) -> tuple[int, int, int, str] | None:
    """`3 1 1 ab12...` as (usage, selector, matching type, lower-case hex); None if not that."""
    parts = text.split()
    if len(parts) < 4 or not all(p.isdigit() for p in parts[:3]):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2]), "".join(parts[3:]).lower()


def _combined(verdict: Verdict, finding: Verdict) -> Verdict:
    """One port's verdict with one more finding: the worse leads, the other goes to `also`."""
    if finding.level.rank > verdict.level.rank:
        kept = [verdict.summary, *verdict.also] if verdict.level is not Level.OK else []
        return Verdict(finding.level, finding.summary, finding.next_step, kept)
    verdict.also.append(finding.summary)
    return verdict


def apply_policy(report: CheckReport) -> None:
    """Judge the domain's policy, and under an enforcing MTA-STS policy judge port 25 on the
    MX hosts it covers as TLS-required: a certificate problem there stops delivery."""
    policy = report.policy
    if policy is None:
        return
    policy.verdict = judge_policy(policy)
    if not policy.enforced:
        return
    required = dataclasses.replace(PORTS[25], tls_required=True)
    for host in report.hosts:
        if host.ascii_name in policy.unmatched_mx:
            continue
        for result in host.ports:
            if result.port != 25 or result.verdict is None:
                continue
            strict = judge(result, required)
            if strict.level.rank > result.verdict.level.rank:
                strict.summary += (
                    " The domain's MTA-STS policy is enforce, so senders that honour it do "
                    "not deliver here."
                )
                result.verdict = strict


def overall(report: CheckReport) -> Verdict:
    """The whole check's verdict: what happened to the checks ("1 check with warnings",
    "3 checks: 1 failed, 2 OK"), then the worst one in its own words."""
    rated: list[tuple[str, Verdict]] = []
    for host in report.hosts:
        if host.verdict is not None:
            rated.append(("", host.verdict))  # a host's own sentence names it
        rated.extend((p.where, p.verdict) for p in host.ports if p.verdict is not None)
    policy = report.policy
    if policy is not None and policy.verdict is not None and rated and _counted(policy):
        rated.append((policy.domain, policy.verdict))
    if not rated:
        note = report.notes[0] if report.notes else "Nothing was checked."
        return Verdict(Level.WARNING, note)
    if len(rated) == 1 and report.hosts[0].verdict is not None:
        return report.hosts[0].verdict  # one host that could not be checked: its own words
    tally = _tally([v.level for _, v in rated])
    where, worst = max(rated, key=lambda item: item[1].level.rank)
    if worst.level is Level.OK:
        return Verdict(Level.OK, f"{tally}.")
    found = f"{where}: {worst.summary}" if where else worst.summary
    return Verdict(worst.level, f"{tally}; {found}", worst.next_step)


def _counted(policy: DomainPolicy) -> bool:
    """A domain's policy is one of the checks when it publishes one or has a problem."""
    return policy.published or (policy.verdict is not None and policy.verdict.level is not Level.OK)


_OUTCOMES = ((Level.FAIL, "failed"), (Level.WARNING, "with warnings"), (Level.OK, "OK"))


def _tally(levels: list[Level]) -> str:
    """ "All 3 checks OK", "1 check with warnings", "2 checks failed", "3 checks: 1 failed,
    2 OK"."""
    total = len(levels)
    noun = "check" if total == 1 else "checks"
    counts = [(levels.count(level), label) for level, label in _OUTCOMES if level in levels]
    if len(counts) == 1:
        label = counts[0][1]
        every = "All " if label == "OK" and total > 1 else ""
        return f"{every}{total} {noun} {label}"
    return f"{total} {noun}: " + ", ".join(f"{count} {label}" for count, label in counts)
