"""What a live-check report says before any format: each port's facts as label/value pairs,
durations and reverse DNS in words. The terminal and Slack renderers both lay these out."""

from __future__ import annotations

from bot.check.report import DomainPolicy, HostResult, PortResult, TlsInfo


def duration(ms: float) -> str:
    """`25 ms` under a second, `2.4 s` from one second on."""
    return f"{ms:.0f} ms" if ms < 999.5 else f"{ms / 1000:.1f} s"


def ptr(ptr: str | None, confirmed: bool | None) -> str:
    """An address's reverse DNS name and whether it points back, in words."""
    if ptr is None:
        return "none"
    return f"{ptr} ({'points back' if confirmed else 'does not point back'})"


def facts(r: PortResult) -> list[tuple[str, str]]:
    """Label/value pairs shared by the terminal and Slack details."""
    facts: list[tuple[str, str]] = []
    if r.failure is not None:
        detail = f": {r.failure.detail}" if r.failure.detail else ""
        facts.append(("Stopped", f"{r.failure.step}, {r.failure.code}{detail}"))
    if r.banner is not None:
        facts.append(("Banner", r.banner.replace("\n", " | ")))
    if r.caps_before_tls:
        facts.append(("Before TLS", " ".join(r.caps_before_tls)))
        facts.append(("AUTH before TLS", " ".join(r.auth_before_tls) or "none"))
    if r.caps_after_tls:
        facts.append(("After TLS", " ".join(r.caps_after_tls)))
        facts.append(("AUTH after TLS", " ".join(r.auth_after_tls) or "none"))
    if r.tls is not None:
        facts += _tls_facts(r.tls)
    return facts


def _tls_facts(tls: TlsInfo) -> list[tuple[str, str]]:
    bits = f" ({tls.bits} bits)" if tls.bits else ""
    facts = [("TLS", f"{tls.version} {tls.cipher}{bits}")]
    if tls.verified:
        facts.append(("Verification", f"OK for {tls.checked_name}"))
    else:
        facts.append(
            (
                "Verification",
                f"FAILED: {tls.verify_reason} (OpenSSL {tls.verify_code}: {tls.verify_message})",
            )
        )
    cert = tls.cert
    if cert is not None:
        facts += [
            ("Certificate", cert.subject),
            ("Names (SAN)", ", ".join(cert.sans) or "none"),
            ("Issuer", cert.issuer + (" (self-signed)" if cert.self_signed else "")),
            (
                "Valid",
                f"{cert.not_before[:10]} to {cert.not_after[:10]} ({_days(cert.days_left)})",
            ),
        ]
    if tls.chain:
        sent = " → ".join(c.subject for c in tls.chain)
        facts.append(("Chain sent", f"{len(tls.chain)}: {sent}, issued by {tls.chain[-1].issuer}"))
    return facts


def _days(days_left: int) -> str:
    if days_left < 0:
        return f"expired {-days_left} days ago"
    return f"{days_left} days left"


def policy_facts(policy: DomainPolicy) -> list[tuple[str, str]]:
    """The domain's MTA-STS and TLS-RPT as label/value pairs."""
    if policy.sts_problem:
        sts = f"unusable: {policy.sts_problem}"
    elif policy.mode is not None:
        mx = ", ".join(policy.mx_patterns) or "none"
        sts = f"{policy.mode} (id {policy.sts_id}, max_age {policy.max_age} s, mx: {mx})"
    else:
        sts = "none published"
    rpt = policy.tlsrpt_problem or ", ".join(policy.tlsrpt) or "none published"
    return [("MTA-STS", sts), ("TLS-RPT", rpt)]


def tlsa(host: HostResult) -> str | None:
    """A host's TLSA records (DANE) in one line, and whether DNSSEC vouched for them."""
    if not host.tlsa:
        return None
    signed = "DNSSEC-signed" if host.tlsa_dnssec else "not vouched for by DNSSEC"
    records = "; ".join(host.tlsa[:4])
    return f"TLSA _25._tcp.{host.ascii_name} ({signed}): {records}"
